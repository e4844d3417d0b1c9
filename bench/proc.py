"""Child processes: the environment they run in, pinning to one core, and measuring them."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
MB = 1024 * 1024

#: Fake credentials and quiet-but-production-like Powertools for every child.
BASE_ENV: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "bankreco",
    "POWERTOOLS_METRICS_NAMESPACE": "Bankreco",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_LOGGER_LOG_EVENT": "false",
    "POWERTOOLS_TRACE_DISABLED": "true",
}
#: One thread for every numeric library: the rows are measured on one core.
ONE_THREAD: Mapping[str, str] = {
    name: "1"
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "BLIS_NUM_THREADS")
}


def child_env(extra: Mapping[str, str] | None = None, *, one_thread: bool = True) -> dict[str, str]:
    """The parent's environment without AWS, Powertools, model and bytecode settings, plus
    BASE_ENV and `extra`."""
    dropped = ("AWS_", "POWERTOOLS_", "MODEL_", "BANK_ID", "ALLOWED_BANKS", "PYTHONDONTWRITE")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.pop("PYTHONPYCACHEPREFIX", None)
    env.update(BASE_ENV)
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ in the work tree; "" to allow
    if one_thread:
        env.update(ONE_THREAD)
    env.update(extra or {})
    return env


def _idle_ticks() -> dict[int, int]:
    ticks = {}
    for line in Path("/proc/stat").read_text().splitlines():
        name, *fields = line.split()
        if name.startswith("cpu") and name[3:].isdigit():
            ticks[int(name[3:])] = int(fields[3]) + int(fields[4])  # idle + iowait
    return ticks


def quietest_cpu(window: float = 0.25) -> int:
    """The allowed CPU that was idle the most over `window` seconds (the lowest on a tie, or
    when /proc/stat cannot be read): on a shared machine, the one other jobs use least."""
    allowed = sorted(os.sched_getaffinity(0))
    try:
        before = _idle_ticks()
        time.sleep(window)
        after = _idle_ticks()
        return max(allowed, key=lambda c: (after.get(c, 0) - before.get(c, 0), -c))
    except (OSError, ValueError, IndexError):
        return allowed[0]


CPU_VAR = "BENCH_CPU"


def pin_to_one_core() -> int:
    """Pin this process to one CPU ($BENCH_CPU, else the quietest it may use) and every
    thread pool to one thread."""
    cpu = int(os.environ.get(CPU_VAR) or quietest_cpu())
    os.sched_setaffinity(0, {cpu})
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped, unused-ignore]

    threadpool_limits(1)
    return cpu


def peak_rss_mb(pid: int | str = "self") -> float | None:
    """VmHWM of a process in MB: the peak RSS of its own memory since its exec. (Linux carries
    `ru_maxrss` over fork and exec, so a child's `ru_maxrss` is at least its parent's RSS.)"""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / MB
    except (OSError, ValueError, IndexError):
        pass
    return None


@dataclass(frozen=True)
class ChildRun:
    """A finished child: exit status, wall seconds, its peak RSS and its output."""

    returncode: int
    started_at: float  # time.monotonic() just before the spawn
    seconds: float
    maxrss_mb: float  # the highest VmHWM seen while it ran
    stdout: str
    stderr: str

    def check(self, what: str) -> ChildRun:
        if self.returncode != 0:
            tail = (self.stderr or self.stdout)[-3000:]
            raise RuntimeError(f"{what} failed (exit {self.returncode}):\n{tail}")
        return self


def run_child(
    command: Sequence[str],
    env: Mapping[str, str],
    *,
    cwd: Path = ROOT,
    timeout: float = 3600.0,
    pin: bool = False,
) -> ChildRun:
    """Run `command` to completion, watching its peak RSS (VmHWM, read every few ms until it
    exits). With `pin`, the child is told ($BENCH_CPU) the quietest CPU to pin itself to."""
    env = {**env, CPU_VAR: str(quietest_cpu())} if pin else dict(env)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.monotonic()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err)
        deadline = start + timeout
        peak = 0.0
        while True:
            seen = peak_rss_mb(process.pid)
            peak = max(peak, seen or 0.0)
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                process.kill()
                pid, status, _ = os.wait4(process.pid, 0)
                break
            time.sleep(0.002 if time.monotonic() - start < 5 else 0.02)
        seconds = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return ChildRun(
            returncode=process.returncode,
            started_at=start,
            seconds=seconds,
            maxrss_mb=peak,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
        )


def self_maxrss_mb() -> float:
    """This process's peak RSS in MB: VmHWM, else ru_maxrss (kilobytes on Linux)."""
    found = peak_rss_mb()
    return found if found is not None else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_json(
    command: Sequence[str],
    env: Mapping[str, str],
    what: str,
    *,
    timeout: float = 3600.0,
    pin: bool = False,
) -> tuple[dict[str, Any], ChildRun]:
    """Run a bench child that writes one JSON object to the file named by its last argument."""
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        result = Path(tmp) / "result.json"
        run = run_child([*command, str(result)], env, timeout=timeout, pin=pin).check(what)
        data: dict[str, Any] = json.loads(result.read_text())
        return data, run
