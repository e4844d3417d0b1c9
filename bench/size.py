"""The size row: the layer and function as `layers/build_layer.py` builds them, against the
unslimmed wheels the naive service would ship (numpy, scipy, scikit-learn, pandas, Powertools,
pydantic) for the same Lambda target."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Final

from bench.proc import MB, PYTHON, ROOT, child_env, run_child
from bench.report import Line, RowResult, met, ratio
from bench.session import Session

BUILD_LAYER = ROOT / "layers" / "build_layer.py"
FUNCTION_DIR = ROOT / "functions" / "predict"
NAIVE_PACKAGES: Final = (
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "aws-lambda-powertools",
    "pydantic",
)
#: Distributions the Lambda runtime provides: not counted on either side.
RUNTIME_PROVIDED: Final = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "urllib3", "python-dateutil", "six"}
)
SIZES: Final = re.compile(
    r"^\s*(layer|function|total)\s+unzipped\s+([\d.]+) MB\s+zipped\s+([\d.]+) MB", re.MULTILINE
)


def build_layer_module() -> ModuleType:
    """layers/build_layer.py as a module (for its Lambda platform tags and lock handling)."""
    spec = importlib.util.spec_from_file_location("bankreco_build_layer", BUILD_LAYER)
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot import {BUILD_LAYER}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def parse_sizes(output: str) -> dict[str, tuple[float, float]]:
    """`{"layer"|"function"|"total": (unzipped MB, zipped MB)}` from build_layer's output."""
    return {m[1]: (float(m[2]), float(m[3])) for m in SIZES.finditer(output)}


def _dist_name(wheel: Path) -> str:
    return re.sub(r"[-_.]+", "-", wheel.name.split("-")[0]).lower()


def wheel_sizes(wheels: list[Path]) -> tuple[float, float]:
    """(unzipped MB, zipped MB) of wheels: their files' sizes and the wheels' own sizes
    (a wheel is a deflate zip, as a layer is)."""
    unzipped = zipped = 0
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            unzipped += sum(info.file_size for info in archive.infolist())
        zipped += wheel.stat().st_size
    return unzipped / MB, zipped / MB


def _build(session: Session, name: str, *extra: str) -> dict[str, tuple[float, float]]:
    """build_layer.py's sizes (bytecode included) of one build of the layer recipe."""
    out = session.workdir / "size" / name
    command = [PYTHON, str(BUILD_LAYER), "--out", str(out), "--function-dir", str(FUNCTION_DIR)]
    command += ["--max-unzipped-mb", "0", "--max-zipped-mb", "0", *extra]
    env = child_env({"PIP_CACHE_DIR": str(session.workdir / "pip-cache")}, one_thread=False)
    run = run_child(command, env, timeout=1800).check("layers/build_layer.py")
    sizes = parse_sizes(run.stdout)
    if "total" not in sizes:
        raise RuntimeError(f"no sizes in build_layer.py's output:\n{run.stdout[-2000:]}")
    return sizes


def ours_sizes(session: Session) -> dict[str, tuple[float, float]]:
    """The Lambda build's sizes, and as "compiled" the total of the same recipe built for this
    machine's Python, which can compile the bytecode a 3.12 build would ship."""
    sizes = _build(session, "layer")
    sizes["compiled"] = _build(session, "layer-local", "--local")["total"]
    return sizes


def naive_wheels(session: Session) -> list[Path]:
    """Download (once) the naive service's wheels for the Lambda target, pinned by the lock."""
    layer = build_layer_module()
    pins = layer.resolve_lock(
        ROOT / "requirements.lock", layer.target_environment(False, layer.LAMBDA_PYTHON)
    )
    text = "\n".join(pins) + "\n"
    dest = session.workdir / "size" / f"wheels-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    dest.mkdir(parents=True, exist_ok=True)
    constraints = dest / "constraints.txt"
    constraints.write_text(text)
    done = dest / ".done"
    if not done.exists():
        platforms = [arg for tag in layer.LAMBDA_PLATFORMS for arg in ("--platform", tag)]
        command = [PYTHON, "-m", "pip", "download", "--disable-pip-version-check", "--no-input"]
        command += ["--progress-bar", "off", "--dest", str(dest), "--only-binary=:all:"]
        command += [*platforms, "--python-version", layer.LAMBDA_PYTHON, "--implementation", "cp"]
        command += ["-c", str(constraints), *NAIVE_PACKAGES]
        env = child_env({"PIP_CACHE_DIR": str(session.workdir / "pip-cache")}, one_thread=False)
        run_child(command, env, timeout=1800).check("pip download")
        done.touch()
    return sorted(w for w in dest.glob("*.whl") if _dist_name(w) not in RUNTIME_PROVIDED)


def size(session: Session) -> RowResult:
    ours = ours_sizes(session)
    wheels = naive_wheels(session)
    function = ours.get("function", (0.0, 0.0))
    naive_unzipped, naive_zipped = wheel_sizes(wheels)
    naive_total = (naive_unzipped + function[0], naive_zipped + function[1])
    total = ours["total"]
    compiled = ours.get("compiled", total)
    command = session.command("size")
    lines = [
        Line(
            "size",
            f"layer + function, {what}",
            f"{total[i]:.1f} MB ({compiled[i]:.1f} MB with .pyc)",
            f"{naive_total[i]:.1f} MB",
            ratio(naive_total[i], total[i], "naive/ours"),
            f"≤ {goal} MB",
            met(max(total[i], compiled[i]) <= goal),
            command,
        )
        for i, what, goal in ((0, "unzipped", 150), (1, "zipped", 50))
    ]
    layer = ours.get("layer", total)
    notes = [
        "ours: `python layers/build_layer.py --out <workdir>/size/layer --function-dir "
        "functions/predict --max-unzipped-mb 0 --max-zipped-mb 0` (CPython 3.12, manylinux "
        f"aarch64): layer {layer[0]:.1f} / {layer[1]:.1f} MB, function {function[0]:.2f} / "
        f"{function[1]:.2f} MB (unzipped / zipped; 1 MB = 2**20 bytes, .pyc files included). "
        "build_layer.py writes bytecode only when run by the target Python (3.12): this build "
        "ran on " + sys.version.split()[0] + ". With .pyc: the same recipe built for this "
        f"machine's Python (`--local`), which compiles it: {compiled[0]:.1f} / {compiled[1]:.1f} "
        "MB, an estimate of a 3.12 build's size."
        + " The optional scikit-learn layer (models without a compact form) is not counted.",
        "naive: `pip download` of " + ", ".join(NAIVE_PACKAGES) + " with their dependencies "
        "for the same target and the lock's versions, without what the runtime provides "
        f"(boto3 and its dependencies): {len(wheels)} wheels, unslimmed; unzipped = the "
        "wheels' files, zipped = the wheels themselves; plus the same function code.",
        "naive wheels: "
        + ", ".join(w.name.split("-")[0] + " " + w.name.split("-")[1] for w in wheels)
        + ".",
    ]
    data = {"ours": ours, "naive": naive_total}
    return RowResult("size", lines, notes, data)
