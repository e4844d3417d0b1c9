"""The serving rows: warm latency, batch throughput, cold start and peak RSS."""

from __future__ import annotations

import json
import shutil
import sys
import sysconfig
from pathlib import Path
from typing import Any, Final

import numpy as np

from bench.proc import PYTHON, ROOT, ChildRun, child_env, run_json
from bench.report import Line, RowResult, median, met, ratio
from bench.session import Session
from bench.setup import BUCKET, NAIVE_KEY
from layers.build_layer import RUNTIME_PROVIDED

WARM_REPEATS = 3  # processes per side; the medians of their p50 and p99 are reported
NAIVE_ROW_RUNS = 5  # 1,000 naive one-profile requests take seconds
BATCH_ROUNDS = 5  # processes per side for the batch row
#: What the Lambda Python runtime ships, bytecode included, and the layer leaves out, by the
#: name at the top of site-packages: its packages and its single modules (``name.py``).
RUNTIME_TOP_LEVELS = tuple(name for names in RUNTIME_PROVIDED.values() for name in names)
RUNTIME_PACKAGES = tuple(name for name in RUNTIME_TOP_LEVELS if not name.endswith(".py"))
RUNTIME_MODULES = tuple(name[:-3] for name in RUNTIME_TOP_LEVELS if name.endswith(".py"))


def _worker(session: Session, mode: str, config: dict[str, Any]) -> dict[str, Any]:
    bench = session.need()
    env = child_env(bench.serving_env())
    data, _ = run_json(
        [PYTHON, "-m", "bench.worker", mode, json.dumps(config)], env, f"{mode} worker"
    )
    return data


def warm(session: Session) -> RowResult:
    bench, n = session.need(), session.scale.warm_requests
    repeats = 1 if session.scale.quick else WARM_REPEATS
    config = {"n": n, "naive_model": str(bench.naive_model)}
    latencies: dict[str, list[np.ndarray]] = {"ours": [], "naive": []}
    for _ in range(repeats):  # interleaved, so both sides meet the machine's swings alike
        for side, runs in latencies.items():
            runs.append(np.asarray(_worker(session, f"warm-{side}", config)["seconds"]) * 1000)
    sides: dict[str, dict[str, float]] = {}
    for side, runs in latencies.items():
        sides[side] = {
            "p50_ms": median([float(np.percentile(r, 50)) for r in runs]),
            "p99_ms": median([float(np.percentile(r, 99)) for r in runs]),
            "mean_ms": median([float(r.mean()) for r in runs]),
            "max_ms": max(float(r.max()) for r in runs),
        }
    ours, naive = sides["ours"], sides["naive"]
    command = session.command("warm")
    lines = [
        Line(
            "warm",
            f"{name} latency, one profile",
            f"{ours[key]:.3f} ms",
            f"{naive[key]:.3f} ms",
            ratio(naive[key], ours[key], "naive/ours"),
            f"≤ {goal} ms",
            met(ours[key] <= goal),
            command,
        )
        for name, key, goal in (("p50", "p50_ms", 1.0), ("p99", "p99_ms", 3.0))
    ]
    notes = [
        f"ours: `lambda_handler(event, context)` on the three example events of `events/` "
        f"cycled, {n:,} requests after 60 warm-up requests, in {repeats} new process(es) "
        "(median of their p50 and p99), pinned to one core, one thread; model served from "
        "the moto S3 endpoint (TTL 60 s), Powertools metrics on (EMF to stdout), tracing off.",
        "naive: `json.loads(body)` -> one-row DataFrame -> `Pipeline.predict_proba` -> top 7 -> "
        "`json.dumps`, the same bodies, same process setup.",
        f"means: ours {ours['mean_ms']:.3f} ms, naive {naive['mean_ms']:.3f} ms; "
        f"slowest request: ours {ours['max_ms']:.2f} ms, naive {naive['max_ms']:.2f} ms.",
    ]
    data = {"ours": ours, "naive": naive, "requests": n}
    return RowResult("warm", lines, notes, data)


