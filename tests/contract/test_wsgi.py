"""The WSGI application: HTTP requests become the REST proxy events API Gateway sends, the
real handler's answers come back as HTTP, and concurrent requests each get their own."""

from __future__ import annotations

import base64
import io
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from bankreco.api.wsgi import MAX_PAYLOAD, Application, http_response
from tests.conftest import example_body


def client(app: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.WSGITransport(app=app), base_url="http://bankreco")


class Recorder:
    """A handler that keeps the events it is sent and answers `response`."""

    def __init__(self, response: dict[str, Any] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.response = response or {"statusCode": 204, "body": ""}

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        return self.response


def test_a_request_becomes_the_rest_proxy_event() -> None:
    recorder = Recorder()
    with client(Application(recorder, stage="dev")) as http:
        http.post(
            "/recommendations?a=1&a=2&b=",
            content=b'{"x": "\xc3\xa9"}',
            headers={"Content-Type": "application/json", "X-Api-Key": "k"},
        )
        http.post("/upload", content=b"\xff\x00", headers={"Content-Type": "image/png"})
        http.get("/models/current")
    event, binary, bodiless = recorder.events
    assert (event["httpMethod"], event["path"], event["resource"]) == (
        "POST",
        "/recommendations",
        "/recommendations",
    )
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": [""]}
    assert event["queryStringParameters"] == {"a": "2", "b": ""}
    assert event["headers"]["Content-Type"] == "application/json"
    assert event["headers"]["X-Api-Key"] == "k"
    assert (event["body"], event["isBase64Encoded"]) == ('{"x": "é"}', False)
    context = event["requestContext"]
    assert (context["stage"], context["path"], context["identity"]["apiKey"]) == (
        "dev",
        "/recommendations",  # served at the root: no stage in the path
        "k",
    )
    assert (binary["body"], binary["isBase64Encoded"]) == ("/wA=", True)
    assert (bodiless["body"], bodiless["queryStringParameters"]) == (None, None)
    ids = {e["requestContext"]["requestId"] for e in recorder.events}
    assert len(ids) == 3


def test_the_answer_keeps_every_header_value_and_decodes_base64() -> None:
    response = {
        "statusCode": 201,
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"], "Content-Type": ["image/png"]},
        "headers": {"X-Single": "s", "Set-Cookie": "ignored: the multi-value map wins"},
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    status, headers, body = http_response(response)
    assert (status, body) == (201, b"\x89PNG")
    assert headers == [
        ("Set-Cookie", "a=1"),
        ("Set-Cookie", "b=2"),
        ("Content-Type", "image/png"),
        ("X-Single", "s"),
    ]
    with client(Application(Recorder(response))) as http:
        answer = http.get("/any")
    assert answer.status_code == 201
    assert answer.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert answer.headers["content-type"] == "image/png"
    assert answer.headers["content-length"] == "4"
    assert answer.content == b"\x89PNG"


def test_a_payload_over_api_gateways_limit_is_refused_before_the_handler() -> None:
    recorder = Recorder()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/recommendations",
        "CONTENT_LENGTH": str(MAX_PAYLOAD + 1),
        "wsgi.input": io.BytesIO(b"x" * (MAX_PAYLOAD + 1)),
    }
    answers: list[str] = []
    body = Application(recorder)(environ, lambda status, headers: answers.append(status))
    assert answers == ["413 Request Entity Too Large"]
    assert json.loads(b"".join(body)) == {"message": "Request Too Long"}
    assert recorder.events == []


def test_the_real_handler_through_wsgi(published: str) -> None:
    with client(Application()) as http:
        answer = http.post("/recommendations", json=example_body(1))
        assert answer.status_code == 200
        assert answer.headers["content-type"] == "application/json"
        assert answer.json()["model_version"] == published
        refused = http.delete("/recommendations")
        assert (refused.status_code, refused.headers["allow"]) == (405, "POST")
        document = http.get("/swagger", params={"format": "json"}).json()
        assert document["servers"] == [{"url": "/"}]  # the API is served at the root


def test_the_handler_is_called_one_request_at_a_time() -> None:
    inside, most = 0, 0
    lock = threading.Lock()

    def slow(event: dict[str, Any], context: Any) -> dict[str, Any]:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.002)
        with lock:
            inside -= 1
        return {"statusCode": 200, "body": event["path"]}

    app = Application(slow)
    with ThreadPoolExecutor(16) as pool, client(app) as http:
        paths = [f"/p{i}" for i in range(64)]
        answers = list(pool.map(lambda p: http.get(p).text, paths))
    assert answers == paths
    assert most == 1


def test_concurrent_requests_each_get_their_own_answer(published: str) -> None:
    app = Application()

    def ask(i: int) -> tuple[int, int, Any]:
        profile = {**example_body(i % 3 + 1), "customer_id": f"C-{i}", "top_k": i % 7 + 1}
        with client(app) as http:
            if i % 4 == 3:
                answer = http.post("/recommendations", json={**profile, "age": -i})
            else:
                answer = http.post("/recommendations", json=profile)
        return i, answer.status_code, answer.json()

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(ask, range(160)))
    for i, status, body in results:
        if i % 4 == 3:
            assert status == 400
            assert body["error"]["fields"][0]["field"] == "age"
        else:
            assert status == 200, body
            assert body["customer_id"] == f"C-{i}"
            assert len(body["recommendations"]) == i % 7 + 1
    assert len({body.get("request_id") for _, status, body in results if status == 400}) == 40
