"""Drive a WSGI app directly, without the test client: the environ of one plain request."""

from __future__ import annotations

import io
from typing import Any


def wsgi_environ(path: str, method: str = "GET", **extra: Any) -> dict[str, Any]:
    """The environ of a request for ``path`` to http://localhost, with ``extra`` keys on top."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "80",
        "HTTP_HOST": "localhost",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(b""),
    }
    environ.update(extra)
    return environ
