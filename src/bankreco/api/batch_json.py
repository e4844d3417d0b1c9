"""The batch route's JSON text, rendered from fragments made once.

A batch of 1,000 answers holds 7,000 recommendations: building them as objects and then
dumping them would cost more than scoring them. The text parses to exactly the
`BatchResponse` items (compact separators, the same key order, the same float values); a
test checks it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from json.encoder import encode_basestring_ascii
from operator import add
from typing import Any, Final

import pydantic_core

from bankreco.catalog import PRODUCT_CODES, PRODUCTS
from bankreco.domain.reasons import Reason

_dumps: Final = json.JSONEncoder(separators=(",", ":")).encode
#: `{"product":...,"name":...,"score":` for each catalog column.
_RECOMMENDATION: Final = [
    f'{{"product":{_dumps(code)},"name":{_dumps(PRODUCTS[code])},"score":' for code in PRODUCT_CODES
]


def answers(
    indexes: Sequence[int],
    bank: str,
    model_version: str,
    customer_ids: Sequence[str | None],
    products: Sequence[Sequence[int]],
    scores: list[list[float]],
) -> Iterator[str]:
    """The answers of one model: per customer, catalog columns `products` with their finite
    `scores`. The scores are written by one `to_json` of the nested list (the shortest text
    that reads back as the same float, and cheaper than `repr` per float), cut into rows and
    items."""
    head = f',"bank":{_dumps(bank)},"model_version":{_dumps(model_version)},"customer_id":'
    rows = pydantic_core.to_json(scores).decode()[2:-2].split("],[")
    for index, customer_id, columns, row in zip(indexes, customer_ids, products, rows, strict=True):
        items = "},".join(map(add, map(_RECOMMENDATION.__getitem__, columns), row.split(",")))
        recommendations = f"{items}}}" if columns else ""
        customer = "null" if customer_id is None else encode_basestring_ascii(customer_id)
        yield f'{{"index":{index}{head}{customer},"recommendations":[{recommendations}]}}'


def with_reasons(item: str, reasons: Sequence[Sequence[Reason]]) -> str:
    """An answer's text with each recommendation's reasons added (explained answers only:
    parsed and written again, as their reasons cost far more than this)."""
    answer = json.loads(item)
    for recommendation, found in zip(answer["recommendations"], reasons, strict=True):
        recommendation["reasons"] = [reason.public() for reason in found]
    return _dumps(answer)


def failure(index: int, error: dict[str, Any], bank: str | None = None) -> str:
    """One customer's error."""
    item: dict[str, Any] = {"index": index} if bank is None else {"index": index, "bank": bank}
    return _dumps({**item, "error": error})


def body(items: Sequence[str]) -> str:
    """The `BatchResponse` holding `items`, in order."""
    return f'{{"results":[{",".join(items)}]}}'
