"""What every row needs, cached in the work directory: a generated bank, the production model,
the naive pipeline, 1,000 batch profiles, and the model published to a moto S3 endpoint."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final

from bench.datafiles import (
    SEED,
    generated,
    generated_rows,
    is_lone_class_error,
    log,
    without_lone_additions,
)
from bench.moto import moto_server
from bench.proc import BASE_ENV, ROOT

BANK: Final = "bench"
BUCKET: Final = "bench-models"
NAIVE_KEY: Final = "naive/pipeline.pkl"
BATCH: Final = 1000


@dataclass(frozen=True)
class Scale:
    """How much each row measures: the full benchmark or the quick check that it works."""

    quick: bool
    customers: int
    max_iter: int | None  # of the production model; None: TrainConfig's default
    naive_max_iter: int
    warm_requests: int
    batch_runs: int
    cold_runs: int
    train_rows: tuple[int, ...]
    train_max_iter: int | None  # None: bankreco train's default
    batch_size: int = BATCH  # profiles a batch request carries

    @property
    def profiles_suffix(self) -> str:
        return ".profiles.json" if self.batch_size == BATCH else f".profiles-{self.batch_size}.json"


FULL: Final = Scale(False, 60_000, None, 100, 3000, 31, 5, (1_000_000, 2_000_000, 4_000_000), None)
QUICK: Final = Scale(True, 2_000, 5, 5, 100, 2, 1, (8_000, 16_000), 3, 200)


@dataclass(frozen=True)
class Bench:
    """The prepared benchmark: files in `workdir` and the S3 endpoint serving the model."""

    workdir: Path
    scale: Scale
    data: Path
    model_dir: Path
    naive_model: Path
    profiles: Path
    endpoint: str
    store_uri: str
    key_id: str  # the bank's signing key in KMS on the endpoint
    summary: tuple[str, ...] = ()

    def serving_env(self) -> dict[str, str]:
        """The function's environment: template.yaml's fixed values (PRELOAD_MODEL,
        GLIBC_TUNABLES, Powertools), the bank's model on the S3 endpoint and the ARN of the
        KMS key its versions are verified with (as SIGNING_KEY_ID is set in AWS)."""
        return {
            **template_env(),
            "AWS_ENDPOINT_URL_S3": self.endpoint,
            "AWS_ENDPOINT_URL_KMS": self.endpoint,
            "MODEL_STORE_URI": self.store_uri,
            "BANK_ID": BANK,
            "SIGNING_KEY_ID": self.key_id,
        }


def template_env() -> dict[str, str]:
    """The environment variables template.yaml gives the function as plain strings (those
    built from parameters, such as the store's address, are left out)."""
    from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

    template = cfn_yaml.load(str(ROOT / "template.yaml"))
    function = template["Resources"]["PredictFunction"]["Properties"]
    layers = [template["Globals"]["Function"], function]
    variables = {
        name: value
        for layer in layers
        for name, value in layer.get("Environment", {}).get("Variables", {}).items()
    }
    return {name: str(value) for name, value in variables.items() if isinstance(value, str)}


def _trained(data: Path, out: Path, max_iter: int | None) -> Path:
    """The production model: `TrainConfig(all_months=True)` (fewer rounds only if asked)."""
    from bankreco.training.train import TrainConfig, train

    if not (out / "manifest.json").exists():
        log(f"training the production model -> {out}")
        config = TrainConfig(all_months=True, seed=SEED)
        if max_iter is not None:
            config = replace(config, max_iter=max_iter)
        train(data, out, config, progress=False)
    return out


def _naive(data: Path, out: Path, scale: Scale) -> Path:
    from bench.naive import train_naive

    if not out.exists():
        log(f"training the naive pipeline -> {out}")
        facts = train_naive(data, out, max_iter=scale.naive_max_iter)
        out.with_suffix(".json").write_text(json.dumps(facts))
    return out


def _models(workdir: Path, scale: Scale) -> tuple[Path, Path, Path, list[str]]:
    """The generated file, the production model and the naive pipeline, with notes. When
    either fit fails on a product added once, both learn from the file without it (reported)."""
    data = generated(workdir / "data" / f"bank-{scale.customers}.csv", scale.customers)
    failed = workdir / f"{data.stem}.failed"
    notes: list[str] = []
    if failed.exists():
        data, note = without_lone_additions(data, failed.read_text())
        notes.append(note)
        log(note)
    tag = f"{data.stem}-{scale.max_iter or 'default'}i"
    fits: list[tuple[str, Callable[[], Path]]] = [
        ("`bankreco train`", lambda: _trained(data, workdir / f"model-{tag}", scale.max_iter)),
        (
            "the naive pipeline's fit",
            lambda: _naive(data, workdir / f"naive-{tag}-{scale.naive_max_iter}i.pkl", scale),
        ),
    ]
    made = []
    for name, fit in fits:
        try:
            made.append(fit())
        except ValueError as exc:
            if failed.exists() or not is_lone_class_error(str(exc)):
                raise
            failed.write_text(name)
            return _models(workdir, scale)
    return data, made[0], made[1], notes


def _summary(data: Path, model_dir: Path, naive_model: Path, notes: list[str]) -> list[str]:
    manifest = json.loads((model_dir / "manifest.json").read_text())
    training = manifest["training"]
    naive = json.loads(naive_model.with_suffix(".json").read_text())
    return [
        f"data: `{data.name}`, {generated_rows(data):,} rows generated by "
        f"`bankreco.data.generate.generate` (seed {SEED}).",
        f"ours: `train(..., TrainConfig(all_months=True))` on {training['additions']:,} "
        f"additions of {len(training['months'])} months: {manifest['estimator']}, "
        f"{training['iterations']} iterations × {len(manifest['classes'])} classes, served "
        f"from its compact form ({manifest['compact']['bytes'] / 1e6:.1f} MB).",
        f"naive: OneHotEncoder + HistGradientBoostingClassifier on the same "
        f"{naive['examples']:,} examples (nine raw profile fields), {naive['iterations']} "
        f"iterations, pickled ({naive_model.stat().st_size / 1e6:.1f} MB).",
        *notes,
    ]


def batch_profiles(data: Path, out: Path, n: int = BATCH) -> Path:
    """`n` varied valid API profiles from the last month of `data`, as JSON."""
    if out.exists():
        return out
    import numpy as np

    from bankreco.api.schemas import CustomerProfile
    from bankreco.data.reader import list_months, read_snapshots
    from bankreco.features import RAW_FIELDS

    frame = read_snapshots(data, [list_months(data)[-1]]).frame
    order = np.random.default_rng(SEED).permutation(len(frame))
    profiles: list[dict[str, Any]] = []
    integers = {"age", "antiguedad", "ind_actividad_cliente"}
    for index in order:
        row = frame.iloc[int(index)]
        profile: dict[str, Any] = {}
        for name in RAW_FIELDS:
            value = row[name]
            if value is None or (isinstance(value, float) and np.isnan(value)):
                profile[name] = None
            elif name in integers:
                profile[name] = int(value)
            elif name == "renta":
                profile[name] = round(float(value), 2)
            else:
                profile[name] = str(value)
        try:
            CustomerProfile.model_validate(profile)
        except ValueError:
            continue
        profiles.append(profile)
        if len(profiles) == n:
            break
    if len(profiles) < n:
        raise RuntimeError(f"only {len(profiles)} valid profiles in the last month of {data}")
    out.write_text(json.dumps(profiles))
    return out


def publish(model_dir: Path, store_uri: str, kms_keys: dict[str, str], keys_dir: Path) -> str:
    """Publish the model, signed with the bank's KMS key if `kms_keys` names one, else with
    a local key pair in `keys_dir`."""
    from bankreco.domain.manifest import read_model_dir
    from bankreco.domain.registry import Policy, Registry
    from bankreco.signing.keys import KeyRing
    from bankreco.store import open_store

    registry = Registry(open_store(store_uri), KeyRing(kms_keys, keys_dir), Policy())
    return registry.publish(BANK, *read_model_dir(model_dir))


@contextmanager
def prepared(workdir: Path, scale: Scale) -> Iterator[Bench]:
    """Build (or reuse) the files, start the S3 endpoint, publish the model there and to a
    local store, and yield the prepared benchmark; the endpoint stops on exit."""
    workdir.mkdir(parents=True, exist_ok=True)
    data, model_dir, naive_model, notes = _models(workdir, scale)
    profiles = batch_profiles(data, data.with_suffix(scale.profiles_suffix), scale.batch_size)
    summary = tuple(_summary(data, model_dir, naive_model, notes))
    publish(model_dir, str(workdir / "models"), {}, workdir / "keys")
    endpoints = ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_KMS")
    saved = {k: os.environ.get(k) for k in (*BASE_ENV, *endpoints)}
    with moto_server() as endpoint:
        try:
            os.environ.update({**BASE_ENV, **dict.fromkeys(endpoints, endpoint)})
            import boto3

            key = boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
            key_id = str(key["KeyMetadata"]["Arn"])
            s3 = boto3.client("s3")
            s3.create_bucket(
                Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
            )
            s3.put_object(Bucket=BUCKET, Key=NAIVE_KEY, Body=naive_model.read_bytes())
            store_uri = f"s3://{BUCKET}/models"
            version = publish(model_dir, store_uri, {BANK: key_id}, workdir / "keys")
            log(f"published {BANK}/{version} to {store_uri} on {endpoint}, signed by {key_id}")
            yield Bench(
                workdir,
                scale,
                data,
                model_dir,
                naive_model,
                profiles,
                endpoint,
                store_uri,
                key_id,
                summary,
            )
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