def batch(session: Session) -> RowResult:
    bench, runs = session.need(), session.scale.batch_runs
    config = {"runs": runs, "profiles": str(bench.profiles), "naive_model": str(bench.naive_model)}
    rounds = 1 if session.scale.quick else BATCH_ROUNDS
    ours_runs, naive_runs = [], []
    for round_ in range(rounds):  # interleaved, so both sides meet the machine's swings alike
        ours_runs.append(_worker(session, "batch-ours", config))
        row_runs = 0 if round_ else (1 if session.scale.quick else NAIVE_ROW_RUNS)
        naive_runs.append(_worker(session, "batch-naive", {**config, "row_runs": row_runs}))
    n = ours_runs[0]["profiles"]
    per_s = [n / median(run["seconds"]) for run in ours_runs]
    frame_per_s = [n / median(run["seconds"]) for run in naive_runs]
    rate, frame_rate = median(per_s), median(frame_per_s)
    row_rate = n / median(naive_runs[0]["row_seconds"])
    command = session.command("batch")
    lines = [
        Line(
            "batch",
            f"profiles/s, {n:,} a request, vs {how}",
            f"{rate:,.0f}/s",
            f"{other:,.0f}/s",
            ratio(rate, other, "ours/naive"),
            "≥ 50,000/s",
            met(rate >= 50_000),
            command,
        )
        for how, other in (("one DataFrame", frame_rate), ("row by row", row_rate))
    ]
    total = n / rate
    validate, score = (median([run[key] for run in ours_runs]) for key in ("validate_s", "score_s"))
    cpus = sorted({run["cpu"] for run in ours_runs})
    notes = [
        f"ours: POST /recommendations/batch with {n:,} valid profiles drawn from the generated "
        f"file's last month, through `lambda_handler`; {rounds} process(es) per side, "
        "interleaved with the naive ones, each the median of "
        f"{runs} requests after one warm-up, pinned to one core (CPU {', '.join(map(str, cpus))}), "
        f"one thread; the row is the median process: {total * 1000:.1f} ms a request.",
        f"spread over the processes: ours {min(per_s):,.0f}-{max(per_s):,.0f} profiles/s, "
        f"naive one DataFrame {min(frame_per_s):,.0f}-{max(frame_per_s):,.0f} profiles/s.",
        f"where it goes: validating the {n:,} profiles {validate * 1000:.1f} ms, "
        f"encoding + the compact model {score * 1000:.1f} ms "
        f"({n / score:,.0f} profiles/s alone); the rest "
        f"({(total - validate - score) * 1000:.1f} ms) is parsing the "
        "body, routing, ranking, and writing the answers' JSON text.",
        f"naive: the same body as one DataFrame ({n / frame_rate * 1000:.1f} ms) and "
        f"as {n:,} one-profile requests ({n / row_rate * 1000:.0f} ms, median of "
        f"{len(naive_runs[0]['row_seconds'])} runs in the first process).",
    ]
    data = {
        "ours_per_s": rate,
        "naive_frame_per_s": frame_rate,
        "naive_rows_per_s": row_rate,
        "ours_per_s_runs": per_s,
        "naive_frame_per_s_runs": frame_per_s,
    }
    return RowResult("batch", lines, notes, data)


# ------------------------------------------------------------------------------- cold start


def _bytecode_prefixes(session: Session) -> tuple[Path, Path]:
    """Two bytecode caches (PYTHONPYCACHEPREFIX): `all` holds every module ours and naive
    import; `runtime` only what Lambda has compiled already (the standard library and the
    runtime's boto3), since the layer is built without .pyc and /opt is read-only, so the
    layer's modules compile on every cold start."""
    root = session.workdir / "pycache"
    shutil.rmtree(root, ignore_errors=True)
    full, runtime = root / "all", root / "runtime"
    for side in ("ours", "naive"):
        _cold(session, side, {"PYTHONPYCACHEPREFIX": str(full), "PYTHONDONTWRITEBYTECODE": ""})
    for path in _runtime_compiled():
        source = full / str(path).lstrip("/")
        if source.is_dir():
            shutil.copytree(source, runtime / str(path).lstrip("/"))
    site = Path(sysconfig.get_paths()["purelib"]).resolve()
    for module in RUNTIME_MODULES:
        for single in (full / str(site).lstrip("/")).glob(f"{module}.*.pyc"):
            target = runtime / str(site).lstrip("/") / single.name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(single, target)
    if not any(runtime.rglob("*.pyc")):
        raise RuntimeError(f"no bytecode written under {full}")
    return full, runtime


def _runtime_compiled() -> list[Path]:
    """The directories whose bytecode the Lambda runtime ships: the standard library and the
    runtime's own packages."""
    paths = sysconfig.get_paths()
    site = Path(paths["purelib"]).resolve()
    return [Path(paths["stdlib"]).resolve(), *(site / name for name in RUNTIME_PACKAGES)]


