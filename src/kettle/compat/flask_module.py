"""The module that ``import flask`` returns in compatibility mode.

It holds Flask's top-level names, bound to Kettle's objects (``Flask`` is
:class:`kettle.Kettle`), Flask's submodules as attributes (``flask.json`` is
:mod:`kettle.json`), and ``__version__``: the Flask release whose API Kettle
answers for (:data:`kettle.compat.FLASK_VERSION`), because code gates on it.
"""

from __future__ import annotations

import importlib
from typing import Any

from kettle import *  # noqa: F403
from kettle import Flask as Flask
from kettle import json as json
from kettle.compat.aliases import FLASK_MODULES
from kettle.compat.version import FLASK_VERSION

__path__: list[str] = []

#: The Flask version Kettle's compatibility mode answers for.
__version__ = FLASK_VERSION


def __getattr__(name: str) -> Any:
    """``flask.templating`` and the other submodules, as Flask's ``__init__`` imports them."""
    if f"flask.{name}" in FLASK_MODULES:
        return importlib.import_module(f"flask.{name}")
    raise AttributeError(f"module 'flask' has no attribute {name!r}")
