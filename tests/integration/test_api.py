"""The HTTP contract through the real handler, on a model in a local store."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_spec

from bankreco.api.body import parse_body
from bankreco.api.errors import InvalidBody
from bankreco.api.events import LocalContext
from bankreco.api.schemas import BatchItem, BatchResponse
from bankreco.catalog import COUNTRIES, PRODUCTS, PROVINCES
from bankreco.cli import load_function, openapi_document
from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.domain.service import get_recommender
from bankreco.local import example_event
from bankreco.observability import logger
from bankreco.store.local import LocalStore
from tests.conftest import ROOT, Handler, api_event, example_body

Artifacts = list[tuple[Manifest, dict[str, bytes]]]


@pytest.fixture(autouse=True)
def local_bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model_artifacts: Artifacts) -> str:
    store = tmp_path / "models"
    version = Registry(LocalStore(store)).publish("demo", *model_artifacts[0])
    monkeypatch.setenv("MODEL_STORE_URI", str(store))
    monkeypatch.setenv("BANK_ID", "demo")
    return version


def post(invoke: Handler, path: str, body: Any) -> tuple[int, Any]:
    return invoke(api_event("POST", path, body))


@pytest.mark.parametrize("number", [1, 2, 3])
def test_the_three_original_examples(invoke: Handler, number: int, local_bank: str) -> None:
    status, body = post(invoke, "/recommendations", example_body(number))
    assert status == 200
    assert body["bank"] == "demo"
    assert body["model_version"] == local_bank
    products = [r["product"] for r in body["recommendations"]]
    assert len(products) == len(set(products)) == 7
    assert all(p in PRODUCTS for p in products)
    scores = [r["score"] for r in body["recommendations"]]
    assert scores == sorted(scores, reverse=True)
    assert all(r["name"] == PRODUCTS[r["product"]] for r in body["recommendations"])


def test_owned_products_are_never_recommended_and_top_k_is_honoured(invoke: Handler) -> None:
    _, first = post(invoke, "/recommendations", example_body(1))
    owned = [r["product"] for r in first["recommendations"][:3]]
    status, body = post(
        invoke,
        "/recommendations",
        {**example_body(1), "owned_products": owned, "top_k": 4, "customer_id": "C-77"},
    )
    assert status == 200
    assert body["customer_id"] == "C-77"
    got = [r["product"] for r in body["recommendations"]]
    assert len(got) == 4
    assert not set(got) & set(owned)


def test_validation_errors_name_every_wrong_field(invoke: Handler) -> None:
    bad = {**example_body(2), "sexo": "X", "age": -4, "agee": 5}
    del bad["segmento"]
    status, body = post(invoke, "/recommendations", bad)
    assert status == 400
    assert body["error"]["code"] == "validation_error"
    fields = {f["field"] for f in body["error"]["fields"]}
    assert fields == {"sexo", "age", "agee", "segmento"}


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        "",
        "[]",
        '"text"',
        "null",
        "[" * 100_000 + "]" * 100_000,
        '{"sexo": "H"',
        '{"sexo": "\\ud800"}',
        '{"age": NaN}',
        '{"age": 1e999}',
    ],
)
def test_malformed_and_hostile_bodies_are_400(invoke: Handler, raw: str) -> None:
    status, body = invoke(api_event("POST", "/recommendations", raw_body=raw))
    assert status == 400, body
    assert body["error"]["code"] == "validation_error"


def test_bodies_read_as_json_does() -> None:
    """The fast parser's refusals go to json.loads: what it reads is read, the rest refused."""
    assert parse_body('{"id": "\\ud800", "x": [1.5, NaN]}')["id"] == "\ud800"
    assert parse_body('{"id": "\ud800"}')["id"] == "\ud800"  # a raw lone surrogate
    deep = "[" * 300 + "]" * 300
    assert parse_body(deep) == json.loads(deep)
    assert parse_body('{"n": ' + "9" * 5000 + "}") == {"n": float("inf")}
    assert parse_body('{"n": -' + "9" * 5000 + "}") == {"n": float("-inf")}
    with pytest.raises(InvalidBody, match="not JSON"):
        parse_body("{not json")
    with pytest.raises(InvalidBody, match="nested too deeply"):
        parse_body("[" * 100_000 + "]" * 100_000)