def _quick_bytecode(session: Session) -> tuple[dict[str, str], dict[str, str]]:
    """The quick run's two environments, without compiling anything: with .pyc, the
    interpreter's own bytecode beside the sources; without, a PYTHONPYCACHEPREFIX holding
    copies of the runtime's compiled files (the standard library's and boto3's)."""
    runtime = session.workdir / "pycache" / "quick-runtime"
    if not runtime.is_dir():
        tag = sys.implementation.cache_tag
        for directory in _runtime_compiled():
            for compiled in directory.rglob(f"__pycache__/*.{tag}.pyc"):
                inner = compiled.relative_to(directory).parts
                if ".opt-" in compiled.name or "site-packages" in inner or "test" in inner[:1]:
                    continue
                source_dir = compiled.parent.parent
                target = runtime / str(source_dir).lstrip("/") / compiled.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(compiled, target)
    pyc = {"PYTHONDONTWRITEBYTECODE": ""}
    return pyc, {"PYTHONPYCACHEPREFIX": str(runtime), "PYTHONDONTWRITEBYTECODE": "1"}


def _cold(session: Session, side: str, extra: dict[str, str] | None = None) -> dict[str, float]:
    data, run = _cold_child(session, side, extra)
    return {
        "total_s": data["answered"] - run.started_at,
        "startup_s": data["started"] - run.started_at,
        "import_s": data["imported"] - data["started"],
        "first_request_s": data["answered"] - data["imported"],
        "maxrss_mb": data["maxrss_mb"],
    }


def _cold_child(
    session: Session, side: str, extra: dict[str, str] | None, **more: str
) -> tuple[dict[str, Any], ChildRun]:
    bench = session.need()
    config = {"profiles": str(bench.profiles), "bucket": BUCKET, "naive_key": NAIVE_KEY, **more}
    env = child_env({**bench.serving_env(), **(extra or {})})
    script = str(ROOT / "bench" / "cold_child.py")
    return run_json([PYTHON, script, side, json.dumps(config)], env, f"cold {side}", pin=True)


def largest_imports(importtime: str, top: int = 6) -> list[tuple[str, float]]:
    """(top-level package, seconds) of the most expensive imports in `-X importtime` output,
    by the packages' own (self) time."""
    totals: dict[str, float] = {}
    for line in importtime.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        totals[package] = totals.get(package, 0.0) + int(parts[0]) / 1e6
    return sorted(totals.items(), key=lambda item: -item[1])[:top]


def _medians(runs: list[dict[str, float]]) -> dict[str, float]:
    return {key: median([run[key] for run in runs]) for key in runs[0]}


AVOIDED_RUNS: Final = 3
#: Imports the init phase leaves out, and how (the cold row times what each would add).
AVOIDED_IMPORTS: Final = {
    "aws_xray_sdk.core": "the X-Ray SDK (Powertools' Tracer, opt-in with `XRaySdk=true`)",
    "boto3": "boto3 and s3transfer (the S3 store takes its client from botocore)",
    "aws_lambda_powertools.event_handler.openapi.swagger_ui": "Powertools' OpenAPI models "
    "and Swagger UI (`enable_swagger`; bankreco builds the page on its first request)",
}


def cold_runs(session: Session) -> dict[str, dict[str, float]]:
    """Cold starts of ours with and without the layer's bytecode, and of naive."""
    if "cold" in session.memo:
        found: dict[str, dict[str, float]] = session.memo["cold"]
        return found
    n, quick = session.scale.cold_runs, session.scale.quick
    if quick:  # a smoke run: no compiling, no discarded runs
        pyc, no_pyc = _quick_bytecode(session)
    else:
        full, runtime = _bytecode_prefixes(session)
        pyc = {"PYTHONPYCACHEPREFIX": str(full), "PYTHONDONTWRITEBYTECODE": "1"}
        no_pyc = {"PYTHONPYCACHEPREFIX": str(runtime), "PYTHONDONTWRITEBYTECODE": "1"}
    variants: dict[str, tuple[str, dict[str, str]]] = {
        "ours": ("ours", pyc),
        "ours_no_pyc": ("ours", no_pyc),
        "naive": ("naive", pyc),
    }
    results = {}
    for name, (side, extra) in variants.items():
        if not quick:
            _cold(session, side, extra)  # prime the page cache, discarded
        results[name] = _medians([_cold(session, side, extra) for _ in range(n)])
    _, profiled = _cold_child(session, "ours", {**pyc, "PYTHONPROFILEIMPORTTIME": "1"})
    session.memo["cold"] = results
    session.memo["imports"] = largest_imports(profiled.stderr)
    runs = 1 if session.scale.quick else AVOIDED_RUNS
    session.memo["avoided_runs"] = runs
    session.memo["avoided"] = {
        module: median(
            [_cold_child(session, "avoided", pyc, module=module)[0]["seconds"] for _ in range(runs)]
        )
        for module in AVOIDED_IMPORTS
    }
    return results


