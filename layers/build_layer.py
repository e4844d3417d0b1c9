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
3. Removes what the Lambda Python runtime already ships (``RUNTIME_PROVIDED``: boto3 and its
   dependencies, snapshot-restore-py): the lock pins them, but the runtime's own copies are the
   ones used.
4. Slims: ``tests`` directories, ``__pycache__``, bytecode, Cython/C sources and headers,
   console scripts.  Runtime modules such as ``numpy.testing`` (imported by scipy/sklearn)
   stay.
5. Compiles the bytecode when the running interpreter is the target's Python.
6. Prints the unzipped and zipped (deflate) sizes of the layer, of ``--function-dir`` and of
   both, and exits 1 when a total is above ``--max-unzipped-mb`` / ``--max-zipped-mb``.

``sam build`` runs this through ``layers/Makefile`` (target ``build-BankrecoLayer``).  From the
repo root it is also the module ``layers.build_layer``: ``build_layer(LayerSpec(...))`` runs
steps 1-5 and returns a ``LayerBuild`` (what was removed, whether bytecode ships, the sizes);
the benchmark's size row calls it.  The measured sizes are in docs/performance.md.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
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
from typing import Any, TextIO

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

#: Distributions the Lambda Python runtime provides (boto3 and its dependency closure, and
#: snapshot-restore-py, SnapStart's runtime hooks), with what each installs at the top of
#: site-packages: a package directory, or ``name.py`` for a single module.  The one list: the
#: layer build removes them so the runtime's copies are used, the benchmark leaves them out of
#: both sides of its size row and counts their bytecode as the runtime's in its cold row, and
#: the layer tests check the build against it.
RUNTIME_PROVIDED: Mapping[str, tuple[str, ...]] = {
    "boto3": ("boto3",),
    "botocore": ("botocore",),
    "s3transfer": ("s3transfer",),
    "jmespath": ("jmespath",),
    "urllib3": ("urllib3",),
    "python-dateutil": ("dateutil",),
    "six": ("six.py",),
    "snapshot-restore-py": ("snapshot_restore_py.py",),
}

PRUNED_DIR_NAMES = frozenset({"__pycache__", "tests"})
PRUNED_SUFFIXES = frozenset(
    {".pyc", ".pyo", ".pyx", ".pxd", ".pxi", ".c", ".cc", ".cpp", ".h", ".hpp"}
)


class BuildError(Exception):
    """A step of the build failed; the message says which and why."""


@dataclass(frozen=True)
class Size:
    """Bytes of a tree of files: unzipped, and as a deflate zip."""

    unzipped: int
    zipped: int

    def __add__(self, other: Size) -> Size:
        return Size(self.unzipped + other.unzipped, self.zipped + other.zipped)

    @property
    def mb(self) -> tuple[float, float]:
        """(unzipped, zipped) in MB of 2**20 bytes."""
        return self.unzipped / MB, self.zipped / MB


@dataclass(frozen=True)
class LayerSpec:
    """One layer recipe: its inputs, its target and its output directory.  ``None`` takes the
    command line's default (see ``parse_args``)."""

    out: Path | None = None
    repo_root: Path | None = None
    lock: Path | None = None
    requirements: Path = LAYER_DIR / "requirements.in"
    omit: tuple[str, ...] = ()  # distributions another layer provides
    without_project: bool = False
    local: bool = False  # the running interpreter instead of Lambda
    python_version: str = LAMBDA_PYTHON
    platforms: tuple[str, ...] = LAMBDA_PLATFORMS
    function_dir: Path | None = None  # function code counted in the total


@dataclass(frozen=True)
class LayerBuild:
    """What one build left in ``site`` (OUT/python), and its sizes."""

    site: Path
    removed: tuple[str, ...]  # distributions left out: the runtime's and the omitted ones
    slimmed: int  # bytes of tests, caches and sources deleted
    bytecode: bool  # the layer ships .pyc files, and its sizes count them
    layer: Size
    function: Size | None  # None without a function directory; its sources only

    @property
    def total(self) -> Size:
        return self.layer if self.function is None else self.layer + self.function


@dataclass(frozen=True)
class BuildPaths:
    """A spec's paths, absolute, defaults filled in."""

    repo_root: Path
    lock: Path
    requirements: Path
    out: Path
    function_dir: Path | None

    @property
    def site(self) -> Path:
        return self.out / "python"


def canonical(name: str) -> str:
    """PEP 503 normalised distribution name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def default_repo_root() -> Path:
    from_env = os.environ.get(REPO_ROOT_ENV)
    return Path(from_env).resolve() if from_env else LAYER_DIR.parent


# --------------------------------------------------------------------------- command line


def _add_input_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the layer goes and what goes in."""
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


def _add_target_arguments(parser: argparse.ArgumentParser) -> None:
    """The interpreter and platform the layer is for."""
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