def with_field(name: str, literal: str) -> str:
    """Example 1 as JSON text, with `name` written as `literal`."""
    return json.dumps({**example_body(1), name: 0}).replace(f'"{name}": 0', f'"{name}": {literal}')


@pytest.mark.parametrize(
    ("field", "literal"),
    [
        ("age", "9" * 5000),
        ("renta", "-" + "9" * 5000),
        ("top_k", "1" + "0" * 4300),
        ("renta", "1e999"),
        ("age", "NaN"),
        ("renta", "Infinity"),
        ("customer_id", "9" * 4301),
    ],
)
def test_huge_and_non_finite_numbers_are_400_naming_the_field(
    invoke: Handler, field: str, literal: str
) -> None:
    status, body = invoke(
        api_event("POST", "/recommendations", raw_body=with_field(field, literal))
    )
    assert status == 400, body
    assert [f["field"] for f in body["error"]["fields"]] == [field]


def as_sent(body: str | None, content_type: str | None, encoded: bool = False) -> dict[str, Any]:
    event = api_event("POST", "/recommendations", raw_body=body)
    for headers in (event["headers"], event["multiValueHeaders"]):
        headers.pop("Content-Type")
        if content_type is not None:
            headers["content-type"] = (
                content_type if headers is event["headers"] else [content_type]
            )
    event["isBase64Encoded"] = encoded
    return event


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "APPLICATION/JSON", "application/json; charset=UTF-8",
     'Application/Json;charset="utf-8"'],
)  # fmt: skip
def test_json_is_read_in_any_case_and_without_a_content_type(
    invoke: Handler, content_type: str | None
) -> None:
    assert invoke(as_sent(json.dumps(example_body(1)), content_type))[0] == 200


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/vnd.api+json", "multipart/form-data",
     "multipart/form-data; boundary=x", "application/x-www-form-urlencoded",
     "application/json; charset=latin-1", "application/jsonx"],
)  # fmt: skip
def test_a_body_sent_as_another_media_type_is_415(invoke: Handler, content_type: str) -> None:
    status, body = invoke(as_sent(json.dumps(example_body(1)), content_type))
    assert (status, body["error"]["code"]) == (415, "unsupported_media_type")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("not base64!", "not valid base64"),
        (base64.b64encode(b'{"sexo": "\xff"}').decode(), "not UTF-8"),
        (base64.b64encode(b"\xff\xfe").decode(), "not UTF-8"),
    ],
)
def test_a_bad_base64_body_is_400(invoke: Handler, raw: str, message: str) -> None:
    status, body = invoke(as_sent(raw, "application/json", encoded=True))
    assert status == 400, body
    assert message in body["error"]["message"]


def test_a_base64_body_is_read(invoke: Handler) -> None:
    encoded = base64.b64encode(json.dumps(example_body(2)).encode()).decode()
    assert invoke(as_sent(encoded, "application/json", encoded=True))[0] == 200


@pytest.mark.parametrize("path", ["/recommendations", "/Predictor/Predict"])
def test_an_array_body_is_400_not_its_first_element(invoke: Handler, path: str) -> None:
    raw = json.dumps([example_body(1), example_body(2)])
    status, body = invoke(api_event("POST", path, raw_body=raw))
    assert status == 400
    assert body["error"]["message"] == "request body must be a JSON object, not an array"


