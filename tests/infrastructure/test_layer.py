"""layers/build_layer.py builds the layer `sam build` deploys, within Lambda's size limit.

The Lambda build (CPython 3.12, manylinux aarch64) cannot be imported on this machine, so its
contents are checked on disk; the same recipe built with ``--local`` is imported for real.
pip downloads from PyPI (wheels only).  Most builds run the script as `sam build` does; the
sklearn layer for this Python is built through the module's API (``build_layer()``), as the
benchmark's size row builds it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from layers.build_layer import (
    RUNTIME_PROVIDED,
    BuildError,
    LayerBuild,
    LayerSpec,
    build_layer,
    remove_runtime_provided,
)

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "layers" / "build_layer.py"
FUNCTION_DIR = ROOT / "functions" / "predict"
TIMEOUT = 900
LAMBDA_ENV = {
    "python_version": "3.12",
    "python_full_version": "3.12.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "platform_machine": "aarch64",
    "platform_system": "Linux",
    "sys_platform": "linux",
    "os_name": "posix",
}
#: What the layer leaves out for the runtime's copies: top-level names and distributions.
RUNTIME_TOP_LEVELS = tuple(name for names in RUNTIME_PROVIDED.values() for name in names)
RUNTIME_DISTS = {canonicalize_name(name) for name in RUNTIME_PROVIDED}
NEEDED = (
    "numpy",
    "pydantic",
    "pydantic_core",
    "aws_lambda_powertools",
    "aws_xray_sdk",
    "bankreco",
    "bankreco/py.typed",
)
SKLEARN_REQUIREMENTS = ROOT / "layers" / "sklearn" / "requirements.in"
SKLEARN_LAYER = (
    "--requirements",
    str(SKLEARN_REQUIREMENTS),
    "--omit",
    "numpy",
    "--without-project",
    "--max-unzipped-mb",
    "0",
)
SIZES = re.compile(r"^\s*(layer|function|total)\s+unzipped\s+([\d.]+) MB\s+zipped\s+([\d.]+) MB")


@dataclass(frozen=True)
class Build:
    out: Path
    result: subprocess.CompletedProcess[str]

    @property
    def site(self) -> Path:
        return self.out / "python"

    def log(self) -> str:
        return f"stdout:\n{self.result.stdout[-4000:]}\nstderr:\n{self.result.stderr[-4000:]}"

    def sizes(self) -> dict[str, tuple[float, float]]:
        found = (SIZES.match(line) for line in self.result.stdout.splitlines())
        return {m[1]: (float(m[2]), float(m[3])) for m in found if m}


def run_build(out: Path, *extra: str) -> Build:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    return Build(out, result)


@pytest.fixture(scope="module")
def lambda_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    out = tmp_path_factory.mktemp("lambda-layer")
    return run_build(out, "--function-dir", str(FUNCTION_DIR))


@pytest.fixture(scope="module")
def sklearn_lambda_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    out = tmp_path_factory.mktemp("sklearn-layer")
    return run_build(out, *SKLEARN_LAYER)


@pytest.fixture(scope="module")
def sklearn_local_build(tmp_path_factory: pytest.TempPathFactory) -> LayerBuild:
    """The sklearn layer's recipe (as layers/Makefile passes it) for this Python, built in this
    process by ``build_layer()``; its output goes to OUT/build.log."""
    out = tmp_path_factory.mktemp("sklearn-local-layer")
    spec = LayerSpec(
        out=out,
        requirements=SKLEARN_REQUIREMENTS,
        omit=("numpy",),
        without_project=True,
        local=True,
    )
    log_path = out / "build.log"
    with log_path.open("w", encoding="utf-8") as log:
        try:
            return build_layer(spec, log=log)
        except BuildError as exc:
            log.flush()
            pytest.fail(f"{exc}\n{log_path.read_text(encoding='utf-8')[-4000:]}")


@pytest.fixture(scope="module")
def local_build_over_limit(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The ``--local`` recipe with a limit it cannot meet: it fails, but leaves the build."""
    out = tmp_path_factory.mktemp("local-layer")
    return run_build(out, "--local", "--max-unzipped-mb", "1")


