"""The Swagger UI page and the OpenAPI document, built on their first request.

Powertools' `enable_swagger` imports its OpenAPI models while the app is built, which adds to
every cold start (measured in the cold row of docs/performance.md) for a page few requests
ask for. This serves the same page from the same public pieces, importing them only when
asked.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response

from bankreco.api.responses import json_text_response

_UI = "aws_lambda_powertools.event_handler.openapi.swagger_ui"


def swagger_response(app: APIGatewayRestResolver) -> Response[str]:
    """The page, or with `?format=json` the OpenAPI document, for the current request."""
    event = app.current_event
    spec = _spec(app, _base_path(event.request_context.stage, event.request_context.path))
    if (event.query_string_parameters or {}).get("format") == "json":
        return json_text_response(spec)
    from aws_lambda_powertools.event_handler.openapi.swagger_ui import generate_swagger_html

    js, css = _assets()
    page = generate_swagger_html(spec, js, css, swagger_base_url="", oauth2_config=None)
    return Response(status_code=200, content_type="text/html", body=page)


@cache
def _assets() -> tuple[str, str]:
    """Swagger UI's script and style sheet as Powertools ships them, inlined: no CDN."""
    ui = files(_UI)
    return (
        ui.joinpath("swagger-ui-bundle.min.js").read_text("utf-8"),
        ui.joinpath("swagger-ui.min.css").read_text("utf-8"),
    )


@cache
def _spec(app: APIGatewayRestResolver, base_path: str) -> str:
    """The document, its servers relative to the stage; safe inside a <script> element."""
    from aws_lambda_powertools.event_handler.openapi.models import Server

    return app.get_openapi_json_schema(servers=[Server(url=base_path)]).replace("</", "<\\/")


def _base_path(stage: str | None, path: str) -> str:
    """`/<stage>` when API Gateway's path carries the stage (not behind a custom domain or
    in `sam local`), as Powertools' own Swagger route works it out."""
    if stage and stage != "$default" and path.startswith(f"/{stage}"):
        return f"/{stage}"
    return "/"
