"""The Swagger page's document is safe inside its <script> element."""

from __future__ import annotations

import json
from typing import Any

from bankreco.api import swagger


class DocumentedApp:
    """An app whose OpenAPI document holds a description that would close a <script>."""

    def get_openapi_json_schema(self, **options: Any) -> str:
        servers = [{"url": server.url} for server in options["servers"]]
        return json.dumps({"description": "</script><script>x()</script>", "servers": servers})


def test_the_document_cannot_close_the_script_element() -> None:
    spec = swagger._spec(DocumentedApp(), "/prod")  # type: ignore[arg-type]
    assert "</" not in spec
    assert "<\\/script>" in spec
    assert json.loads(spec)["servers"] == [{"url": "/prod"}]  # still the same JSON


def test_stage_base_path() -> None:
    assert swagger._base_path("prod", "/prod/swagger") == "/prod"
    assert swagger._base_path("prod", "/swagger") == "/"  # a custom domain drops the stage
    assert swagger._base_path("$default", "/$default/swagger") == "/"
    assert swagger._base_path(None, "/swagger") == "/"