def lock_pins(environment: dict[str, str]) -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith((" ", "#", "-")):
            continue
        requirement, _, marker = line.partition(";")
        if marker.strip() and not Marker(marker.strip()).evaluate(environment):
            continue
        name, _, version = requirement.strip().partition("==")
        pins[canonicalize_name(name)] = version
    return pins


def installed(site: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for dist_info in site.glob("*.dist-info"):
        meta = (dist_info / "METADATA").read_text(encoding="utf-8").splitlines()
        fields = dict(line.split(": ", 1) for line in meta[:20] if ": " in line)
        found[canonicalize_name(fields["Name"])] = fields["Version"]
    return found


def test_lambda_build_succeeds_and_reports_sizes(lambda_build: Build) -> None:
    assert lambda_build.result.returncode == 0, lambda_build.log()
    sizes = lambda_build.sizes()
    assert set(sizes) == {"layer", "function", "total"}, lambda_build.log()
    unzipped, zipped = sizes["total"]
    assert 0 < zipped < unzipped, lambda_build.log()
    assert unzipped <= 150, lambda_build.log()  # the performance goal; Lambda allows 250
    assert zipped <= 50, lambda_build.log()
    assert sizes["function"][0] > 0


def test_runtime_provided_packages_are_left_out(lambda_build: Build) -> None:
    for name in RUNTIME_TOP_LEVELS:
        assert not (lambda_build.site / name).exists(), name
    assert not RUNTIME_DISTS & set(installed(lambda_build.site))


def test_removal_follows_the_runtime_provided_list(tmp_path: Path) -> None:
    """Every distribution of the list, with what it installs, goes; anything else stays."""
    site = tmp_path / "python"
    for dist, top_levels in [*RUNTIME_PROVIDED.items(), ("numpy", ("numpy",))]:
        dist_info = site / f"{dist.replace('-', '_')}-1.0.dist-info"
        dist_info.mkdir(parents=True)
        (dist_info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\n\n")
        for name in top_levels:
            module = site / name if name.endswith(".py") else site / name / "__init__.py"
            module.parent.mkdir(parents=True, exist_ok=True)
            module.write_text("")
    removed = remove_runtime_provided(site)
    assert {canonicalize_name(name.rsplit("-", 1)[0]) for name in removed} == RUNTIME_DISTS
    assert sorted(path.name for path in site.iterdir()) == ["numpy", "numpy-1.0.dist-info"]


def test_the_bench_uses_the_runtime_provided_list() -> None:
    """The size row leaves out of the naive side, and the cold row counts as the runtime's
    bytecode, what the layer build leaves out: one list."""
    from bench import rows, size

    assert size.RUNTIME_DISTS == RUNTIME_DISTS
    modules = {f"{name}.py" for name in rows.RUNTIME_MODULES}
    assert {*rows.RUNTIME_PACKAGES, *modules} == set(RUNTIME_TOP_LEVELS)


def test_what_the_function_imports_is_there(lambda_build: Build) -> None:
    for name in NEEDED:
        assert (lambda_build.site / name).exists(), name
    assert "bankreco" in installed(lambda_build.site)
    assert not {"scikit-learn", "scipy", "pandas"} & set(installed(lambda_build.site))


def test_sklearn_layer_fits_beside_the_bankreco_layer(
    lambda_build: Build, sklearn_lambda_build: Build
) -> None:
    assert sklearn_lambda_build.result.returncode == 0, sklearn_lambda_build.log()
    versions = installed(sklearn_lambda_build.site)
    assert {"scikit-learn", "scipy"} <= set(versions)
    assert not {"numpy", "bankreco", "boto3", "botocore"} & set(versions)
    both = sklearn_lambda_build.sizes()["total"][0] + lambda_build.sizes()["total"][0]
    assert both < 250, (both, sklearn_lambda_build.log())


def test_binaries_are_for_lambda_arm64_python312(lambda_build: Build) -> None:
    extensions = [p.name for p in lambda_build.site.rglob("*.so") if ".cpython-" in p.name]
    assert extensions
    wrong = [name for name in extensions if "cpython-312-aarch64-linux-gnu" not in name]
    assert not wrong, wrong[:10]


def test_versions_are_the_locks_pins_for_the_target(lambda_build: Build) -> None:
    pins = lock_pins(LAMBDA_ENV)
    versions = installed(lambda_build.site)
    versions.pop("bankreco")
    assert versions
    assert {name: pins.get(name) for name in versions} == versions


def test_layer_is_slimmed(lambda_build: Build) -> None:
    site = lambda_build.site
    assert not (site / "bin").exists()
    leftovers = [
        p.relative_to(site)
        for p in site.rglob("*")
        if (p.is_dir() and p.name in {"__pycache__", "tests"})
        or p.suffix in {".pyc", ".pyx", ".pxd", ".c", ".cpp", ".h"}
    ]
    assert not leftovers, leftovers[:10]


def test_too_small_a_limit_fails_with_a_clear_message(local_build_over_limit: Build) -> None:
    result = local_build_over_limit.result
    assert result.returncode == 1, local_build_over_limit.log()
    assert "exceeds --max-unzipped-mb 1" in result.stderr
    assert "total" in local_build_over_limit.sizes()


def test_local_build_imports(local_build_over_limit: Build, tmp_path: Path) -> None:
    """Slimming removed nothing these packages import; the layer's copies are the ones used."""
    site = local_build_over_limit.site
    code = (
        "import importlib, json, sys\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "names = ['numpy', 'pydantic', 'aws_lambda_powertools.event_handler',\n"
        "         'aws_xray_sdk.core', 'bankreco', 'bankreco.api.schemas',\n"
        "         'bankreco.domain.service']\n"
        "print(json.dumps({n: importlib.import_module(n).__file__ for n in names}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    files = json.loads(result.stdout.splitlines()[-1])
    outside = {name: path for name, path in files.items() if not path.startswith(str(site))}
    assert not outside


@pytest.fixture(scope="module")
def lambda_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the Lambda Python runtime ships besides the standard library: boto3 and its
    dependencies and snapshot_restore_py, at the lock's pins (the layer leaves them out)."""
    target = tmp_path_factory.mktemp("runtime")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--target",
            str(target),
            "-c",
            str(ROOT / "requirements.lock"),
            "boto3",
            "snapshot-restore-py",
        ],
        check=True,
        timeout=TIMEOUT,
    )
    return target


def run_handler_in_layers(
    layers: Sequence[Path], artifacts: Any, tmp_path: Path, env: dict[str, str] | None = None
) -> tuple[str, dict[str, Any], list[str]]:
    """Publish `artifacts` to a local store, then answer example 1 in `python -I -S` (no
    site-packages, no PYTHONPATH) with only `layers` and the function on sys.path."""
    from bankreco.domain.registry import Registry
    from bankreco.store.local import LocalStore

    store = tmp_path / "models"
    version = Registry(LocalStore(store)).publish("demo", *artifacts)
    code = (
        "import json, sys\n"
        f"sys.path[:0] = {[str(p) for p in [*layers, FUNCTION_DIR]]!r}\n"
        "import app\n"
        "from bankreco.api.events import LocalContext\n"
        f"event = json.load(open({str(ROOT / 'events' / 'predict_example_1.json')!r}))\n"
        "response = app.lambda_handler(event, LocalContext())\n"
        "print('RESULT', json.dumps(response))\n"
        "print('FILES', json.dumps([m.__file__ for n, m in sorted(sys.modules.items())\n"
        "      if n in {'app', 'numpy', 'pydantic', 'sklearn', 'bankreco'}]))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "MODEL_STORE_URI": str(store),
        "BANK_ID": "demo",
        "SIGNING_KEYS_DIR": os.environ["SIGNING_KEYS_DIR"],  # the tests' trusted keys
        "POWERTOOLS_SERVICE_NAME": "bankreco",
        "POWERTOOLS_METRICS_NAMESPACE": "Bankreco",
        "POWERTOOLS_TRACE_DISABLED": "true",
        **(env or {}),
    }
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    lines = dict(
        line.split(" ", 1)
        for line in result.stdout.splitlines()
        if line[:6] in {"RESULT", "FILES "}
    )
    return version, json.loads(lines["RESULT"]), json.loads(lines["FILES"])


def test_runtime_provided_is_what_the_runtime_fixture_installs(lambda_runtime: Path) -> None:
    """The list is boto3's dependency closure at the lock's pins plus snapshot-restore-py,
    each with its top-level names."""
    assert set(installed(lambda_runtime)) == RUNTIME_DISTS
    for name in RUNTIME_TOP_LEVELS:
        assert (lambda_runtime / name).exists(), name


def test_handler_answers_from_the_layer_alone(
    local_build_over_limit: Build, lambda_runtime: Path, tmp_path: Path
) -> None:
    """The layer recipe, built for this Python, with the runtime's boto3, is all the handler
    needs to serve a bankreco model (its compact form: no scikit-learn anywhere)."""
    from tests.conftest import make_model

    layers = [local_build_over_limit.site, lambda_runtime]
    version, response, files = run_handler_in_layers(layers, make_model(0), tmp_path)
    assert response["statusCode"] == 200, response
    body = json.loads(response["body"])
    assert body["model_version"] == version
    assert len(body["recommendations"]) == 7
    assert len(files) == 4  # app, bankreco, numpy, pydantic: sklearn never imported
    assert files[0].startswith(str(FUNCTION_DIR))
    assert all(f.startswith(str(local_build_over_limit.site)) for f in files[1:]), files


def test_build_layer_reports_what_it_built(sklearn_local_build: LayerBuild) -> None:
    """The module's API: the result describes the files on disk; the build's output, pip's
    included, went to the log it was given."""
    build = sklearn_local_build
    assert build.bytecode
    assert list(build.site.glob("sklearn/__pycache__/*.pyc"))
    assert any(name.startswith("numpy-") for name in build.removed)
    assert not (build.site / "numpy").exists()
    files = [p for p in build.site.rglob("*") if p.is_file() and not p.is_symlink()]
    assert build.layer.unzipped == sum(p.stat().st_size for p in files)
    assert 0 < build.layer.zipped < build.layer.unzipped
    assert build.function is None
    assert build.total == build.layer
    log = (build.site.parent / "build.log").read_text(encoding="utf-8")
    assert "Successfully installed" in log
    assert "bytecode: compiled" in log


def test_estimators_without_a_compact_form_need_the_opt_in_and_the_sklearn_layer(
    local_build_over_limit: Build,
    sklearn_local_build: LayerBuild,
    lambda_runtime: Path,
    tmp_path: Path,
) -> None:
    """A signed skops form is served only with SERVE_ANY_ESTIMATOR=true and the sklearn layer
    (scikit-learn, skops); a pickle alone is never served."""
    from bankreco.cli import with_skops_form
    from tests.conftest import make_model

    pickled = make_model(2, compact=False)
    base = [local_build_over_limit.site, lambda_runtime]
    opt_in = {"SERVE_ANY_ESTIMATOR": "true"}
    _, response, _ = run_handler_in_layers(base, pickled, tmp_path / "pickle", opt_in)
    assert response["statusCode"] == 503, response
    assert json.loads(response["body"])["error"]["code"] == "model_rejected"
    portable = with_skops_form(*pickled)
    _, response, _ = run_handler_in_layers(base, portable, tmp_path / "without", opt_in)
    assert response["statusCode"] == 503, response
    with_sklearn = [*base, sklearn_local_build.site]
    version, response, files = run_handler_in_layers(
        with_sklearn, portable, tmp_path / "with", opt_in
    )
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"])["model_version"] == version
    assert any(f.startswith(str(sklearn_local_build.site)) for f in files), files


def test_bytecode_is_shipped_when_the_build_python_is_the_target(
    local_build_over_limit: Build, lambda_build: Build
) -> None:
    """Lambda's /opt is read-only: without .pyc every cold start compiles every module."""
    assert list((local_build_over_limit.site / "bankreco").glob("__pycache__/*.pyc"))
    assert "bytecode: compiled" in local_build_over_limit.result.stdout
    if sys.version_info[:2] != (3, 12):
        assert "note: no bytecode" in lambda_build.result.stdout
