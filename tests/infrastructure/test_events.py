"""events/: API Gateway REST (v1 proxy) events for `sam local invoke -e` and `bankreco invoke`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLE_BODIES

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
EXPECTED = {
    "predict_example_1.json": ("POST", "/recommendations"),
    "predict_example_2.json": ("POST", "/recommendations"),
    "predict_example_3.json": ("POST", "/recommendations"),
    "predict_bad_request.json": ("POST", "/recommendations"),
    "batch.json": ("POST", "/recommendations/batch"),
    "legacy_predict.json": ("POST", "/Predictor/Predict"),
    "models_current.json": ("GET", "/models/current"),
}
PROXY_KEYS = {
    "resource",
    "path",
    "httpMethod",
    "headers",
    "multiValueHeaders",
    "queryStringParameters",
    "pathParameters",
    "requestContext",
    "body",
    "isBase64Encoded",
}
EXAMPLES = EXAMPLE_BODIES  # the original service's three requests, verbatim


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))
    return event


def body(name: str) -> Any:
    return json.loads(load(name)["body"])


def test_every_event_file_is_expected() -> None:
    assert {p.name for p in EVENTS_DIR.glob("*.json")} == set(EXPECTED)
    assert (EVENTS_DIR / "README.md").is_file()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_proxy_event_shape(name: str) -> None:
    event = load(name)
    assert set(event) >= PROXY_KEYS
    method, path = EXPECTED[name]
    assert (event["httpMethod"], event["resource"], event["path"]) == (method, path, path)
    assert event["queryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["isBase64Encoded"] is False
    headers = {k.lower(): v for k, v in event["headers"].items()}
    assert headers["x-api-key"]
    assert event["multiValueHeaders"] == {k: [v] for k, v in event["headers"].items()}
    context = event["requestContext"]
    assert context["resourcePath"] == path
    assert context["httpMethod"] == method
    assert context["stage"] == "demo"
    assert context["requestId"]
    assert context["identity"]["sourceIp"]
    assert context["apiId"]
    assert context["accountId"]
    if method == "POST":
        assert headers["content-type"] == "application/json"
        assert isinstance(event["body"], str)
        assert isinstance(json.loads(event["body"]), dict)
    else:
        assert event["body"] is None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_route_is_served_by_the_template(name: str, api_routes: set[tuple[str, str]]) -> None:
    event = load(name)
    assert (event["httpMethod"], event["resource"]) in api_routes


def test_request_ids_are_distinct() -> None:
    ids = [load(name)["requestContext"]["requestId"] for name in EXPECTED]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize("number", [1, 2, 3])
def test_example_bodies(number: int) -> None:
    assert body(f"predict_example_{number}.json") == EXAMPLES[number - 1]


def test_bad_request_body() -> None:
    bad = body("predict_bad_request.json")
    assert bad["sexo"] == "X"
    assert bad["age"] == -4
    assert "agee" in bad
    assert "segmento" not in bad


def test_batch_body() -> None:
    customers = body("batch.json")["customers"]
    assert customers[:3] == EXAMPLES
    assert len(customers) == 4
    assert customers[3] == body("predict_bad_request.json")


def test_legacy_body() -> None:
    assert body("legacy_predict.json") == EXAMPLES[0]
