"""Work done in the init phase, and SnapStart's after-restore hook."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bankreco.api.lifecycle import renew_after_restore
from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.domain.service import get_recommender
from bankreco.store.local import LocalStore
from tests.conftest import ROOT, Handler, api_event, example_body

Artifacts = list[tuple[Manifest, dict[str, bytes]]]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MODEL_STORE_URI", str(tmp_path))
    monkeypatch.setenv("BANK_ID", "demo")
    return tmp_path


def test_preload_loads_the_stage_model_when_the_function_is_imported(
    store: Path, monkeypatch: pytest.MonkeyPatch, model_artifacts: Artifacts
) -> None:
    version = Registry(LocalStore(store)).publish("demo", *model_artifacts[0])
    monkeypatch.setenv("PRELOAD_MODEL", "true")
    from bankreco.cli import load_function

    load_function(ROOT / "functions" / "predict" / "app.py")
    assert get_recommender().cache.cached() == {"demo": version}


def test_preload_without_a_model_does_not_fail_the_init(
    store: Path, monkeypatch: pytest.MonkeyPatch, invoke: Handler
) -> None:
    monkeypatch.setenv("PRELOAD_MODEL", "true")
    status, body = invoke(api_event("POST", "/recommendations", example_body(1)))
    assert (status, body["error"]["code"]) == (503, "model_not_published")


def test_after_restore_connections_are_new_and_models_kept(
    store: Path, model_artifacts: Artifacts, invoke: Handler
) -> None:
    Registry(LocalStore(store)).publish("demo", *model_artifacts[0])
    assert invoke(api_event("POST", "/recommendations", example_body(1)))[0] == 200
    recommender = get_recommender()
    before = recommender.cache.store
    cached = recommender.cache.cached()
    renew_after_restore()
    assert recommender.cache.store is not before
    assert recommender.cache.cached() == cached
    assert invoke(api_event("POST", "/recommendations", example_body(1)))[0] == 200


def test_a_failed_init_still_turns_the_garbage_collector_back_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MODEL_STORE_URI", "s3://")  # no bucket: the store cannot be built
    from bankreco.cli import load_function

    with pytest.raises(ValueError, match="no bucket"):
        load_function(ROOT / "functions" / "predict" / "app.py")
    assert gc.isenabled()


def test_the_init_phase_leaves_a_disabled_collector_disabled(store: Path) -> None:
    from bankreco.cli import load_function

    gc.disable()
    try:
        load_function(ROOT / "functions" / "predict" / "app.py")
        assert not gc.isenabled()
    finally:
        gc.enable()


def last_line_of(script: str, env: dict[str, str]) -> str:
    """The last line `script` prints in a new process, given the function file's path."""
    app = str(ROOT / "functions" / "predict" / "app.py")
    done = subprocess.run(
        [sys.executable, "-c", script, app],
        check=False,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


IMPORT_APP = """
import sys
from pathlib import Path
from bankreco.cli import load_function
load_function(Path(sys.argv[1]))
from bankreco.observability import tracer
print(type(tracer).__name__, "aws_xray_sdk" in sys.modules)
"""


@pytest.mark.parametrize(
    ("disabled", "expected"), [("true", "NoTracer False"), ("false", "Tracer True")]
)
def test_the_xray_sdk_is_imported_only_when_tracing_is_on(
    store: Path, disabled: str, expected: str
) -> None:
    env = {"POWERTOOLS_TRACE_DISABLED": disabled, "PRELOAD_MODEL": "false"}
    assert last_line_of(IMPORT_APP, env) == expected


SWAGGER_ON_DEMAND = """
import sys
from pathlib import Path
from bankreco.cli import load_function
from tests.conftest import LocalContext, api_event

MODELS = "aws_lambda_powertools.event_handler.openapi.models"
app = load_function(Path(sys.argv[1]))
before = MODELS in sys.modules
status = app.lambda_handler(api_event("GET", "/swagger"), LocalContext())["statusCode"]
print(before, status, MODELS in sys.modules)
"""


def test_the_openapi_models_are_imported_only_for_the_swagger_page(store: Path) -> None:
    # Powertools' OpenAPI models are slow to import (see the cold row of docs/performance.md)
    assert last_line_of(SWAGGER_ON_DEMAND, {"PRELOAD_MODEL": "false"}) == "False 200 True"


S3_CLIENT_ONLY = """
import sys
from bankreco.store.s3 import S3Store
S3Store("s3://bucket/models")
print(sorted({"boto3", "s3transfer", "botocore"} & set(sys.modules)))
"""


def test_the_s3_store_needs_botocore_only() -> None:
    # boto3 and s3transfer would add to every cold start, for nothing the store uses
    env = {"AWS_DEFAULT_REGION": "eu-west-1"}
    assert last_line_of(S3_CLIENT_ONLY, env) == "['botocore']"


BATCH_WITHOUT_COLLECTIONS = """
import gc, json, sys
from pathlib import Path
from bankreco.cli import load_function
from bankreco.api.lifecycle import GC_YOUNG_THRESHOLD
from tests.conftest import LocalContext, api_event, example_body

# The loader's own work before app.py's first line (about 260 young objects) runs with the
# collector on, as in the Lambda runtime: start from an empty young generation so that it
# cannot reach the threshold (700) and only the init phase is judged.
gc.collect()
collected = sum(generation["collections"] for generation in gc.get_stats())
app = load_function(Path(sys.argv[1]))
assert sum(generation["collections"] for generation in gc.get_stats()) == collected  # init
assert gc.isenabled() and gc.get_threshold()[0] == GC_YOUNG_THRESHOLD
assert gc.get_freeze_count() > 10_000
collections = []
gc.callbacks.append(lambda phase, info: collections.append(info["generation"]))
customers = [example_body(1 + i % 3) | {"customer_id": str(i)} for i in range(1000)]
event = api_event("POST", "/recommendations/batch", {"customers": customers})
for _ in range(3):
    response = app.lambda_handler(event, LocalContext())
assert response["statusCode"] == 200, response
print(len(json.loads(response["body"])["results"]), collections)
"""


def test_a_batch_runs_without_garbage_collections(store: Path, model_artifacts: Artifacts) -> None:
    """The init phase freezes what it made and raises the young threshold (service.py)."""
    Registry(LocalStore(store)).publish("demo", *model_artifacts[0])
    env = {"PRELOAD_MODEL": "true", "PYTHONPATH": str(ROOT)}
    assert last_line_of(BATCH_WITHOUT_COLLECTIONS, env) == "1000 []"
