"""Kettle: Flask's API, WSGI and ASGI from one app object, and fast.

Every public name is re-exported here explicitly; ``tests/test_exports.py``
pins ``__all__``.
"""

from __future__ import annotations

from kettle.app import Kettle as Kettle
from kettle.config import Config as Config
from kettle.ctx import after_this_request as after_this_request
from kettle.ctx import copy_current_request_context as copy_current_request_context
from kettle.ctx import has_app_context as has_app_context
from kettle.ctx import has_request_context as has_request_context
from kettle.globals import current_app as current_app
from kettle.globals import g as g
from kettle.globals import request as request
from kettle.globals import session as session
from kettle.helpers import abort as abort
from kettle.helpers import make_response as make_response
from kettle.helpers import redirect as redirect
from kettle.helpers import url_for as url_for
from kettle.json import jsonify as jsonify
from kettle.wrappers import Request as Request
from kettle.wrappers import Response as Response

__version__ = "0.1.0"

#: Flask's name for the app class, so ``from kettle import Flask`` works too.
Flask = Kettle

__all__ = [
    "Config",
    "Flask",
    "Kettle",
    "Request",
    "Response",
    "abort",
    "after_this_request",
    "copy_current_request_context",
    "current_app",
    "g",
    "has_app_context",
    "has_request_context",
    "jsonify",
    "make_response",
    "redirect",
    "request",
    "session",
    "url_for",
]
