#!/usr/bin/env python3
"""Build the bankreco Lambda layer: the runtime dependencies plus the bankreco package.

One recipe, for the Lambda target (default) and for the running interpreter (``--local``):

1. ``pip install -c <lock> -r layers/requirements.in --target <out>/python``.  The repo's one
   lock (``requirements.lock``, made by ``uv pip compile --universal``) carries environment
   markers (e.g. one scipy pin for Python < 3.12 and another for >= 3.12).  pip would evaluate
   them for the interpreter running it, not for ``--python-version``, so they are evaluated here
   for the *target* and pip gets a marker-free constraints file.
   Lambda target: CPython 3.12 wheels for manylinux aarch64 only (``--only-binary=:all:``).
   ``--local``: the running interpreter, no platform flags.
2. ``pip install --no-deps`` of the bankreco package itself (pure Python), from a temporary copy
   of ``pyproject.toml`` + ``src/`` so nothing is written into the work tree.
3. Removes what the Lambda Python runtime already ships (boto3, botocore, s3transfer, jmespath,
   urllib3, python-dateutil, six): the lock pins them together with boto3, but the runtime's own
   copies are the ones used.
4. Slims: ``tests`` directories, ``__pycache__``, bytecode, Cython/C sources and headers,
   console scripts.  Runtime modules such as ``numpy.testing`` (imported by scipy/sklearn)
   stay.
5. Prints the unzipped and zipped (deflate) sizes of the layer, of ``--function-dir`` and of
   both, and exits 1 when a total is above ``--max-unzipped-mb`` / ``--max-zipped-mb``.

``sam build`` runs this through ``layers/Makefile`` (target ``build-BankrecoLayer``).
"""

from __future__ import annotations

import argparse
import compileall
import csv
import importlib
import importlib.metadata
import os
import py_compile
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LAYER_DIR = Path(__file__).resolve().parent
REPO_ROOT_ENV = "BANKRECO_REPO_ROOT"
MB = 1024 * 1024
LAMBDA_LIMIT_MB = 250

#: Lambda's python3.12 runtime is Amazon Linux 2023 (glibc 2.34): every manylinux tag up to
#: glibc 2.34 runs there.  pip does not expand ``manylinux_2_28`` to older glibc tags itself,
#: so all of them are listed (manylinux2014 == manylinux_2_17).
LAMBDA_PLATFORMS: tuple[str, ...] = (
    "manylinux2014_aarch64",
    *(f"manylinux_2_{minor}_aarch64" for minor in range(17, 35)),
)
LAMBDA_PYTHON = "3.12"
#: First pip that checks Requires-Python against ``--python-version`` when installing.
PIP_CHECKS_TARGET_PYTHON = (24, 2)

#: Distributions the Lambda Python runtime provides (boto3 and its dependency closure), with
#: their top-level import names, removed from the layer so the runtime's copies are used.
RUNTIME_PROVIDED: Mapping[str, tuple[str, ...]] = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "urllib3": ("urllib3",),
    "python-dateutil": ("dateutil",),
    "six": ("six.py",),
}

PRUNED_DIR_NAMES = frozenset({"__pycache__", "tests"})
PRUNED_SUFFIXES = frozenset(
    {".pyc", ".pyo", ".pyx", ".pxd", ".pxi", ".c", ".cc", ".cpp", ".h", ".hpp"}
)


class BuildError(Exception):
    """A step of the build failed; the message says which and why."""


