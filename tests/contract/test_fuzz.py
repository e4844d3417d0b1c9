"""The API keeps its document: Schemathesis sends cases generated from the committed
docs/openapi.json (valid ones and invalid ones) to the real handler, through the WSGI
application, and checks every answer against the document: never a 5xx, only documented
status codes, content types and bodies, valid data accepted and invalid data refused.

BANKRECO_FUZZ_CASES sets how many cases to aim at in all (`make fuzz` asks for 20,000); the
run is derandomized, so it is the same on every machine.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Final

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from bankreco.api.wsgi import Application
from tests.conftest import ROOT
from tests.contract import figures

DOCUMENT: Final = ROOT / "docs" / "openapi.json"
CASES: Final = int(os.environ.get("BANKRECO_FUZZ_CASES", "2000"))
OPERATIONS: Final = 4
#: Statuses a valid request may get: an answer, or an unknown bank (valid, but not served).
ACCEPTED: Final = ["200", "404"]
#: Statuses an invalid request may get.
REFUSED: Final = ["400", "405", "413", "415"]

config = schemathesis.Config.from_dict(
    {
        "seed": 20261202,
        "generation": {
            "mode": "all",
            "max-examples": CASES // OPERATIONS,
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": False},
        },
        "checks": {
            "enabled": True,
            "positive_data_acceptance": {"expected-statuses": ACCEPTED},
            "negative_data_rejection": {"expected-statuses": REFUSED},
            "max_response_time": 10.0,
        },
    }
)


schema = schemathesis.openapi.from_path(DOCUMENT, config=config)
schema.app = Application()


@pytest.fixture
def counted(published: str) -> Iterator[None]:
    """Fail an operation that ran fewer cases than its share."""
    before = figures.ran()
    yield
    ran = figures.ran() - before
    assert ran >= CASES // OPERATIONS, f"{ran} cases run"


def fuzz(method: str, path: str) -> Callable[..., None]:
    """The test of one operation. One test function per operation, not one parametrized
    function: under pytest 9.2 Schemathesis gives the items of one function a single node
    id, and pytest-xdist then runs only one of them."""

    @schema.include(method=method, path=path).parametrize()
    @settings(
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
        deadline=None,
    )
    def test(case: schemathesis.Case, counted: None) -> None:
        meta = case.meta
        assert meta is not None
        response = case.call()
        figures.record(case.operation.label, meta.phase.name.value, meta.generation.mode.value,
                       response.status_code)  # fmt: skip
        case.validate_response(response)

    return test


test_recommendations = fuzz("POST", "/recommendations")
test_recommendations_batch = fuzz("POST", "/recommendations/batch")
test_legacy_predict = fuzz("POST", "/Predictor/Predict")
test_models_current = fuzz("GET", "/models/current")
FUZZED: Final = {
    ("POST", "/recommendations"),
    ("POST", "/recommendations/batch"),
    ("POST", "/Predictor/Predict"),
    ("GET", "/models/current"),
}


def test_every_operation_of_the_document_is_fuzzed() -> None:
    document = json.loads(DOCUMENT.read_text())
    operations = {(m.upper(), path) for path, ops in document["paths"].items() for m in ops}
    assert operations == FUZZED
    assert len(FUZZED) == OPERATIONS
