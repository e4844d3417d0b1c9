"""Swagger UI of `bankreco serve` in a real browser: Debian's chromium, driven by Playwright
(which never downloads a browser of its own here: `executable_path` names the system one).

The test opens /swagger, expands POST /recommendations, clicks "Try it out" with the
documented example, executes it and reads seven products from the response panel. With
BANKRECO_SCREENSHOT set, it writes its screenshot there (`make screenshot` updates
docs/img/swagger.png).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bankreco.domain import service
from bankreco.domain.manifest import Manifest
from bankreco.domain.registry import Registry
from bankreco.serve import make_server, url_of
from bankreco.settings import Settings
from bankreco.store.local import LocalStore

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
Artifacts = list[tuple[Manifest, dict[str, bytes]]]


@pytest.fixture
def served(tmp_path: Path, model_artifacts: Artifacts) -> Iterator[str]:
    """`bankreco serve`'s server on a free port, serving a published model for bank demo."""
    Registry(LocalStore(tmp_path / "models")).publish("demo", *model_artifacts[0])
    store = str(tmp_path / "models")
    service.configure(Settings.from_env().replaced(model_store_uri=store, bank_id="demo"))
    server = make_server("127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield url_of(server)
    server.shutdown()
    server.server_close()


def test_swagger_ui_runs_the_documented_example(served: str, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    assert CHROMIUM.is_file(), "make test installs Debian's chromium (see the Makefile)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"),  # a new, empty --user-data-dir
            executable_path=str(CHROMIUM),
            args=FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 1400},
        )
        page = browser.new_page()
        page.goto(f"{served}/swagger")
        summary = page.locator(".opblock-post .opblock-summary").filter(
            has=page.locator(".opblock-summary-path", has_text=re.compile(r"^/recommendations$"))
        )
        summary.click()
        block = page.locator(".opblock-post.is-open")
        block.get_by_role("button", name="Try it out").click()
        block.get_by_role("button", name="Execute").click()
        status = block.locator(".live-responses-table .response .response-col_status").first
        expect(status).to_have_text("200", timeout=15_000)
        answer = json.loads(
            block.locator(".live-responses-table .response .microlight").first.inner_text()
        )
        block.locator(".live-responses-table").scroll_into_view_if_needed()
        shot = tmp_path / "swagger.png"
        page.screenshot(path=str(shot), full_page=False)
        browser.close()
    products = [r["product"] for r in answer["recommendations"]]
    assert len(products) == 7
    assert all(p.startswith("ind_") for p in products)
    if target := os.environ.get("BANKRECO_SCREENSHOT"):
        shutil.copyfile(shot, target)
