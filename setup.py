"""Packaging hook: ship ``kettle_flask_compat.pth`` at the top of site-packages.

Everything else is in pyproject.toml. The ``.pth`` file lets
``KETTLE_FLASK_COMPAT=1`` turn on Flask compatibility mode in any Python
process (gunicorn, uvicorn, granian, ``python -m``...) with no code change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.command.editable_wheel import editable_wheel

PTH = Path("src", "kettle_flask_compat.pth")


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


setup(cmdclass={"build_py": BuildPyWithPth, "editable_wheel": EditableWheelWithPth})