@dataclass(frozen=True)
class Size:
    unzipped: int
    zipped: int


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def default_repo_root() -> Path:
    from_env = os.environ.get(REPO_ROOT_ENV)
    return Path(from_env).resolve() if from_env else LAYER_DIR.parent


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build the bankreco Lambda layer into OUT/python and report its size.",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output directory; the layer goes to OUT/python (default: REPO/build/layer)",
    )
    parser.add_argument(
        "--repo-root",
        type=Path,
        default=None,
        help=f"repo with pyproject.toml and requirements.lock "
        f"(default: ${REPO_ROOT_ENV}, else the parent of {LAYER_DIR.name}/)",
    )
    parser.add_argument("--lock", type=Path, default=None, help="default: REPO/requirements.lock")
    parser.add_argument(
        "--requirements",
        type=Path,
        default=LAYER_DIR / "requirements.in",
        help="top-level runtime packages (default: %(default)s)",
    )
    parser.add_argument(
        "--omit",
        action="append",
        default=[],
        metavar="DIST",
        help="a distribution another layer provides (e.g. numpy for the sklearn layer); repeatable",
    )
    parser.add_argument(
        "--without-project",
        action="store_true",
        help="leave the bankreco package out (for a dependency-only layer)",
    )
    parser.add_argument(
        "--local",
        action="store_true",
        help="build for the running interpreter instead of Lambda (cp312, manylinux aarch64)",
    )
    parser.add_argument(
        "--python-version",
        default=LAMBDA_PYTHON,
        help="target Python of the Lambda build (default: %(default)s)",
    )
    parser.add_argument(
        "--platform",
        action="append",
        default=None,
        help="pip platform tag of the Lambda build; repeatable (default: manylinux2014 and "
        "manylinux_2_17..2_34, aarch64)",
    )
    parser.add_argument(
        "--function-dir",
        type=Path,
        default=None,
        help="function code counted in the total size (e.g. functions/predict)",
    )
    parser.add_argument(
        "--max-unzipped-mb",
        type=float,
        default=float(LAMBDA_LIMIT_MB),
        help="fail above this total unzipped size in MB (default: %(default)s; 0 = no limit)",
    )
    parser.add_argument(
        "--max-zipped-mb",
        type=float,
        default=0.0,
        help="fail above this total zipped size in MB (default: 0 = no limit)",
    )
    args = parser.parse_args(argv)
    if args.local and args.platform:
        parser.error("--platform applies to the Lambda build only, not with --local")
    return args


# --------------------------------------------------------------------------- lock handling


def _marker_class() -> Any:
    """``packaging.markers.Marker``, or pip's vendored copy where packaging is not installed."""
    for module in ("packaging.markers", "pip._vendor.packaging.markers"):
        try:
            return importlib.import_module(module).Marker
        except ImportError:
            continue
    raise BuildError("need 'packaging' (or pip) importable to evaluate the lock's markers")


def target_environment(local: bool, python_version: str) -> dict[str, str] | None:
    """Marker environment of the build target; ``None`` means the running interpreter."""
    if local:
        return None
    parts = python_version.split(".")
    full = ".".join([*parts, "0"][:3]) if len(parts) < 3 else python_version
    return {
        "python_version": ".".join(parts[:2]),
        "python_full_version": full,
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
        "platform_machine": "aarch64",
        "platform_system": "Linux",
        "sys_platform": "linux",
        "os_name": "posix",
    }


def _logical_lines(text: str) -> Iterator[str]:
    pending = ""
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending


def resolve_lock(lock: Path, environment: dict[str, str] | None) -> list[str]:
    """The lock's pins that apply to ``environment``, without markers, hashes or comments."""
    marker_class = _marker_class()
    pins: list[str] = []
    for line in _logical_lines(lock.read_text(encoding="utf-8")):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-")):
            continue
        stripped = re.sub(r"\s+#.*$", "", stripped)
        stripped = re.sub(r"\s--hash[ =]\S+", "", stripped)
        requirement, _, marker = stripped.partition(";")
        if marker.strip() and not marker_class(marker.strip()).evaluate(environment):
            continue
        pins.append(requirement.strip())
    if not pins:
        raise BuildError(f"no pins found in {lock}")
    return pins


# --------------------------------------------------------------------------- installing


def pip_version() -> tuple[int, ...]:
    """Version of the pip that ``sys.executable -m pip`` runs (release numbers only)."""
    numbers = re.findall(r"\d+", importlib.metadata.version("pip"))[:3]
    return tuple(int(n) for n in numbers)


def run_pip(arguments: Sequence[str]) -> None:
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",
        "--progress-bar",
        "off",
        *arguments,
    ]
    print("+ " + shlex.join(command), flush=True)
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        raise BuildError(f"pip install failed (exit {result.returncode}); see its output above")


def install_dependencies(
    site: Path,
    requirements: Path,
    constraints: Path,
    *,
    local: bool,
    python_version: str,
    platforms: Sequence[str],
) -> None:
    target: list[str] = []
    if not local:
        target = [
            *(arg for tag in platforms for arg in ("--platform", tag)),
            "--python-version",
            python_version,
            "--implementation",
            "cp",
        ]
        if pip_version() < PIP_CHECKS_TARGET_PYTHON:
            # Older pip checks Requires-Python against the interpreter running it, not against
            # --python-version (so scipy's ">=3.12" fails under 3.11). Every version here is
            # pinned by the lock resolved for the target and every binary is cp312-tagged, so
            # the check is safely skipped.
            print(
                f"note: pip {'.'.join(map(str, pip_version()))} < 24.2: "
                "passing --ignore-requires-python for the cross-version install"
            )
            target.append("--ignore-requires-python")
    run_pip(
        [
            "--target",
            str(site),
            "--only-binary=:all:",
            *target,
            "-c",
            str(constraints),
            "-r",
            str(requirements),
        ]
    )


