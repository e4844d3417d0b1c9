"""The size row: the layer and function as `layers/build_layer.py` builds them, against the
unslimmed wheels the naive service would ship (numpy, scipy, scikit-learn, pandas, Powertools,
pydantic) for the same Lambda target."""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path
from typing import Final

from bench.proc import MB, PYTHON, ROOT, child_env, run_child
from bench.report import Line, RowResult, met, ratio
from bench.session import Session
from layers.build_layer import (
    LAMBDA_PLATFORMS,
    LAMBDA_PYTHON,
    RUNTIME_PROVIDED,
    BuildError,
    LayerBuild,
    LayerSpec,
    build_layer,
    canonical,
    resolve_lock,
    target_environment,
)

FUNCTION_DIR = ROOT / "functions" / "predict"
NAIVE_PACKAGES: Final = (
    "numpy",
    "scipy",
    "scikit-learn",
    "pandas",
    "aws-lambda-powertools",
    "pydantic",
)
#: Not counted on either side: the Lambda runtime provides them (canonical names).
RUNTIME_DISTS: Final = frozenset(canonical(name) for name in RUNTIME_PROVIDED)


def _dist_name(wheel: Path) -> str:
    return canonical(wheel.name.split("-")[0])


def wheel_sizes(wheels: list[Path]) -> tuple[float, float]:
    """(unzipped MB, zipped MB) of wheels: their files' sizes and the wheels' own sizes
    (a wheel is a deflate zip, as a layer is)."""
    unzipped = zipped = 0
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as archive:
            unzipped += sum(info.file_size for info in archive.infolist())
        zipped += wheel.stat().st_size
    return unzipped / MB, zipped / MB


def sizes_mb(build: LayerBuild) -> dict[str, tuple[float, float]]:
    """`{"layer"|"function"|"total": (unzipped MB, zipped MB)}` of one build."""
    sizes = {"layer": build.layer.mb, "total": build.total.mb}
    if build.function is not None:
        sizes["function"] = build.function.mb
    return sizes


def _build(session: Session, name: str, *, local: bool = False) -> LayerBuild:
    """One build of the layer recipe into <workdir>/size/<name>; its output (pip's included)
    goes to <workdir>/size/<name>.log, not to the bench's."""
    out = session.workdir / "size" / name
    out.mkdir(parents=True, exist_ok=True)
    spec = LayerSpec(out=out, repo_root=ROOT, local=local, function_dir=FUNCTION_DIR)
    log_path = out.with_name(f"{name}.log")
    with log_path.open("w", encoding="utf-8") as log:
        try:
            return build_layer(spec, log=log, pip_cache_dir=session.workdir / "pip-cache")
        except BuildError as exc:
            raise RuntimeError(f"layers/build_layer.py: {exc} (its output: {log_path})") from exc


def ours_sizes(session: Session) -> dict[str, tuple[float, float]]:
    """The Lambda build's sizes, and as "compiled" the total of the same recipe built for this
    machine's Python, which can compile the bytecode a 3.12 build would ship."""
    sizes = sizes_mb(_build(session, "layer"))
    sizes["compiled"] = _build(session, "layer-local", local=True).total.mb
    return sizes


def naive_wheels(session: Session) -> list[Path]:
    """Download (once) the naive service's wheels for the Lambda target, pinned by the lock."""
    pins = resolve_lock(ROOT / "requirements.lock", target_environment(False, LAMBDA_PYTHON))
    text = "\n".join(pins) + "\n"
    dest = session.workdir / "size" / f"wheels-{hashlib.sha256(text.encode()).hexdigest()[:12]}"
    dest.mkdir(parents=True, exist_ok=True)
    constraints = dest / "constraints.txt"
    constraints.write_text(text)
    done = dest / ".done"
    if not done.exists():
        platforms = [arg for tag in LAMBDA_PLATFORMS for arg in ("--platform", tag)]
        command = [PYTHON, "-m", "pip", "download", "--disable-pip-version-check", "--no-input"]
        command += ["--progress-bar", "off", "--dest", str(dest), "--only-binary=:all:"]
        command += [*platforms, "--python-version", LAMBDA_PYTHON, "--implementation", "cp"]
        command += ["-c", str(constraints), *NAIVE_PACKAGES]
        env = child_env({"PIP_CACHE_DIR": str(session.workdir / "pip-cache")}, one_thread=False)
        run_child(command, env, timeout=1800).check("pip download")
        done.touch()
    return sorted(w for w in dest.glob("*.whl") if _dist_name(w) not in RUNTIME_DISTS)


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
