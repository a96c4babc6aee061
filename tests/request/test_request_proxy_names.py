"""Which names a proxy answers itself and which it forwards, under WSGI and ASGI.

A proxy answers the names its class has (``_get_current_object``,
``__class__``, its special methods) and forwards every other one to the
current object: public names, and names with an underscore the proxy does
not have (an attribute a hook set, a private attribute of the request).
Outside a request the request proxy raises Flask's RuntimeError.
"""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, current_app, g, request
from kettle.testing import KettleClient
from kettle.wrappers import Request


def test_own_names_and_forwarded_names(app: Kettle, client: KettleClient) -> None:
    @app.before_request
    def mark() -> None:
        request.user = "ada"  # Set through the proxy: lands on the request.
        request._hook_note = "private"
        g._hidden = 7

    @app.get("/names")
    def names() -> Any:
        current = request._get_current_object()  # type: ignore[attr-defined]
        with pytest.raises(AttributeError):
            getattr(request, "")
        with pytest.raises(AttributeError):
            _ = request._no_such_private_name
        return {
            "own_current": type(current).__name__,
            "class": request.__class__ is type(current),
            "user": request.user,
            "note": request._hook_note,
            "form_loaded": request._form_loaded,
            "hidden": g._hidden,
            "has_missing": hasattr(request, "missing"),
            "app": current_app._get_current_object() is app,  # type: ignore[attr-defined]
            "args": request.args.getlist("tag"),
            "repr": repr(request) == repr(current),
        }

    assert client.get("/names?tag=a&tag=b").json == {
        "own_current": "Request",
        "class": True,
        "user": "ada",
        "note": "private",
        "form_loaded": False,
        "hidden": 7,
        "has_missing": False,
        "app": True,
        "args": ["a", "b"],
        "repr": True,
    }


def test_request_proxy_outside_a_request(app: Kettle) -> None:
    with pytest.raises(RuntimeError, match="outside of request context"):
        _ = request.args
    with app.app_context(), pytest.raises(RuntimeError, match="outside of request context"):
        _ = request.args
    with app.test_request_context("/?page=2"):
        assert request.args["page"] == "2"
        assert isinstance(request._get_current_object(), Request)  # type: ignore[attr-defined]
    assert repr(request) == "<LocalProxy unbound>"
