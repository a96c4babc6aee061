"""The import hook of compatibility mode: ``flask`` names resolve to Kettle's modules.

A meta path finder placed first on ``sys.meta_path`` answers for ``flask`` and
each ``flask.X`` listed in :data:`FLASK_MODULES`. Its loader hands back the
Kettle module itself (imported once, under its own name), so ``flask.globals``
*is* ``kettle.globals``: one module object, one set of context variables and
classes. Nothing of Flask's package is executed, even with Flask installed.

It also answers for ``werkzeug``: real Werkzeug is loaded as usual, then
:mod:`kettle.compat.werkzeug_identity` makes the Werkzeug names the ecosystem
checks with ``isinstance``/``except`` resolve to Kettle's classes.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType
from typing import Any

#: Each Flask module name and the Kettle module that answers for it.
FLASK_MODULES: dict[str, str] = {
    "flask": "kettle.compat.flask_module",
    "flask.__main__": "kettle.__main__",
    "flask.app": "kettle.app",
    "flask.blueprints": "kettle.blueprints",
    "flask.cli": "kettle.cli",
    "flask.config": "kettle.config",
    "flask.ctx": "kettle.ctx",
    "flask.debughelpers": "kettle.debughelpers",
    "flask.globals": "kettle.globals",
    "flask.helpers": "kettle.helpers",
    "flask.json": "kettle.json",
    "flask.json.provider": "kettle.json.provider",
    "flask.json.tag": "kettle.json.tag",
    "flask.logging": "kettle.logging",
    "flask.sansio": "kettle.compat.sansio",
    "flask.sansio.app": "kettle.app",
    "flask.sansio.blueprints": "kettle.blueprints",
    "flask.sansio.scaffold": "kettle.scaffold",
    "flask.sessions": "kettle.sessions",
    "flask.signals": "kettle.signals",
    "flask.templating": "kettle.templating",
    "flask.testing": "kettle.testing",
    "flask.typing": "kettle.typing",
    "flask.views": "kettle.views",
    "flask.wrappers": "kettle.wrappers",
}


class _AliasLoader(importlib.abc.Loader):
    """Returns an already written Kettle module for a Flask name."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._own_spec: Any = None

    def get_code(self, fullname: str) -> Any:
        """The Kettle module's code (``python -m flask`` runs ``kettle.__main__``'s)."""
        spec = importlib.util.find_spec(self.target)
        loader: Any = spec.loader if spec is not None else None
        return loader.get_code(self.target) if hasattr(loader, "get_code") else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        """Import (once) and return the Kettle module."""
        module = importlib.import_module(self.target)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module: ModuleType) -> None:
        """Nothing to run: give the module back its own spec, which importlib replaced."""
        module.__spec__ = self._own_spec


class _WerkzeugLoader(importlib.abc.Loader):
    """Loads real Werkzeug, then applies Kettle's class identities to it."""

    def __init__(self, real: importlib.abc.Loader) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        """Let the real loader create the package module."""
        return self.real.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        """Run Werkzeug's ``__init__``, then bind Kettle's classes to its names."""
        module.__loader__ = self.real
        self.real.exec_module(module)
        from kettle.compat.werkzeug_identity import apply

        apply()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class FlaskFinder(importlib.abc.MetaPathFinder):
    """Finds Kettle's module for every Flask module name (see :data:`FLASK_MODULES`)."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """Answer for ``flask`` names and for the ``werkzeug`` package; None otherwise."""
        if fullname == "werkzeug":
            return self._werkzeug_spec(fullname, path)
        name = FLASK_MODULES.get(fullname)
        if name is None:
            if fullname.startswith("flask."):
                # A Flask module Kettle has no twin for: say so, never load Flask's copy.
                raise ModuleNotFoundError(
                    f"{fullname} is not available in Kettle's Flask compatibility mode",
                    name=fullname,
                )
            return None
        if fullname.endswith(".__main__"):
            # Run by ``python -m``, never imported: not imported here either.
            return importlib.util.spec_from_loader(fullname, _AliasLoader(name))
        module = importlib.import_module(name)
        return importlib.util.spec_from_loader(
            fullname, _AliasLoader(name), is_package=hasattr(module, "__path__")
        )

    def _werkzeug_spec(
        self, fullname: str, path: Sequence[str] | None
    ) -> importlib.machinery.ModuleSpec | None:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path)
            if spec is not None:
                if spec.loader is not None:
                    spec.loader = _WerkzeugLoader(spec.loader)
                return spec
        return None
