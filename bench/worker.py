"""A measuring child, pinned to one core: `python -m bench.worker MODE CONFIG_JSON RESULT`.

Modes: `warm-ours` / `warm-naive` (per-request latencies), `batch-ours` / `batch-naive`
(seconds per 1,000-profile request) and `warm-explain` (latencies with and without reasons,
and with shap's reasons instead).
It writes its numbers as JSON to RESULT.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.proc import pin_to_one_core, self_maxrss_mb

Call = Callable[[], object]


def _timed(call: Call, n: int) -> list[float]:
    """`n` wall times (seconds) of `call`."""
    clock = time.perf_counter
    times = []
    for _ in range(n):
        start = clock()
        call()
        times.append(clock() - start)
    return times


def _handler() -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    from bankreco.cli import load_function
    from bench.events import HANDLER

    handler: Callable[[dict[str, Any], Any], dict[str, Any]] = load_function(HANDLER).lambda_handler
    return handler


def _ok(response: dict[str, Any]) -> dict[str, Any]:
    if response.get("statusCode") != 200:
        raise RuntimeError(f"handler answered {response.get('statusCode')}: {response}")
    return response


def warm_ours(config: dict[str, Any]) -> dict[str, Any]:
    from bench.events import Context, example_events

    handler, events, context = _handler(), example_events(), Context()
    for event in events * 20:  # warm-up: model fetched, every code path run
        _ok(handler(event, context))
    cycle = iter(events * (config["n"] // len(events) + 1))
    return {"seconds": _timed(lambda: handler(next(cycle), context), config["n"])}


def warm_naive(config: dict[str, Any]) -> dict[str, Any]:
    from bench import naive
    from bench.events import example_events

    pipeline = naive.load(Path(config["naive_model"]))
    bodies = [event["body"] for event in example_events()]
    for body in bodies * 20:
        naive.answer(pipeline, body)
    cycle = iter(bodies * (config["n"] // len(bodies) + 1))
    return {"seconds": _timed(lambda: naive.answer(pipeline, next(cycle)), config["n"])}


def batch_ours(config: dict[str, Any]) -> dict[str, Any]:
    from bench.events import Context, batch_event

    customers = json.loads(Path(config["profiles"]).read_text())
    handler, event, context = _handler(), batch_event(customers), Context()
    results = json.loads(_ok(handler(event, context))["body"])["results"]
    failed = [r for r in results if r.get("error") or not r.get("recommendations")]
    if len(results) != len(customers) or failed:
        raise RuntimeError(f"batch: {len(failed)} of {len(customers)} profiles failed")
    seconds = _timed(lambda: _ok(handler(event, context)), config["runs"])
    return {"seconds": seconds, "profiles": len(customers), **_batch_parts(customers, config)}


def _batch_parts(customers: list[dict[str, Any]], config: dict[str, Any]) -> dict[str, float]:
    """Where a batch's time goes: validating the profiles, and encoding + the model."""
    from pydantic import TypeAdapter

    from bankreco.api.schemas import CustomerProfile
    from bankreco.domain.profile import encode_profiles
    from bankreco.domain.service import get_recommender
    from bench.report import median

    recommender = get_recommender()
    model = recommender.cache.get(recommender.bank_for(None))
    profile_list = TypeAdapter(list[CustomerProfile])  # as the batch route validates them
    profiles = profile_list.validate_python(customers)
    validate = _timed(lambda: profile_list.validate_python(customers), config["runs"])
    score = _timed(lambda: model.probabilities(encode_profiles(profiles)), config["runs"])
    return {"validate_s": median(validate), "score_s": median(score)}


def batch_naive(config: dict[str, Any]) -> dict[str, Any]:
    from bench import naive

    customers = json.loads(Path(config["profiles"]).read_text())
    pipeline = naive.load(Path(config["naive_model"]))
    body = json.dumps({"customers": customers})
    bodies = [json.dumps(c) for c in customers]
    naive.answer_batch(pipeline, body)

    def row_by_row() -> None:
        for one in bodies:
            naive.answer(pipeline, one)

    return {
        "seconds": _timed(lambda: naive.answer_batch(pipeline, body), config["runs"]),
        "row_seconds": _timed(row_by_row, config["row_runs"]),  # row_runs may be 0
        "profiles": len(customers),
    }


def warm_explain(config: dict[str, Any]) -> dict[str, Any]:
    from bench.explain import measure

    return measure(config)


MODES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "warm-ours": warm_ours,
    "warm-naive": warm_naive,
    "batch-ours": batch_ours,
    "batch-naive": batch_naive,
    "warm-explain": warm_explain,
}


def main(argv: list[str]) -> int:
    mode, config, result = argv
    cpu = pin_to_one_core()
    found = MODES[mode](json.loads(config))
    found.update(cpu=cpu, maxrss_mb=self_maxrss_mb())
    Path(result).write_text(json.dumps(found))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