def install_project(site: Path, repo_root: Path) -> None:
    """Install the bankreco package (pure Python) from a temporary copy of the repo's sources."""
    pyproject = repo_root / "pyproject.toml"
    meta = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    with tempfile.TemporaryDirectory(prefix="bankreco-src-") as tmp:
        copy = Path(tmp) / "bankreco"
        shutil.copytree(
            repo_root / "src",
            copy / "src",
            ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info"),
        )
        shutil.copy2(pyproject, copy / "pyproject.toml")
        for extra in [*repo_root.glob("LICEN[CS]E*"), *repo_root.glob("README*")]:
            if extra.is_file():
                shutil.copy2(extra, copy / extra.name)
        readme = meta.get("readme")
        if isinstance(readme, str) and not (copy / readme).is_file():
            # The metadata needs the file; its text does not matter inside the layer.
            source = repo_root / readme
            (copy / readme).parent.mkdir(parents=True, exist_ok=True)
            if source.is_file():
                shutil.copy2(source, copy / readme)
            else:
                (copy / readme).write_text("bankreco\n", encoding="utf-8")
        run_pip(["--target", str(site), "--no-deps", str(copy)])


def _dist_name(dist_info: Path) -> str:
    metadata = dist_info / "METADATA"
    if metadata.is_file():
        for line in metadata.read_text(encoding="utf-8", errors="replace").splitlines():
            if not line:
                break
            if line.startswith("Name:"):
                return line.partition(":")[2].strip()
    return dist_info.name.split("-")[0]


def _remove_path(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def remove_runtime_provided(site: Path, omit: Sequence[str] = ()) -> list[str]:
    """Delete the distributions the Lambda runtime (or, `omit`, another layer) ships; returns
    what was removed."""
    wanted = {canonical(name) for name in [*RUNTIME_PROVIDED, *omit]}
    root = site.resolve()
    removed: list[str] = []
    for dist_info in sorted(site.glob("*.dist-info")):
        name = _dist_name(dist_info)
        if canonical(name) not in wanted:
            continue
        record = dist_info / "RECORD"
        if record.is_file():
            with record.open(encoding="utf-8", newline="") as handle:
                for row in csv.reader(handle):
                    if not row:
                        continue
                    path = (site / row[0]).resolve()
                    if path.is_relative_to(root) and path != root and path.is_file():
                        path.unlink()
        removed.append(dist_info.name.removesuffix(".dist-info"))
        shutil.rmtree(dist_info, ignore_errors=True)
    for top_levels in RUNTIME_PROVIDED.values():
        for top_level in top_levels:
            _remove_path(site / top_level)
    _remove_empty_dirs(site)
    return removed


def _remove_empty_dirs(site: Path) -> None:
    for dirpath, _dirnames, _filenames in os.walk(site, topdown=False):
        path = Path(dirpath)
        if path != site and not any(path.iterdir()):
            path.rmdir()


def slim(site: Path) -> int:
    """Delete what is never imported at run time; returns the bytes freed."""
    freed = 0
    _remove_path(site / "bin")  # console scripts, pointing at the build interpreter
    for dirpath, dirnames, filenames in os.walk(site):
        current = Path(dirpath)
        for dirname in [d for d in dirnames if d in PRUNED_DIR_NAMES]:
            path = current / dirname
            freed += tree_size(path)
            shutil.rmtree(path)
            dirnames.remove(dirname)
        for filename in filenames:
            path = current / filename
            if path.suffix in PRUNED_SUFFIXES and not path.is_symlink():
                freed += path.stat().st_size
                path.unlink()
    return freed


# --------------------------------------------------------------------------- measuring


def precompile(site: Path, target_python: str | None) -> bool:
    """Compile the layer's bytecode (unchecked-hash .pyc, valid on Lambda's read-only /opt),
    so cold starts do not compile every module. Only an interpreter of the target's version
    can: a 3.12 build does, a build run by another Python says so and ships sources only."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if target_python not in (None, running):
        print(f"note: no bytecode: Python {running} cannot compile for {target_python}; "
              f"run the build with python{target_python} to ship .pyc files")  # fmt: skip
        return False
    ok = compileall.compile_dir(
        site,
        quiet=1,
        workers=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
    )
    print("bytecode: compiled (unchecked-hash .pyc)" if ok else "bytecode: some modules failed")
    return bool(ok)


def iter_files(root: Path, bytecode: bool = True) -> Iterator[Path]:
    """The files shipped from `root`; `bytecode=False` skips caches a local run left behind."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if bytecode or d != "__pycache__")
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            if path.is_file() and not path.is_symlink() and (bytecode or path.suffix != ".pyc"):
                yield path


def tree_size(root: Path) -> int:
    return sum(path.stat().st_size for path in iter_files(root))


def measure(root: Path, arc_base: Path, bytecode: bool = True) -> Size:
    """Unzipped bytes of the files under ``root`` and the size of their deflate zip."""
    files = list(iter_files(root, bytecode))
    unzipped = sum(path.stat().st_size for path in files)
    with tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.relative_to(arc_base).as_posix())
        zipped = handle.seek(0, os.SEEK_END)
    return Size(unzipped, zipped)


