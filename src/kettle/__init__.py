"""Kettle: Flask's API, WSGI and ASGI from one app object, and fast.

Every public name is re-exported here explicitly; ``tests/test_exports.py``
pins ``__all__``.
"""

from __future__ import annotations

from kettle.app import Kettle as Kettle
from kettle.blueprints import Blueprint as Blueprint
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
from kettle.helpers import flash as flash
from kettle.helpers import get_flashed_messages as get_flashed_messages
from kettle.helpers import is_safe_url as is_safe_url
from kettle.helpers import make_response as make_response
from kettle.helpers import redirect as redirect
from kettle.helpers import redirect_back as redirect_back
from kettle.helpers import send_file as send_file
from kettle.helpers import send_from_directory as send_from_directory
from kettle.helpers import url_for as url_for
from kettle.json import jsonify as jsonify
from kettle.signals import appcontext_popped as appcontext_popped
from kettle.signals import appcontext_pushed as appcontext_pushed
from kettle.signals import appcontext_tearing_down as appcontext_tearing_down
from kettle.signals import before_render_template as before_render_template
from kettle.signals import got_request_exception as got_request_exception
from kettle.signals import message_flashed as message_flashed
from kettle.signals import request_finished as request_finished
from kettle.signals import request_started as request_started
from kettle.signals import request_tearing_down as request_tearing_down
from kettle.signals import template_rendered as template_rendered
from kettle.streaming import stream_with_context as stream_with_context
from kettle.templating import get_template_attribute as get_template_attribute
from kettle.templating import render_template as render_template
from kettle.templating import render_template_string as render_template_string
from kettle.templating import stream_template as stream_template
from kettle.templating import stream_template_string as stream_template_string
from kettle.websocket import websocket as websocket
from kettle.wrappers import Request as Request
from kettle.wrappers import Response as Response

__version__ = "0.1.0"

#: Flask's name for the app class, so ``from kettle import Flask`` works too.
Flask = Kettle

__all__ = [
    "Blueprint",
    "Config",
    "Flask",
    "Kettle",
    "Request",
    "Response",
    "abort",
    "after_this_request",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "copy_current_request_context",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "get_template_attribute",
    "got_request_exception",
    "has_app_context",
    "has_request_context",
    "is_safe_url",
    "jsonify",
    "make_response",
    "message_flashed",
    "redirect",
    "redirect_back",
    "render_template",
    "render_template_string",
    "request",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "send_file",
    "send_from_directory",
    "session",
    "stream_template",
    "stream_template_string",
    "stream_with_context",
    "template_rendered",
    "url_for",
    "websocket",
]
