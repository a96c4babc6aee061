"""Build the opt-in compiled copy of Kettle: its hot modules compiled with mypyc.

Theory of operation: the source tree is never touched. ``src/kettle`` is
copied to ``OUT/kettle`` (default ``build/compiled``, git-ignored) and the
modules named in ``pyproject.toml`` (``[tool.kettle.compiled] modules``) are
compiled there in place, so each compiled module's ``.so`` sits beside its
``.py``. Python's import system takes an extension module before a source
file of the same name, and ignores an extension built for another Python
(its file name carries the ABI tag): the ``.py`` is the fallback. Put ``OUT``
first on ``PYTHONPATH`` to use the compiled copy:

    python benchmarks/build_compiled.py                 # build/compiled, every listed module
    PYTHONPATH=build/compiled python -c "import kettle"  # the compiled copy
    python benchmarks/build_compiled.py --out /tmp/k --module kettle/http/hosts.py

``OUT/BUILD_INFO.json`` records which modules were compiled and a digest of
the sources they were built from; :func:`stale` compares it with ``src`` so
a benchmark never reports numbers for an old build as if they were new.
``setup.py`` builds the same list into a wheel when ``KETTLE_COMPILE=1``.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "src" / "kettle"
DEFAULT_OUT = ROOT / "build" / "compiled"
INFO = "BUILD_INFO.json"

# Run in the build directory by a child interpreter: mypyc, then setuptools' build_ext
# in place (the directory is the copy). setup.py's mypyc_arguments names what to compile.
_BUILD = """
import json, sys
from setuptools import Extension, setup
from mypyc.build import mypycify
options = json.loads(sys.argv[1])
sys.path.insert(0, options["benchmarks"])
from build_compiled import packaging
# The C accelerators too (as every install builds them), from the copy's sources.
accelerators = [
    Extension(
        module.name, [path.removeprefix("src/") for path in module.sources],
        include_dirs=[path.removeprefix("src/") for path in module.include_dirs],
    )
    for module in packaging().ACCELERATORS
]
setup(
    name="kettle-compiled",
    ext_modules=[*mypycify(
        packaging().mypyc_arguments(".", ".mypy_cache", options["modules"]),
        opt_level=options["opt_level"],
        group_name="kettle", multi_file=options["multi_file"],
    ), *accelerators],
    script_args=["build_ext", "--inplace", "--parallel", str(options["jobs"])],
)
"""


def packaging() -> ModuleType:
    """Load setup.py (without running setup()): it holds the module list and mypyc's options."""
    spec = importlib.util.spec_from_file_location("kettle_setup", ROOT / "setup.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def listed_modules() -> list[str]:
    """Return the module paths ``[tool.kettle.compiled]`` in pyproject.toml names."""
    modules: list[str] = packaging().compiled_modules()
    return modules


def source_digest(source: Path = SOURCE) -> str:
    """Digest every ``.py``, ``.c`` and ``.h`` under ``source`` (names and bytes), in order."""
    digest = hashlib.sha256()
    for path in sorted([*source.rglob("*.py"), *source.rglob("*.c"), *source.rglob("*.h")]):
        digest.update(str(path.relative_to(source)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def stale(out: Path = DEFAULT_OUT) -> str | None:
    """Say why the build in ``out`` does not stand for its sources now; None when it does."""
    info_path = out / INFO
    if not info_path.exists():
        return f"no compiled build in {out} (python benchmarks/build_compiled.py)"
    info = json.loads(info_path.read_text())
    source = Path(info.get("source", SOURCE))
    if out.resolve() == DEFAULT_OUT and source.resolve() != SOURCE:
        return f"the compiled build in {out} was built from {source}, not {SOURCE} (rebuild it)"
    if info.get("digest") != source_digest(source):
        return f"the compiled build in {out} is older than {source} (rebuild it)"
    if out.resolve() == DEFAULT_OUT and info.get("modules") != listed_modules():
        return f"the compiled build in {out} has other modules than pyproject.toml lists (rebuild it)"
    if info.get("python") != sys.implementation.cache_tag:
        return f"the compiled build in {out} is for {info.get('python')}"
    return None


def copy_tree(out: Path, source: Path) -> None:
    """Replace ``out/kettle`` with a fresh copy of ``source`` (keeping mypy's cache)."""
    target = out / "kettle"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    for stray in out.glob("kettle__mypyc*.so"):
        stray.unlink()


def build(
    out: Path, modules: list[str], *, source: Path = SOURCE, opt_level: str = "3", jobs: int = 2,
    multi_file: bool = False, quiet: bool = False,
) -> dict[str, object]:
    """Copy ``source`` (a ``kettle`` package) to ``out`` and compile ``modules`` there."""
    out.mkdir(parents=True, exist_ok=True)
    copy_tree(out, source)
    # The digest of what was copied (and so compiled), not of ``source`` after the build:
    # an edit made while mypyc runs must leave the build stale, not marked current.
    digest = source_digest(out / "kettle")
    started = time.perf_counter()
    options = {
        "benchmarks": str(ROOT / "benchmarks"), "modules": modules, "opt_level": opt_level,
        "jobs": jobs, "multi_file": multi_file,
    }
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, "-c", _BUILD, json.dumps(options)], cwd=out, env=env,
        capture_output=quiet, text=True, check=False,
    )
    if result.returncode != 0:
        detail = (result.stdout or "") + (result.stderr or "") if quiet else ""
        raise SystemExit(f"mypyc build failed (exit {result.returncode})\n{detail[-4000:]}")
    info: dict[str, object] = {
        "modules": modules, "source": str(source), "digest": digest, "python": sys.implementation.cache_tag,
        "opt_level": opt_level, "seconds": round(time.perf_counter() - started, 1),
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (out / INFO).write_text(json.dumps(info, indent=2) + "\n")
    return info


def main(argv: list[str] | None = None) -> int:
    """Build from the command line; print what was compiled and how long it took."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="build directory (default build/compiled)")
    parser.add_argument("--source", type=Path, default=SOURCE, help="the kettle package to build (default src/kettle)")
    parser.add_argument("--module", action="append", help="compile only these (kettle/...py); default: pyproject's list")
    parser.add_argument("--opt-level", default="3", help="C optimisation level (0-3)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel C compiler jobs")
    parser.add_argument("--verbose", action="store_true", help="show mypyc's and the C compiler's output")
    parser.add_argument("--if-stale", action="store_true", help="do nothing when the build is current")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if args.if_stale and not args.module and args.source == SOURCE and stale(out) is None:
        print(f"compiled build in {out} is current")
        return 0
    modules = args.module or listed_modules()
    info = build(out, modules, source=args.source.resolve(), opt_level=args.opt_level, jobs=args.jobs, multi_file=args.jobs > 1,
        quiet=not args.verbose,
    )
    print(f"compiled {len(modules)} modules into {out} in {info['seconds']} s:")
    for module in modules:
        print(f"  {module}")
    print(f"use it with PYTHONPATH={out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
