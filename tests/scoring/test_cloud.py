"""The cloud path against an S3 endpoint over HTTP (moto): the handlers with the events a
Distributed Map sends, and the whole definition run by the local runner, failures and re-runs
included."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from bankreco.domain.registry import Registry
from bankreco.scoring import cloud, models, run
from bankreco.scoring.statemachine import LocalStateMachine, load, map_state
from bankreco.store import open_store
from bench.scoring import profiles_file
from tests.conftest import Artifacts

ROOT = Path(__file__).resolve().parents[2]
DEFINITION = ROOT / "infra" / "batch-scoring.asl.json"
DATA = "bank-data"
KEY = "input/2016-06/customers.csv"
SHARD_KIB = 4


@pytest.fixture
def cloud_env(
    s3_store_uri: str, monkeypatch: pytest.MonkeyPatch, model_artifacts: list[Artifacts]
) -> Iterator[str]:
    """A data bucket and bank alpha's model on the endpoint; the functions' environment.
    Yields the published version."""
    s3 = boto3.client("s3")
    bucket = f"{DATA}-{abs(hash(s3_store_uri)) % 10**8}"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    version = Registry(open_store(s3_store_uri)).publish("alpha", *model_artifacts[0])
    env = {
        "DATA_BUCKET": bucket,
        "INPUT_PREFIX": "input",
        "OUTPUT_PREFIX": "output",
        "SHARD_MEGABYTES": str(SHARD_KIB / 1024),
        "MODEL_STORE_URI": s3_store_uri,
        "BANK_ID": "alpha",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    cloud.s3_client.cache_clear()
    cloud._model.cache_clear()
    yield version
    cloud.s3_client.cache_clear()


@pytest.fixture
def customers(bank_file: Path, tmp_path: Path, cloud_env: str) -> Path:
    """A test_ver2.csv-format file of 2,000 rows, uploaded to the input prefix."""
    path = profiles_file(bank_file, tmp_path / "customers.csv", 2000)
    boto3.client("s3").upload_file(str(path), _bucket(), KEY)
    return path


def _bucket() -> str:
    return os.environ["DATA_BUCKET"]


def _read(key: str) -> bytes:
    body: bytes = boto3.client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read()
    return body


def local_run(path: Path, tmp_path: Path, version: str) -> tuple[bytes, bytes]:
    """`bankreco score`'s output and rejects for the same file and model version."""
    store = open_store(os.environ["MODEL_STORE_URI"])
    model = models.published_model(Registry(store), "alpha", version)
    out = tmp_path / "local.csv"
    run.score_file(path, out, model, run.Options(bank="alpha", holdings="same"))
    return out.read_bytes(), run.rejects_path(out).read_bytes()


def body_rows(csv_bytes: bytes) -> list[bytes]:
    return csv_bytes.splitlines()[1:]


def test_the_score_handler_takes_the_maps_batches(
    customers: Path, cloud_env: str, tmp_path: Path
) -> None:
    started = cloud.split({"key": KEY, "output_prefix": "output/run-1"})
    job = started["job"]
    assert job["version"] == cloud_env
    assert started["manifest"] == {"bucket": _bucket(), "key": "output/run-1/pending.json"}
    items = json.loads(_read(started["manifest"]["key"]))  # what the JSON ItemReader reads
    assert (
        started["shards"]
        == len(items)
        == math.ceil((customers.stat().st_size - job["data_start"]) / (SHARD_KIB * 1024))
    )
    assert items[0] == {"shard": 0, "start": job["data_start"], "end": job["data_start"] + 4096}
    batches = [items[i : i + 2] for i in range(0, len(items), 2)]
    answers = [cloud.score({"Items": batch, "BatchInput": {"job": job}}) for batch in batches]
    assert [m["shard"] for a in answers for m in a["shards"]] == list(range(len(items)))
    parts = [_read(f"output/run-1/parts/part-{i:05d}.csv") for i in range(len(items))]
    local, _ = local_run(customers, tmp_path, cloud_env)
    assert [row for part in parts for row in body_rows(part)] == body_rows(local)
    assert {part.splitlines()[0] for part in parts} == {local.splitlines()[0]}


def _runner(**functions: Any) -> LocalStateMachine:
    return LocalStateMachine(DEFINITION, {**cloud.HANDLERS, **functions})


def test_the_definition_runs_locally(customers: Path, cloud_env: str, tmp_path: Path) -> None:
    execution = _runner().run({"key": KEY, "output_prefix": "output/run-2"})
    assert execution.status == "SUCCEEDED", execution.cause
    summary = json.loads(_read("output/run-2/summary.json"))
    shards = summary["shards"]
    per_batch = map_state(load(DEFINITION))["ItemBatcher"]["MaxItemsPerBatch"]
    assert execution.children == {"succeeded": math.ceil(shards / per_batch), "failed": 0}
    assert summary["complete"]
    assert summary["failed_shards"] == []
    local, local_rejects = local_run(customers, tmp_path, cloud_env)
    assert summary["rows"] == 2000
    assert summary["scored"] == len(body_rows(local))
    assert _read("output/run-2/rejects.csv") == local_rejects  # lines counted in the file
    assert execution.output == {k: v for k, v in summary.items() if k != "parts"}


