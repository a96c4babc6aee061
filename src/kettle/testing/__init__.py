"""Test an app without a server: HTTP, server-sent events, WebSocket and the CLI.

- ``client``: ``KettleClient`` (``app.test_client()``), requests through the
  app's WSGI or ASGI side, cookies kept; ``TestResponse`` (with ``events()``
  for server-sent events).
- ``cookies``: the client's cookie jar; ``client.get_cookie`` returns a ``Cookie``.
- ``websocket``: ``WebSocketSession``, from ``client.websocket(path)``.
- ``asgi``: the driver that runs an ASGI app on this thread's loop.
- ``cli``: ``KettleCliRunner`` (``app.test_cli_runner()``) invokes the app's commands.

Flask's names are aliases: ``FlaskClient``, ``FlaskCliRunner``. The request
builder, ``EnvironBuilder``, lives in ``kettle.adapters.environ`` (the
runtime uses it too) and is re-exported here, as Werkzeug's ``werkzeug.test``.
"""

from __future__ import annotations

from kettle.adapters.environ import EnvironBuilder as EnvironBuilder
from kettle.adapters.environ import encode_multipart as encode_multipart
from kettle.adapters.environ import scope_from_environ as scope_from_environ
from kettle.testing.cli import KettleCliRunner as KettleCliRunner
from kettle.testing.client import FlaskClient as FlaskClient
from kettle.testing.client import KettleClient as KettleClient
from kettle.testing.client import TestResponse as TestResponse
from kettle.testing.cookies import Cookie as Cookie
from kettle.testing.websocket import WebSocketSession as WebSocketSession

#: Flask's name, so ``from kettle.testing import FlaskCliRunner`` works after a port.
FlaskCliRunner = KettleCliRunner

__all__ = [
    "Cookie",
    "EnvironBuilder",
    "FlaskClient",
    "FlaskCliRunner",
    "KettleCliRunner",
    "KettleClient",
    "TestResponse",
    "WebSocketSession",
    "encode_multipart",
    "scope_from_environ",
]