def _add_size_arguments(parser: argparse.ArgumentParser) -> None:
    """What the reported total counts and the limits it is checked against."""
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


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Build the bankreco Lambda layer into OUT/python and report its size.",
    )
    _add_input_arguments(parser)
    _add_target_arguments(parser)
    _add_size_arguments(parser)
    args = parser.parse_args(argv)
    if args.local and args.platform:
        parser.error("--platform applies to the Lambda build only, not with --local")
    return args


def spec_from_args(args: argparse.Namespace) -> LayerSpec:
    return LayerSpec(
        out=args.out,
        repo_root=args.repo_root,
        lock=args.lock,
        requirements=args.requirements,
        omit=tuple(args.omit),
        without_project=args.without_project,
        local=args.local,
        python_version=args.python_version,
        platforms=tuple(args.platform or LAMBDA_PLATFORMS),
        function_dir=args.function_dir,
    )


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


@dataclass(frozen=True)
class Pip:
    """``python -m pip install`` as the build runs it.  Its output, and the build's, goes to
    ``log``: a file, or ``None`` for this process's stdout and stderr."""

    log: TextIO | None = None
    cache_dir: Path | None = None

    def say(self, text: str) -> None:
        """A line of the build's own output, flushed ahead of pip's in the same stream."""
        print(text, file=self.log, flush=True)

    def install(self, arguments: Sequence[str]) -> None:
        cache = ["--cache-dir", str(self.cache_dir)] if self.cache_dir else []
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
            *cache,
            *arguments,
        ]
        self.say("+ " + shlex.join(command))
        errors = None if self.log is None else subprocess.STDOUT
        result = subprocess.run(command, stdout=self.log, stderr=errors, check=False)
        if result.returncode != 0:
            raise BuildError(f"pip install failed (exit {result.returncode}); see its output above")


def target_arguments(pip: Pip, spec: LayerSpec) -> list[str]:
    """pip's options selecting the Lambda target's wheels; none for ``--local``."""
    if spec.local:
        return []
    arguments = [
        *(arg for tag in spec.platforms for arg in ("--platform", tag)),
        "--python-version",
        spec.python_version,
        "--implementation",
        "cp",
    ]
    if pip_version() < PIP_CHECKS_TARGET_PYTHON:
        # Older pip checks Requires-Python against the interpreter running it, not against
        # --python-version (so scipy's ">=3.12" fails under 3.11). Every version here is
        # pinned by the lock resolved for the target and every binary is cp312-tagged, so
        # the check is safely skipped.
        pip.say(
            f"note: pip {'.'.join(map(str, pip_version()))} < 24.2: "
            "passing --ignore-requires-python for the cross-version install"
        )
        arguments.append("--ignore-requires-python")
    return arguments


def install_dependencies(pip: Pip, site: Path, spec: LayerSpec, paths: BuildPaths) -> None:
    """The requirements and their dependencies at the lock's pins for the target."""
    pins = resolve_lock(paths.lock, target_environment(spec.local, spec.python_version))
    target = target_arguments(pip, spec)
    with tempfile.TemporaryDirectory(prefix="bankreco-layer-") as tmp:
        constraints = Path(tmp) / "constraints.txt"
        constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
        pip.install(
            [
                "--target",
                str(site),
                "--only-binary=:all:",
                *target,
                "-c",
                str(constraints),
                "-r",
                str(paths.requirements),
            ]
        )
    _remove_path(site / "bin")


def install_project(pip: Pip, site: Path, repo_root: Path) -> None:
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
        pip.install(["--target", str(site), "--no-deps", str(copy)])


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


# --------------------------------------------------------------------------- bytecode and sizes


@contextlib.contextmanager
def _pyc_beside_sources() -> Iterator[None]:
    """Bytecode goes into ``__pycache__`` beside its sources, also where this interpreter
    keeps its own elsewhere (PYTHONPYCACHEPREFIX): the layer's .pyc files belong in it."""
    prefix, sys.pycache_prefix = sys.pycache_prefix, None
    try:
        yield
    finally:
        sys.pycache_prefix = prefix


def precompile(site: Path, target_python: str | None, log: TextIO | None = None) -> bool:
    """Compile the layer's bytecode (unchecked-hash .pyc, valid on Lambda's read-only /opt),
    so cold starts do not compile every module; returns whether .pyc files were written.
    Only an interpreter of the target's version can: a 3.12 build does, a build run by another
    Python says so and ships sources only."""
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if target_python not in (None, running):
        print(
            f"note: no bytecode: Python {running} cannot compile for {target_python}; "
            f"run the build with python{target_python} to ship .pyc files",
            file=log,
        )
        return False
    # compileall reports the modules it cannot compile on stdout: they belong in the log
    with _pyc_beside_sources(), contextlib.redirect_stdout(log or sys.stdout):
        ok = compileall.compile_dir(
            site,
            quiet=1,
            workers=0,
            invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        )
    print(
        "bytecode: compiled (unchecked-hash .pyc)" if ok else "bytecode: some modules failed",
        file=log,
    )
    return True


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