def test_a_failed_batch_is_tolerated_and_a_rerun_scores_only_its_shards(
    customers: Path, cloud_env: str
) -> None:
    calls: list[list[int]] = []

    def flaky(event: dict[str, Any]) -> Any:
        shards = [item["shard"] for item in event["Items"]]
        if 7 in shards:  # the batch's shards before 7 are scored, then the call dies
            cloud.score({**event, "Items": event["Items"][: shards.index(7)]})
            raise RuntimeError("the shard's Lambda ran out of time")
        return scored(event)

    def scored(event: dict[str, Any]) -> Any:
        calls.append([item["shard"] for item in event["Items"]])
        return cloud.score(event)

    start = {"key": KEY, "output_prefix": "output/run-3"}
    first = _runner(ScoreFunctionArn=flaky).run(start)
    assert first.status == "SUCCEEDED"  # one failed child of 26 is within 5%
    assert first.children == {"succeeded": 25, "failed": 1}
    [failed] = json.loads(_read(_one("output/run-3/results/", "FAILED_0.json")))
    assert [item["shard"] for item in failed["Input"]["Items"]] == [6, 7]
    assert failed["Error"] == "RuntimeError"
    summary = json.loads(_read("output/run-3/summary.json"))
    assert summary["failed_shards"] == [7]  # shard 6 was done before 7 failed
    assert not summary["complete"]
    assert summary["rejects"] is None
    parts = _etags("output/run-3/parts/")
    calls.clear()
    second = _runner(ScoreFunctionArn=scored).run(start)
    assert second.status == "SUCCEEDED"
    assert calls == [[7]]  # the re-run scores the shard without output, and only it
    assert json.loads(_read("output/run-3/summary.json"))["complete"]
    after = _etags("output/run-3/parts/")
    assert {key for key in after if after[key] != parts.get(key)} == {
        "output/run-3/parts/part-00007.csv"
    }


def test_too_many_failed_batches_fail_the_run(customers: Path, cloud_env: str) -> None:
    def broken(event: dict[str, Any]) -> Any:
        if event["Items"][0]["shard"] % 10 == 0:
            raise RuntimeError("no")
        return cloud.score(event)

    execution = _runner(ScoreFunctionArn=broken).run({"key": KEY, "output_prefix": "output/r4"})
    assert execution.status == "FAILED"
    assert execution.error == "States.ExceedToleratedFailureThreshold"
    assert execution.children["failed"] == 6  # the batches starting at shards 0, 10, ..., 50


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ({"key": "elsewhere/customers.csv", "output_prefix": "output/x"}, "not under INPUT_PREFIX"),
        ({"key": KEY, "output_prefix": "input/x"}, "not under OUTPUT_PREFIX"),
        ({"key": "input/customers.csv.gz", "output_prefix": "output/x"}, "not archives"),
        ({"key": KEY, "output_prefix": "output/x", "top_k": 30}, "top_k 1-24"),
    ],
)
def test_the_splitter_refuses_bad_starts(
    customers: Path, start: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cloud.split(start)


def _one(prefix: str, name: str) -> str:
    listed = boto3.client("s3").list_objects_v2(Bucket=_bucket(), Prefix=prefix)
    [key] = [item["Key"] for item in listed["Contents"] if item["Key"].endswith("/" + name)]
    return key


def _etags(prefix: str) -> dict[str, str]:
    listed = boto3.client("s3").list_objects_v2(Bucket=_bucket(), Prefix=prefix)
    return {item["Key"]: item["ETag"] + str(item["LastModified"]) for item in listed["Contents"]}


def test_a_file_with_a_header_alone(cloud_env: str) -> None:
    header = "sexo,age,segmento,antiguedad,tiprel_1mes,renta,pais_residencia,"
    header += "ind_actividad_cliente,nomprov\n"
    boto3.client("s3").put_object(Bucket=_bucket(), Key="input/empty.csv", Body=header.encode())
    execution = _runner().run({"key": "input/empty.csv", "output_prefix": "output/empty"})
    assert execution.status == "SUCCEEDED", execution.cause
    assert execution.children == {"succeeded": 0, "failed": 0}
    summary = json.loads(_read("output/empty/summary.json"))
    assert (summary["shards"], summary["rows"], summary["complete"]) == (0, 0, True)
    assert _read("output/empty/rejects.csv") == b"line,field,reason,value\n"
