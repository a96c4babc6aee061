"""Packaging hooks: the Flask-compatibility ``.pth`` file and the opt-in compiled build.

Everything else is in pyproject.toml. The ``.pth`` file lets
``KETTLE_FLASK_COMPAT=1`` turn on Flask compatibility mode in any Python
process (gunicorn, uvicorn, granian, ``python -m``...) with no code change.

Every install, editable ones included, also tries to build the C
accelerators (``kettle._accelerators`` says which module uses each). They are
optional: without a C compiler or the Python headers the build says so and
the install goes on, pure Python.

``KETTLE_COMPILE=1 pip install .`` also compiles the modules listed under
``[tool.kettle.compiled]`` in pyproject.toml with mypyc; each one's ``.py``
ships beside its ``.so``, and Python imports the ``.so`` when it loads and
the ``.py`` otherwise. Without the variable the install is pure Python.
``benchmarks/build_compiled.py`` builds the same modules into a separate
directory for benchmarks and tests.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from setuptools import Extension, setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = Path("src", "kettle_flask_compat.pth")
#: Headers the accelerators of a package share (each module includes its own).
HEADERS = sorted(Path("src", "kettle").glob("*/_*.h"))
#: The optional C accelerators: a failed build leaves the pure-Python twin in use.
ACCELERATORS = [
    Extension(
        name, [str(Path("src", *name.split(".")[:-1], f"{name.rsplit('.', 1)[1]}.c"))],
        include_dirs=[str(Path("src", "kettle"))],
        # (An sdist carries them too.)
        depends=[str(Path("src", "kettle", "_accelerator.h")), *map(str, HEADERS)],
        optional=True,
    )
    for name in (
        "kettle.http._urlencoded",
        "kettle._proxies",
        "kettle.http._multidict",
        "kettle.routing._resolve",
        "kettle.http._response",
        "kettle.adapters._builders",
    )
]
HERE = Path(__file__).resolve().parent
#: What the compiled build needs at build time (never at run time).
MYPYC_REQUIRES = ["mypy>=1.15"]


def compiled_modules() -> list[str]:
    """The module paths pyproject.toml lists for compiling (``kettle/...py``)."""
    with (HERE / "pyproject.toml").open("rb") as file:
        modules: list[str] = tomllib.load(file)["tool"]["kettle"]["compiled"]["modules"]
    return modules


def mypyc_arguments(
    source_root: str, cache_dir: str, modules: list[str] | None = None
) -> list[str]:
    """Arguments for ``mypycify``: ``modules`` (default: the listed ones) under ``source_root``.

    mypyc type-checks what it compiles. No config file: in an isolated build
    the dependencies are not installed (their imports become ``Any``, which
    the strict settings of pyproject.toml would reject); ``make lint`` is
    where the code is held to mypy --strict.
    """
    return [
        "--config-file=", "--ignore-missing-imports", "--cache-dir", cache_dir,
        *(str(Path(source_root, module)) for module in modules or compiled_modules()),
    ]


def compiled_extensions() -> tuple[list[Any], list[str]]:
    """The extension modules and extra build requirements ``KETTLE_COMPILE=1`` asks for."""
    if os.environ.get("KETTLE_COMPILE", "") in ("", "0"):
        return [], []
    try:
        from mypyc.build import mypycify
    except ImportError:  # The first pass of an isolated build: ask pip for mypy, then rebuild.
        return [], MYPYC_REQUIRES
    arguments = mypyc_arguments("src", str(Path("build", "mypyc-cache")))
    extensions = mypycify(arguments, group_name="kettle", target_dir=str(Path("build", "mypyc")))
    return extensions, MYPYC_REQUIRES


class BuildPyWithPth(build_py):
    """build_py that also puts the startup hook in the wheel's root."""

    def run(self) -> None:
        """Build the packages, then copy the ``.pth`` file beside them."""
        super().run()
        self.copy_file(str(PTH), str(Path(self.build_lib, PTH.name)), preserve_mode=False)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        """Name the ``.pth`` file among the outputs, so editable wheels carry it too."""
        return [*super().get_outputs(include_bytecode), str(Path(self.build_lib, PTH.name))]


class _StrategyWithPth:
    """Wraps an editable-install strategy: it also writes the ``.pth`` hook."""

    def __init__(self, strategy: Any) -> None:
        self.strategy = strategy

    def __enter__(self) -> Any:
        return self.strategy.__enter__()

    def __exit__(self, *exc: object) -> Any:
        return self.strategy.__exit__(*exc)

    def __call__(self, wheel: Any, files: list[str], mapping: dict[str, str]) -> None:
        self.strategy(wheel, files, mapping)
        wheel.writestr(PTH.name, PTH.read_bytes())


class EditableWheelWithPth(editable_wheel):
    """``pip install -e .`` installs the startup hook too (a path ``.pth`` cannot run it)."""

    def _select_strategy(self, *args: Any, **kwargs: Any) -> Any:
        return _StrategyWithPth(super()._select_strategy(*args, **kwargs))

    def run(self) -> None:
        """Refuse ``KETTLE_COMPILE``: compiled modules would shadow the sources being edited."""
        if any(module not in ACCELERATORS for module in self.distribution.ext_modules or ()):
            raise SystemExit(
                "KETTLE_COMPILE=1 builds a regular install, not an editable one: compiled"
                " modules would shadow the sources you edit (benchmarks/build_compiled.py"
                " builds a separate copy)"
            )
        super().run()


if __name__ == "__main__":  # setuptools runs this file as __main__; build_compiled.py imports it.
    extensions, build_requires = compiled_extensions()
    setup(
        cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth},
        ext_modules=[*ACCELERATORS, *extensions],
        setup_requires=build_requires,
    )
