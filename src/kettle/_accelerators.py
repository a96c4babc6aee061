"""The optional C accelerators, each found by the module that has a Python twin of it.

``setup.py`` builds them with every install when a C compiler is there
(``ACCELERATORS``): ``kettle.http._urlencoded`` (for ``kettle.http.urls`` and
``kettle.http._request_params``), ``kettle._proxies`` (for ``kettle.globals``),
``kettle.http._multidict`` (for ``kettle.http.datastructures``),
``kettle.routing._resolve`` (for ``kettle.routing.shapes``), ``kettle.http._response``
(for ``kettle.http._fast_response`` and ``kettle.http.sending``)
and ``kettle.adapters._builders`` (for ``kettle.adapters.wsgi`` and
``kettle.adapters.asgi_request``). A module that has one
asks for it here and keeps its pure-Python code when the answer is None: not
built, or ``KETTLE_PURE_PYTHON=1`` (to measure, or to rule the C code out).
"""

from __future__ import annotations

import importlib
import os
from typing import Any


def accelerator(module: str, name: str) -> Any:
    """``name`` from the C module ``module``, or None when it is not built or not wanted."""
    if os.getenv("KETTLE_PURE_PYTHON", "") not in ("", "0"):
        return None
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:  # Built without a C compiler: the caller's Python code.
        return None
