"""`bankreco invoke` and `bankreco serve`, run as a user runs them: the installed command in a
subprocess, checked by its stdout, stderr and exit code."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.store.local import LocalStore
from tests.conftest import ROOT, example_body

BANKRECO = str(Path(sys.executable).with_name("bankreco"))
Artifacts = list[tuple[Manifest, dict[str, bytes]]]


@pytest.fixture
def store(tmp_path: Path, model_artifacts: Artifacts) -> Path:
    Registry(LocalStore(tmp_path / "models")).publish("demo", *model_artifacts[0])
    return tmp_path / "models"


def bankreco(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    return subprocess.run(
        [BANKRECO, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def test_invoke_answers_a_bare_body_with_only_json_on_stdout(store: Path, tmp_path: Path) -> None:
    body = tmp_path / "profile.json"
    body.write_text(json.dumps(example_body(1)))
    done = bankreco("invoke", str(body), "--store", str(store), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)  # stdout is one JSON document: it pipes
    assert answer["statusCode"] == 200
    assert len(answer["body"]["recommendations"]) == 7
    assert "Traceback" not in done.stderr


def test_invoke_explain_adds_reasons_to_bodies_and_events(store: Path, tmp_path: Path) -> None:
    body = tmp_path / "profile.json"
    body.write_text(json.dumps(example_body(1)))
    event = ROOT / "events" / "batch.json"
    done = bankreco(
        "invoke", str(body), str(event), "--explain", "--store", str(store), cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    single, batch = json.loads(done.stdout)
    recommendations = single["body"]["recommendations"]
    assert all(len(r["reasons"]) <= 3 for r in recommendations)
    assert any(r["reasons"] for r in recommendations)
    answered = [item for item in batch["body"]["results"] if "recommendations" in item]
    assert answered  # the example batch also holds a customer refused on its own
    assert all("reasons" in r for item in answered for r in item["recommendations"])
    plain = bankreco("invoke", str(body), "--store", str(store), cwd=tmp_path)
    assert "reasons" not in plain.stdout


def test_invoke_labels_several_answers_and_exits_4_on_a_refusal(
    store: Path, tmp_path: Path
) -> None:
    events = [
        str(ROOT / "events" / n) for n in ("predict_example_2.json", "predict_bad_request.json")
    ]
    done = bankreco("invoke", *events, "--store", str(store), cwd=tmp_path)
    answers = json.loads(done.stdout)
    assert [(a["event"], a["statusCode"]) for a in answers] == [(events[0], 200), (events[1], 400)]
    assert done.returncode == 4


def test_invoke_exits_5_on_a_server_error_and_logs_on_stderr(tmp_path: Path) -> None:
    body = tmp_path / "profile.json"
    body.write_text(json.dumps(example_body(1)))
    done = bankreco("invoke", str(body), "--store", str(tmp_path / "empty"), cwd=tmp_path)
    assert done.returncode == 5
    assert json.loads(done.stdout)["body"]["error"]["code"] == "model_not_published"
    assert "request refused" in done.stderr


@pytest.mark.parametrize(
    ("content", "said"),
    [('{"x":', "not JSON"), ("[1, 2]", "neither an API Gateway event"), (None, "no such file")],
)
def test_invoke_names_the_file_it_cannot_read(
    tmp_path: Path, content: str | None, said: str
) -> None:
    event = tmp_path / "event.json"
    if content is not None:
        event.write_text(content)
    done = bankreco("invoke", str(event), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1
    assert str(event) in done.stderr
    assert said in done.stderr


@pytest.fixture
def server(store: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("POWERTOOLS_")}
    command = [BANKRECO, "serve", "--port", "0", "--store", str(store), "--bank", "demo"]
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, cwd=tmp_path, env=env
    )
    assert process.stderr is not None
    first = process.stderr.readline()
    found = re.search(r"(http://127\.0\.0\.1:\d+)", first)
    assert found, first
    yield process, found.group(1)
    if process.poll() is None:
        process.kill()
        process.wait()


def _post(url: str, body: dict[str, object]) -> dict[str, object]:
    request = urllib.request.Request(
        f"{url}/recommendations",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, object] = json.loads(response.read())
        return answer


def test_serve_answers_sixteen_threads_each_with_its_own_answer(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    _, url = server
    bodies = [
        {**example_body(1 + i % 3), "customer_id": f"c-{i}", "top_k": 1 + i % 7} for i in range(64)
    ]
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda body: _post(url, body), bodies))
    for body, answer in zip(bodies, answers, strict=True):
        assert answer["customer_id"] == body["customer_id"]
        assert len(answer["recommendations"]) == body["top_k"]  # type: ignore[arg-type]


def test_serve_logs_a_line_per_request_and_stops_cleanly_on_ctrl_c(
    server: tuple[subprocess.Popen[str], str],
) -> None:
    process, url = server
    _post(url, example_body(2))
    with urllib.request.urlopen(f"{url}/swagger", timeout=30) as page:
        assert b"swagger-ui" in page.read()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    assert '"POST /recommendations HTTP/1.1" 200' in stderr
    assert '"GET /swagger HTTP/1.1" 200' in stderr
    assert "stopped" in stderr
    assert "Traceback" not in stderr