# --------------------------------------------------------------------------- building


def resolve_function_dir(path: Path, repo_root: Path) -> Path:
    found = path if path.is_absolute() or path.exists() else repo_root / path
    if not found.is_dir():
        raise BuildError(f"--function-dir {path} is not a directory")
    return found.resolve()


def resolve_paths(spec: LayerSpec) -> BuildPaths:
    """The spec's paths; raises BuildError when an input is missing."""
    repo_root = (spec.repo_root or default_repo_root()).resolve()
    lock = (spec.lock or repo_root / "requirements.lock").resolve()
    requirements = spec.requirements.resolve()
    for needed in (repo_root / "pyproject.toml", lock, requirements):
        if not needed.is_file():
            raise BuildError(
                f"{needed} not found (repo root {repo_root}; set --repo-root or ${REPO_ROOT_ENV})"
            )
    function_dir = resolve_function_dir(spec.function_dir, repo_root) if spec.function_dir else None
    out = (spec.out or repo_root / "build" / "layer").resolve()
    return BuildPaths(repo_root, lock, requirements, out, function_dir)


def describe_target(spec: LayerSpec) -> str:
    if spec.local:
        return f"local interpreter (Python {sys.version.split()[0]}, {sys.platform})"
    return f"AWS Lambda (CPython {spec.python_version}, manylinux aarch64)"


def empty_site(site: Path) -> None:
    if site.exists():
        shutil.rmtree(site)
    site.mkdir(parents=True)


def build_layer(
    spec: LayerSpec, *, log: TextIO | None = None, pip_cache_dir: Path | None = None
) -> LayerBuild:
    """Build the layer of ``spec`` into OUT/python and measure it (steps 1-5 of the module's
    docstring).  Progress, pip's output included, goes to ``log`` (a file; ``None``: this
    process's stdout and stderr).  Raises BuildError when a step fails; checking the sizes
    against limits is the caller's (``size_limit_failures``)."""
    paths = resolve_paths(spec)
    site = paths.site
    empty_site(site)
    pip = Pip(log, pip_cache_dir)
    pip.say(f"bankreco layer for {describe_target(spec)}")
    pip.say(f"  repo root: {paths.repo_root}\n  lock:      {paths.lock}\n  output:    {site}")

    install_dependencies(pip, site, spec, paths)
    if not spec.without_project:
        install_project(pip, site, paths.repo_root)
    removed = remove_runtime_provided(site, spec.omit)
    pip.say(
        "removed (provided by the runtime or another layer): " + (", ".join(removed) or "nothing")
    )
    slimmed = slim(site)
    pip.say(f"slimmed: {slimmed / MB:.2f} MB of tests, caches and sources removed")
    bytecode = precompile(site, None if spec.local else spec.python_version, log)

    # the function ships its sources only (functions/predict/Makefile copies *.py)
    function_dir = paths.function_dir
    function = measure(function_dir, function_dir, bytecode=False) if function_dir else None
    layer = measure(site, paths.out)
    return LayerBuild(site, tuple(removed), slimmed, bytecode, layer, function)


# --------------------------------------------------------------------------- reporting


def print_sizes(build: LayerBuild, log: TextIO | None = None) -> None:
    """The sizes' table: the layer, the function (when measured) and their total."""
    print("sizes (1 MB = 2**20 bytes):", file=log)
    for name, size in (
        ("layer", build.layer),
        ("function", build.function),
        ("total", build.total),
    ):
        if size is not None:
            print(f"  {name:<9} unzipped {mb(size.unzipped)}   zipped {mb(size.zipped)}", file=log)
    (log or sys.stdout).flush()


def size_limit_failures(total: Size, max_unzipped_mb: float, max_zipped_mb: float) -> list[str]:
    """Why ``total`` is above the limits (0 = no limit); empty when it is within them."""
    failures: list[str] = []
    if max_unzipped_mb > 0 and total.unzipped > max_unzipped_mb * MB:
        failures.append(
            f"total unzipped size {total.unzipped / MB:.2f} MB exceeds --max-unzipped-mb "
            f"{max_unzipped_mb:g} (AWS Lambda allows {LAMBDA_LIMIT_MB} MB unzipped "
            "for a function and its layers)"
        )
    if max_zipped_mb > 0 and total.zipped > max_zipped_mb * MB:
        failures.append(
            f"total zipped size {total.zipped / MB:.2f} MB exceeds --max-zipped-mb "
            f"{max_zipped_mb:g}"
        )
    return failures


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        build = build_layer(spec_from_args(args))
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_sizes(build)
    failures = size_limit_failures(build.total, args.max_unzipped_mb, args.max_zipped_mb)
    for failure in failures:
        print(f"error: {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