def test_a_path_asked_with_another_method_is_405(invoke_raw: Handler) -> None:
    event = api_event("GET", "/recommendations")
    response = load_function(ROOT / "functions" / "predict" / "app.py").lambda_handler(
        event, LocalContext()
    )
    assert response["statusCode"] == 405
    assert response["multiValueHeaders"]["Allow"] == ["POST"]
    assert json.loads(response["body"])["error"]["code"] == "method_not_allowed"
    assert invoke_raw(api_event("DELETE", "/models/current"))[0] == 405
    assert invoke_raw(api_event("GET", "/nowhere"))[0] == 404


def test_a_service_error_tells_the_client_no_more_than_its_code(
    invoke: Handler,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = tmp_path / "secret-store"
    (store / "demo").mkdir(parents=True)
    (store / "demo" / "current.json").write_text("not a pointer")
    monkeypatch.setenv("MODEL_STORE_URI", str(store))
    event = api_event("POST", "/recommendations", example_body(1))
    status, body = invoke(event)
    assert status == 503
    assert body == {
        "error": {
            "code": "model_integrity",
            "message": "the published model cannot be served",
            "fields": [],
        },
        "request_id": event["requestContext"]["requestId"],
    }
    status, batch = invoke(
        api_event("POST", "/recommendations/batch", {"customers": [example_body(2)]})
    )
    assert (status, batch["results"][0]["error"]) == (
        200,
        {"code": "model_integrity", "message": "the published model cannot be served"},
    )
    # the details go to the log, whose lines carry the request id
    assert logger.get_correlation_id() == event["requestContext"]["requestId"]
    reasons = [r.reason for r in caplog.records if r.getMessage() == "request refused"]
    assert reasons == ["demo/current.json is not a valid pointer"] * 2


def test_a_bad_string_in_a_batch_fails_its_own_item(invoke_raw: Handler) -> None:
    good = json.dumps(example_body(1))
    for bad in ('"\\ud800"', '"\ud800"'):  # escaped, and raw as the event may carry it
        item = json.dumps(example_body(2))[:-1] + f', "customer_id": {bad}}}'
        body = '{"customers": [' + good + ", " + item + "]}"
        status, text = invoke_raw(api_event("POST", "/recommendations/batch", raw_body=body))
        assert status == 200, text
        first, second = json.loads(text)["results"]
        assert len(first["recommendations"]) == 7
        assert second["error"]["fields"][0]["field"] == "customer_id"


def test_oversized_body_is_413(invoke: Handler) -> None:
    big = {**example_body(1), "customer_id": "x" * (1024 * 1024)}
    status, body = post(invoke, "/recommendations", big)
    assert (status, body["error"]["code"]) == (413, "payload_too_large")
    status, _ = post(invoke, "/recommendations/batch", {"customers": [example_body(1)] * 6000})
    assert status == 413


def test_batch_answers_each_profile_and_isolates_bad_ones(invoke: Handler) -> None:
    customers = [
        {**example_body(1), "customer_id": "a"},
        {**example_body(2), "age": "old"},
        {**example_body(3), "customer_id": "c", "bank": "elsewhere"},
        {**example_body(3), "customer_id": "d"},
    ]
    status, body = post(invoke, "/recommendations/batch", {"customers": customers})
    assert status == 200
    results = body["results"]
    assert [r["index"] for r in results] == [0, 1, 2, 3]
    assert results[0]["customer_id"] == "a"
    assert len(results[0]["recommendations"]) == 7
    assert results[1]["error"]["fields"] == [
        {"field": "age", "message": results[1]["error"]["fields"][0]["message"]}
    ]
    assert results[2]["error"]["code"] == "unknown_bank"
    assert results[3]["recommendations"]


def test_a_batch_all_for_one_unserved_bank_fails_per_item(invoke: Handler) -> None:
    customers = [{**example_body(n), "bank": "elsewhere"} for n in (1, 2)]
    status, body = post(invoke, "/recommendations/batch", {"customers": customers})
    assert status == 200
    assert [(r["index"], r["error"]["code"]) for r in body["results"]] == [
        (0, "unknown_bank"),
        (1, "unknown_bank"),
    ]


@pytest.mark.parametrize(
    "body", [{"customers": []}, {"customers": "x"}, {}, {"customers": [1] * 1001}]
)
def test_bad_batches_are_400(invoke: Handler, body: Any) -> None:
    assert post(invoke, "/recommendations/batch", body)[0] == 400


def test_batch_items_that_are_not_profiles_fail_alone(invoke: Handler) -> None:
    customers = [1, "x", None, [example_body(1)], example_body(2)]
    status, body = post(invoke, "/recommendations/batch", {"customers": customers})
    assert status == 200
    results = body["results"]
    assert [r["index"] for r in results] == list(range(5))
    assert all(r["error"]["code"] == "validation_error" for r in results[:4])
    assert len(results[4]["recommendations"]) == 7


def test_batch_body_is_the_documented_json(
    invoke: Handler, invoke_raw: Handler, local_bank: str
) -> None:
    owned = ["ind_cco_fin_ult1", "ind_recibo_ult1"]
    customers = [
        {**example_body(1), "customer_id": 'quote " back \\ é \u2028 end', "top_k": 3},
        {**example_body(2), "owned_products": owned, "top_k": 24},
        {**example_body(3), "bank": "elsewhere"},
    ]
    status, raw = invoke_raw(api_event("POST", "/recommendations/batch", {"customers": customers}))
    assert status == 200
    outside_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', raw)
    assert not re.search(r"\s", outside_strings)  # compact, as json.dumps(separators) writes
    fields = list(BatchItem.model_fields)
    for item in json.loads(raw)["results"]:  # keys in the model's order
        assert list(item) == sorted(item, key=fields.index)
    parsed = BatchResponse.model_validate_json(raw)
    first, second, third = parsed.results
    assert first.customer_id == customers[0]["customer_id"]
    assert [r.product for r in first.recommendations or []] == [
        r["product"] for r in post(invoke, "/recommendations", customers[0])[1]["recommendations"]
    ]
    assert second.recommendations is not None
    assert len(second.recommendations) == 24 - len(owned)
    assert not {r.product for r in second.recommendations} & set(owned)
    assert (third.error and third.error.code, third.model_version) == ("unknown_bank", None)
    assert (first.model_version, first.bank) == (local_bank, "demo")


def test_batch_matches_single_answers(invoke: Handler) -> None:
    # every product, so the tiny scores (written 0.000057 in a batch, 5.7e-05 by json.dumps)
    # are compared too: the same float values
    customers = [{**example_body(n), "top_k": len(PRODUCTS)} for n in (1, 2, 3)]
    singles = [post(invoke, "/recommendations", customer)[1] for customer in customers]
    _, batch = post(invoke, "/recommendations/batch", {"customers": customers})
    scores = [r["score"] for s in singles for r in s["recommendations"]]
    assert min(scores) < 1e-4 < max(scores)
    assert [r["recommendations"] for r in batch["results"]] == [
        s["recommendations"] for s in singles
    ]


def test_legacy_route_answers_like_the_flask_service(invoke: Handler) -> None:
    status, body = post(invoke, "/Predictor/Predict", example_body(1))
    assert status == 200
    codes = body["Predictions"].split(" ")
    assert len(codes) == len(set(codes)) == 7
    _, modern = post(invoke, "/recommendations", example_body(1))
    assert codes == [r["product"] for r in modern["recommendations"]]


def test_unknown_route_and_bank(invoke: Handler) -> None:
    assert invoke(api_event("GET", "/nope"))[0] == 404
    status, body = post(invoke, "/recommendations", {**example_body(1), "bank": "other"})
    assert (status, body["error"]["code"]) == (404, "unknown_bank")


def test_swagger_ui_and_committed_openapi_match_the_code(invoke: Handler) -> None:
    status, page = invoke(api_event("GET", "/swagger"))
    assert status == 200
    assert "swagger-ui" in page
    assert '"title": "bankreco"' in page  # the document, inlined in the page
    assert "SwaggerUIBundle" in page  # the UI's script, inlined: no CDN needed
    status, served = invoke(api_event("GET", "/swagger", query={"format": "json"}))
    assert status == 200
    assert served["servers"] == [{"url": "/demo"}]  # the stage is in API Gateway's path
    custom_domain = api_event("GET", "/swagger", query={"format": "json"})
    custom_domain["requestContext"]["path"] = "/swagger"
    assert invoke(custom_domain)[1]["servers"] == [{"url": "/"}]
    paths = {"/recommendations", "/recommendations/batch", "/Predictor/Predict", "/models/current"}
    assert set(served["paths"]) == paths
    committed = (ROOT / "docs" / "openapi.json").read_text()
    assert committed == openapi_document(), (
        "docs/openapi.json drifted from the code: run `make openapi`"
    )
    assert set(json.loads(committed)["paths"]) == paths
    document = json.loads(committed)
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', committed)
    assert "CustomerProfile" in refs
    assert set(refs) == set(document["components"]["schemas"])  # each resolves, each is used


ANSWERS = {
    ("post", "/recommendations"): ("RecommendationResponse", {400, 404, 409, 413, 415, 503}),
    ("post", "/Predictor/Predict"): ("LegacyResponse", {400, 404, 413, 415, 503}),
    ("post", "/recommendations/batch"): ("BatchResponse", {400, 413, 415, 503}),
    ("get", "/models/current"): ("ModelInfo", {400, 404, 503}),
}


def test_the_document_lists_every_answer_and_only_those() -> None:
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    validate_spec(document)
    found = {
        (method, path): operation["responses"]
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
    }
    assert set(found) == set(ANSWERS)
    for key, responses in found.items():
        answer, errors = ANSWERS[key]
        assert {int(code) for code in responses} == {200, *errors}, key
        schemas = {
            code: r["content"]["application/json"]["schema"] for code, r in responses.items()
        }
        assert schemas.pop("200") == {"$ref": f"#/components/schemas/{answer}"}
        if key == ("get", "/models/current"):  # and, with format=card, the model card
            markdown = responses["200"]["content"]["text/markdown"]["schema"]
            assert markdown == {"type": "string"}
        assert all(s == {"$ref": "#/components/schemas/ErrorResponse"} for s in schemas.values())
    assert document["components"]["schemas"]["ErrorResponse"]["required"] == ["error", "request_id"]
    listed = document["components"]["schemas"]
    assert len(listed["Province"]["enum"]) == len(PROVINCES)
    assert len(listed["ProductCode"]["enum"]) == len(PRODUCTS)
    assert set(listed["Country"]["enum"]) == COUNTRIES


@pytest.mark.parametrize("name", ["predict_example_1", "predict_example_2", "predict_example_3"])
def test_the_original_examples_are_valid_requests_and_answered(invoke: Handler, name: str) -> None:
    event = example_event(f"{name}.json")
    document = json.loads((ROOT / "docs" / "openapi.json").read_text())
    profile = {"$ref": "#/components/schemas/CustomerProfile", **document}
    Draft202012Validator(profile).validate(json.loads(event["body"]))
    assert invoke(event)[0] == 200


def test_a_model_giving_non_finite_scores_is_refused(
    invoke: Handler, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert post(invoke, "/recommendations", example_body(1))[0] == 200
    model = get_recommender().cache.get("demo")

    def broken(features: np.ndarray) -> np.ndarray:
        return np.full((len(features), len(model.manifest.classes)), np.nan)

    monkeypatch.setattr(model.estimator, "predict_proba", broken)
    status, body = post(invoke, "/recommendations", example_body(1))
    assert (status, body["error"]["code"]) == (503, "model_integrity")
    status, body = post(invoke, "/recommendations/batch", {"customers": [example_body(2)] * 2})
    assert status == 200
    assert [r["error"]["code"] for r in body["results"]] == ["model_integrity"] * 2