def mb(size: int) -> str:
    return f"{size / MB:9.3f} MB"


# --------------------------------------------------------------------------- main


def resolve_function_dir(path: Path, repo_root: Path) -> Path:
    found = path if path.is_absolute() or path.exists() else repo_root / path
    if not found.is_dir():
        raise BuildError(f"--function-dir {path} is not a directory")
    return found.resolve()


def build(args: argparse.Namespace) -> int:
    repo_root = (args.repo_root or default_repo_root()).resolve()
    lock = (args.lock or repo_root / "requirements.lock").resolve()
    requirements = args.requirements.resolve()
    for needed in (repo_root / "pyproject.toml", lock, requirements):
        if not needed.is_file():
            raise BuildError(
                f"{needed} not found (repo root {repo_root}; set --repo-root or ${REPO_ROOT_ENV})"
            )
    function_dir = resolve_function_dir(args.function_dir, repo_root) if args.function_dir else None
    out = (args.out or repo_root / "build" / "layer").resolve()
    site = out / "python"
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)

    platforms: Sequence[str] = args.platform or LAMBDA_PLATFORMS
    target = (
        f"local interpreter (Python {sys.version.split()[0]}, {sys.platform})"
        if args.local
        else f"AWS Lambda (CPython {args.python_version}, manylinux aarch64)"
    )
    print(f"bankreco layer for {target}")
    print(f"  repo root: {repo_root}\n  lock:      {lock}\n  output:    {site}", flush=True)

    pins = resolve_lock(lock, target_environment(args.local, args.python_version))
    with tempfile.TemporaryDirectory(prefix="bankreco-layer-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
        install_dependencies(
            site,
            requirements,
            constraints,
            local=args.local,
            python_version=args.python_version,
            platforms=platforms,
        )
    _remove_path(site / "bin")
    if not args.without_project:
        install_project(site, repo_root)

    removed = remove_runtime_provided(site, args.omit)
    print(
        "removed (provided by the runtime or another layer): " + (", ".join(removed) or "nothing")
    )
    freed = slim(site)
    print(f"slimmed: {freed / MB:.2f} MB of tests, caches and sources removed")
    precompile(site, None if args.local else args.python_version)

    layer = measure(site, out)
    # the function ships its sources only (functions/predict/Makefile copies *.py)
    function = measure(function_dir, function_dir, bytecode=False) if function_dir else Size(0, 0)
    total = Size(layer.unzipped + function.unzipped, layer.zipped + function.zipped)
    print("sizes (1 MB = 2**20 bytes):")
    print(f"  layer     unzipped {mb(layer.unzipped)}   zipped {mb(layer.zipped)}")
    if function_dir:
        print(f"  function  unzipped {mb(function.unzipped)}   zipped {mb(function.zipped)}")
    print(f"  total     unzipped {mb(total.unzipped)}   zipped {mb(total.zipped)}", flush=True)

    failures: list[str] = []
    if args.max_unzipped_mb > 0 and total.unzipped > args.max_unzipped_mb * MB:
        failures.append(
            f"total unzipped size {total.unzipped / MB:.2f} MB exceeds --max-unzipped-mb "
            f"{args.max_unzipped_mb:g} (AWS Lambda allows {LAMBDA_LIMIT_MB} MB unzipped "
            "for a function and its layers)"
        )
    if args.max_zipped_mb > 0 and total.zipped > args.max_zipped_mb * MB:
        failures.append(
            f"total zipped size {total.zipped / MB:.2f} MB exceeds --max-zipped-mb "
            f"{args.max_zipped_mb:g}"
        )
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return build(args)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
