"""The explain row: what reasons add to a one-profile answer.

The worker (`python -m bench.worker warm-explain`) times the handler on the example events
with and without `"explain": true`, alternating request by request. Where the handler does
not give reasons yet, the explained answer is timed as the handler's answer plus the domain's
explanation of it (`explain_products` on the served compact forest, the profile encoded again),
and the row says so.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from bench.report import Line, RowResult, median, met
from bench.rows import WARM_REPEATS, _worker
from bench.session import Session

GOAL_MS = 5.0
WARM_UP = 20  # cycles of the example events before timing


def explain(session: Session) -> RowResult:
    n = session.scale.warm_requests
    repeats = 1 if session.scale.quick else WARM_REPEATS
    runs = [_worker(session, "warm-explain", {"n": n}) for _ in range(repeats)]
    sides = {
        side: {
            "p50_ms": median([float(np.percentile(run[side], 50)) * 1000 for run in runs]),
            "p99_ms": median([float(np.percentile(run[side], 99)) * 1000 for run in runs]),
        }
        for side in ("plain", "explained")
    }
    plain, explained = sides["plain"], sides["explained"]
    added = explained["p50_ms"] - plain["p50_ms"]
    how = runs[0]["how"]
    line = Line(
        "explain",
        "explained answer p50, one profile, 7 products with 3 reasons each",
        f"{explained['p50_ms']:.3f} ms",
        "-",
        f"+{added:.3f} ms over unexplained",
        f"≤ {GOAL_MS:g} ms",
        met(explained["p50_ms"] <= GOAL_MS),
        session.command("explain"),
    )
    notes = [
        f"the three example events of `events/` cycled, {n:,} requests each way after "
        f"{WARM_UP} warm-up cycles, alternating unexplained and explained requests, in "
        f"{repeats} new process(es) (median of their p50 and p99), pinned to one core; "
        f"p99: explained {explained['p99_ms']:.3f} ms, unexplained {plain['p99_ms']:.3f} ms; "
        f"unexplained p50 {plain['p50_ms']:.3f} ms.",
        "explained: "
        + (
            '`lambda_handler` with `"explain": true` in the body.'
            if how == "handler"
            else "the handler does not give reasons yet: `lambda_handler` without it, then "
            "`bankreco.domain.reasons.explain_products` on the served model's compact forest "
            "for the answer's products (the profile validated once, encoded again)."
        ),
        f"the domain's explanation alone (encode + exact TreeSHAP of 7 products + reasons): "
        f"p50 {median([run['domain_p50_ms'] for run in runs]):.3f} ms.",
    ]
    return RowResult("explain", [line], notes, {**sides, "how": how, "requests": n})


def measure(config: dict[str, Any]) -> dict[str, Any]:
    """The worker's side: seconds per request, unexplained and explained, alternating."""
    from bench.events import Context, example_events
    from bench.worker import _handler, _ok, _timed

    handler, context = _handler(), Context()
    plain = example_events()
    explained = [{**event, "body": _explaining(event["body"])} for event in plain]
    how = "handler" if _gives_reasons(handler(explained[0], context)) else "domain"
    calls = [
        partial(handler, asked, context)
        if how == "handler"
        else _handler_then_domain(handler, event, context)
        for event, asked in zip(plain, explained, strict=True)
    ]
    for _ in range(WARM_UP):
        for event, call in zip(plain, calls, strict=True):
            _ok(handler(event, context))
            call()
    times: dict[str, list[float]] = {"plain": [], "explained": []}
    clock = time.perf_counter
    for i in range(config["n"]):
        event, call = plain[i % len(plain)], calls[i % len(calls)]
        start = clock()
        handler(event, context)
        middle = clock()
        call()
        times["plain"].append(middle - start)
        times["explained"].append(clock() - middle)
    domain = [_timed(_domain_call(event["body"]), config["n"] // len(plain)) for event in plain]
    domain_p50 = float(np.percentile(np.concatenate(domain), 50)) * 1000
    return {**times, "how": how, "domain_p50_ms": domain_p50}


def _explaining(body: str) -> str:
    return json.dumps({**json.loads(body), "explain": True})


def _gives_reasons(response: dict[str, Any]) -> bool:
    """The handler accepts `"explain": true` and answers with reasons."""
    if response.get("statusCode") != 200:
        return False
    answer = json.loads(response["body"])
    recommendations = answer.get("recommendations") or [{}]
    return "reasons" in recommendations[0]


def _handler_then_domain(
    handler: Callable[[dict[str, Any], Any], dict[str, Any]], event: dict[str, Any], context: Any
) -> Callable[[], object]:
    explain_one = _domain_call(event["body"])

    def call() -> object:
        handler(event, context)
        return explain_one()

    return call


def _domain_call(body: str) -> Callable[[], object]:
    """The domain's explanation of the answer to `body`: encode, explain, reasons."""
    from bankreco.api.schemas import CustomerProfile
    from bankreco.domain.explain import ExplanationUnavailable
    from bankreco.domain.profile import encode_profiles, owned_matrix
    from bankreco.domain.ranking import top_products
    from bankreco.domain.reasons import explain_products
    from bankreco.domain.service import get_recommender

    profile = CustomerProfile.model_validate_json(body)
    model = get_recommender().current_model(profile.bank)
    owned = owned_matrix([profile])
    products = top_products(model, encode_profiles([profile], owned), owned, 7).products.tolist()

    def call() -> object:
        held = owned_matrix([profile])
        encoded = encode_profiles([profile], held)
        return explain_products(model.estimator, encoded, [vars(profile)], products)

    try:
        call()
    except ExplanationUnavailable as exc:
        raise RuntimeError(
            f"{exc}: the benchmark's cached model predates node covers; delete its "
            "model-* directory in the work directory so that it is trained again"
        ) from exc
    return call
