"""The OpenAPI document as the API's contract, finished from what Powertools generates:

- no 422 response and no schemas for it: Powertools documents one on every route when
  validation is on, and this API answers every validation error with a 400;
- the value sets (provinces, countries, product codes) as named schemas, referenced where
  the models write them out.
"""

from __future__ import annotations

import json
from typing import Any, Final

from bankreco.api import vocabulary
from bankreco.api.schemas import SCHEMAS

UNUSED: Final = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def finish(text: str) -> str:
    """The document `text`, finished."""
    document = json.loads(text)
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in UNUSED:
        schemas.pop(name, None)
    for named in vocabulary.NAMED:
        value = named()
        document = _referenced(document, value, {"$ref": f"{SCHEMAS}{value['title']}"})
        document["components"]["schemas"][value["title"]] = value
    return json.dumps(document, indent=2, ensure_ascii=False)


def _referenced(node: Any, value: dict[str, Any], ref: dict[str, str]) -> Any:
    """`node` with each copy of `value` in it replaced by `ref`, keeping what a copy adds
    (a field's own description)."""
    if isinstance(node, dict) and (node.get("title"), node.get("enum")) == (
        value["title"],
        value["enum"],
    ):
        return {**ref, **{key: item for key, item in node.items() if value.get(key) != item}}
    if isinstance(node, dict):
        return {key: _referenced(item, value, ref) for key, item in node.items()}
    if isinstance(node, list):
        return [_referenced(item, value, ref) for item in node]
    return node
