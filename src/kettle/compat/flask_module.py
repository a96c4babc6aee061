"""The module that ``import flask`` returns in compatibility mode.

It holds Flask's top-level names, bound to Kettle's objects (``Flask`` is
:class:`kettle.Kettle`), Flask's submodules as attributes (``flask.json`` is
:mod:`kettle.json`), and ``__version__``: the Flask release whose API Kettle
answers for (:data:`kettle.compat.FLASK_VERSION`), because code gates on it.
"""

from __future__ import annotations

from kettle import *  # noqa: F403
from kettle import Flask as Flask
from kettle import json as json
from kettle.compat.version import FLASK_VERSION

__path__: list[str] = []

#: The Flask version Kettle's compatibility mode answers for.
__version__ = FLASK_VERSION
