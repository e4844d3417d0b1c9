"""The cost row: a million recommendations on Lambda (arm64) behind API Gateway (REST)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Final

from bench.report import Line, RowResult, ratio
from bench.session import Session

GB_SECOND: Final = 0.0000133334  # arm64, $ per GB-s
LAMBDA_REQUESTS: Final = 0.20  # $ per million requests
API_GATEWAY: Final = 3.50  # REST API, $ per million requests
FULL_VCPU_MB: Final = 1769  # Lambda gives one vCPU at 1,769 MB, proportionally less below
DEFAULT_MB: Final = 1024  # template.yaml's MemorySize
MEMORY_RANGE: Final = range(128, 3009)
SHOWN: Final = (128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008)


def billed_ms(p50_ms: float, memory_mb: int) -> int:
    """The handler's time scaled by the CPU share of `memory_mb`, billed per started ms."""
    scaled = p50_ms * max(1.0, FULL_VCPU_MB / memory_mb)
    return max(1, math.ceil(round(scaled, 9)))


def per_million(p50_ms: float, memory_mb: int) -> float:
    """$ for a million one-profile recommendations: Lambda duration + requests + API Gateway."""
    duration = billed_ms(p50_ms, memory_mb) / 1000 * memory_mb / 1024 * GB_SECOND * 1e6
    return duration + LAMBDA_REQUESTS + API_GATEWAY


def cheapest(p50_ms: float, min_memory_mb: float) -> tuple[int, float]:
    """(memory size, $ per million) of the cheapest size in 128..3008 MB that holds the
    process (at least `min_memory_mb`); ties go to the smaller size."""
    sizes = [m for m in MEMORY_RANGE if m >= min_memory_mb] or [MEMORY_RANGE[-1]]
    best = min(sizes, key=lambda m: (round(per_million(p50_ms, m), 9), m))
    return best, per_million(p50_ms, best)


def _inputs(session: Session, run_row: Callable[[str], RowResult]) -> dict[str, Any]:
    """Warm p50 and peak RSS of both sides: from this run, else the last saved run, else
    measured now."""
    found: dict[str, Any] = {"sources": []}
    saved = session.saved()
    for row in ("warm", "rss"):
        if f"row:{row}" in session.memo:
            found[row], source = session.memo[f"row:{row}"], "this run"
        elif row in saved:
            found[row], source = saved[row], f"an earlier run ({session.workdir}/results.json)"
        else:
            found[row], source = run_row(row).data, "this run"
        found["sources"].append(f"{row} from {source}")
    return found


def cost(session: Session, run_row: Callable[[str], RowResult]) -> RowResult:
    inputs = _inputs(session, run_row)
    sides = {
        side: (inputs["warm"][side]["p50_ms"], inputs["rss"][f"{side}_mb"])
        for side in ("ours", "naive")
    }
    at_default = {side: per_million(p50, DEFAULT_MB) for side, (p50, _) in sides.items()}
    best = {side: cheapest(p50, rss) for side, (p50, rss) in sides.items()}
    command = session.command("cost")
    lines = [
        Line(
            "cost",
            f"$ per million recommendations at {DEFAULT_MB} MB (template default)",
            f"${at_default['ours']:.4f}",
            f"${at_default['naive']:.4f}",
            ratio(at_default["naive"], at_default["ours"], "naive/ours"),
            "report",
            "-",
            command,
        ),
        Line(
            "cost",
            "cheapest memory size (128-3,008 MB)",
            f"${best['ours'][1]:.4f} at {best['ours'][0]} MB",
            f"${best['naive'][1]:.4f} at {best['naive'][0]} MB",
            ratio(best["naive"][1], best["ours"][1], "naive/ours"),
            "report",
            "-",
            command,
        ),
    ]
    p50 = sides["ours"][0]
    table = ", ".join(f"{m} MB: {billed_ms(p50, m)} ms ${per_million(p50, m):.4f}" for m in SHOWN)
    notes = [
        f"model: warm p50 handler time (ours {p50:.3f} ms, naive {sides['naive'][0]:.3f} ms, "
        f"measured on one core here) × {FULL_VCPU_MB}/memory below {FULL_VCPU_MB} MB, billed "
        f"per started ms (min 1 ms); arm64 ${GB_SECOND} per GB-s, ${LAMBDA_REQUESTS:.2f} per "
        f"million Lambda requests, ${API_GATEWAY:.2f} per million REST API requests. Sizes "
        f"below the measured peak RSS (ours {sides['ours'][1]:.0f} MB, naive "
        f"{sides['naive'][1]:.0f} MB) are not considered.",
        f"ours by memory size: {table}. The cheapest size is one where the scaled time just "
        "fits a whole billed ms, so it moves with the measured p50; between sizes the cost "
        "differs by under 1%.",
        f"API Gateway is ${API_GATEWAY:.2f} of every million: Lambda itself costs "
        f"${at_default['ours'] - API_GATEWAY:.4f} at {DEFAULT_MB} MB and "
        f"${best['ours'][1] - API_GATEWAY:.4f} at {best['ours'][0]} MB; a batch request of "
        "1,000 profiles pays the two per-request prices once.",
        "Graviton's speed per vCPU is taken as this machine's core; cold starts, the p99 and "
        "free tiers are not counted. Inputs: " + ", ".join(inputs["sources"]) + ".",
    ]
    data = {"default": at_default, "cheapest": best}
    return RowResult("cost", lines, notes, data)