def cold(session: Session) -> RowResult:
    found, n = cold_runs(session), session.scale.cold_runs
    ours, no_pyc, naive = found["ours"], found["ours_no_pyc"], found["naive"]
    command = session.command("cold")
    lines = [
        Line(
            "cold",
            f"new process -> first answer, layer {how}",
            f"{mine['total_s']:.3f} s",
            f"{naive['total_s']:.3f} s",
            ratio(naive["total_s"], mine["total_s"], "naive/ours"),
            "≤ 1.0 s",
            met(mine["total_s"] <= 1.0),
            command,
        )
        for how, mine in (("with .pyc", ours), ("without .pyc", no_pyc))
    ]

    def parts(x: dict[str, float]) -> str:
        return (
            f"interpreter start {x['startup_s']:.3f} s, import (init phase) "
            f"{x['import_s']:.3f} s, first request {x['first_request_s']:.3f} s"
        )

    primed = "" if session.scale.quick else " (after one discarded run that warms the page cache)"
    notes = [
        f"median of {n} new processes each{primed}, pinned to one core; time from spawn to the "
        "first answer printed, split with CLOCK_MONOTONIC timestamps printed by the child.",
        "ours: imports functions/predict/app.py by file as the runtime does, with the "
        "function's environment of template.yaml (PRELOAD_MODEL=true: its init phase fetches "
        "current.json, the manifest and the compact model from the moto S3 endpoint on "
        "loopback), then answers POST /recommendations.",
        "bytecode: Lambda's /opt is read-only, so a layer without .pyc compiles its modules "
        "on every cold start. `build_layer.py` precompiles them only when run by the target "
        "Python (3.12); check its output. With .pyc: a PYTHONPYCACHEPREFIX holding every "
        "module's bytecode; without: one holding only the standard library's and the "
        "runtime's boto3 (PYTHONDONTWRITEBYTECODE set in both).",
        f"ours, layer with .pyc: {parts(ours)}.",
        f"ours, layer without .pyc: {parts(no_pyc)}.",
        "naive: `import sklearn.ensemble, pandas, boto3`, fetch the pickled pipeline from the "
        f"same S3 endpoint, unpickle, first `predict_proba` (with .pyc): {parts(naive)}.",
        "not included: the Lambda runtime's own start (Firecracker, bootstrap), a cold disk, "
        "and Lambda's init-phase CPU boost or SnapStart.",
        "largest imports of ours (with .pyc; own time by top-level package, one run with "
        "`-X importtime`): "
        + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in session.memo["imports"])
        + ".",
        "imports the init phase leaves out, each timed on top of the function's own in a new "
        f"process (median of {session.memo['avoided_runs']}, with .pyc): "
        + "; ".join(
            f"{AVOIDED_IMPORTS[module]} {seconds:.3f} s"
            for module, seconds in session.memo["avoided"].items()
        )
        + ".",
    ]
    return RowResult("cold", lines, notes, found)


def rss(session: Session) -> RowResult:
    found = cold_runs(session)
    ours, naive = found["ours"]["maxrss_mb"], found["naive"]["maxrss_mb"]
    line = Line(
        "rss",
        "peak RSS after serving one bank",
        f"{ours:.0f} MB",
        f"{naive:.0f} MB",
        ratio(naive, ours, "naive/ours"),
        "≤ 250 MB",
        met(ours <= 250),
        session.command("rss"),
    )
    notes = [
        "peak RSS (VmHWM, read by the child itself; `ru_maxrss` would include the parent's "
        "RSS, which Linux carries over fork and exec) of the cold-start child after its first "
        f"answer, the two other example requests and one batch of {session.scale.batch_size:,} "
        "profiles (median of "
        "the cold row's runs, layer with .pyc; without: "
        f"{found['ours_no_pyc']['maxrss_mb']:.0f} MB).",
    ]
    return RowResult("rss", [line], notes, {"ours_mb": ours, "naive_mb": naive})
