"""A request keeps its attributes in CPython's compact layout, whatever was served first.

CPython 3.11 and 3.12 close a class's table of attribute names (its shared
keys) after some 30 instances; a request that then sets a name not in it
builds a real ``__dict__`` and reads every attribute slowly afterwards
(``kettle.http._layout``). Kettle puts the pipeline's names in the table
when a request class is made. Here a process first serves 60 plain
requests (the table would close without ``args``, ``view_args`` or
``scope``), then a query and a URL value, under WSGI and ASGI, and each
request must still have no ``__dict__`` of its own: the garbage collector's
view of the object shows its attribute values, not a dict. (A request whose
body is read still builds one: ``headers`` and the body stream are looked
for in ``__dict__``.)
"""

from __future__ import annotations

import gc
import sys
from typing import Any

import pytest

from kettle import Kettle, request
from kettle.http._layout import REQUEST_ATTRIBUTES, settle_layout
from kettle.testing import KettleClient
from kettle.wrappers import Request

pytestmark = pytest.mark.skipif(
    sys.version_info[:2] not in ((3, 11), (3, 12)), reason="the shared-keys rule of 3.11/3.12"
)


def has_own_dict(obj: Any) -> bool:
    """True when ``obj``'s attributes moved to a real dict (one holds its ``_form_loaded``)."""
    return any(type(ref) is dict and "_form_loaded" in ref for ref in gc.get_referents(obj))


def served(protocol: str, request_class: type[Request] | None = None) -> dict[str, bool]:
    app = Kettle(__name__)
    if request_class is not None:
        app.request_class = request_class
    seen: dict[str, bool] = {}

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    @app.get("/search")
    def search() -> str:
        tags = ",".join(request.args.getlist("tag"))
        seen["query"] = has_own_dict(request._get_current_object())
        return tags

    @app.get("/users/<int:id>")
    def user(id: int) -> str:
        seen["value"] = has_own_dict(request._get_current_object())
        return str(id)

    client = KettleClient(app, protocol=protocol)
    for _ in range(60):
        assert client.get("/plain").text == "plain"
    assert client.get("/search?tag=a&tag=b").text == "a,b"
    assert client.get("/users/7").text == "7"
    return seen


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_later_requests_keep_the_compact_layout(protocol: str) -> None:
    assert served(protocol) == {"query": False, "value": False}


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_a_request_class_made_later_is_settled_too(protocol: str) -> None:
    class Mine(Request):
        @property
        def path_upper(self) -> str:
            return self.path.upper()

    assert served(protocol, Mine) == {"query": False, "value": False}


def test_what_cannot_be_settled_is_left_alone() -> None:
    class WithNew(Request):
        def __new__(cls, *args: Any, **kwargs: Any) -> WithNew:
            raise AssertionError("not called by settle_layout")

    class WithPath(Request):
        @property
        def path(self) -> str:  # type: ignore[override]
            return "/fixed"

    settle_layout(WithNew, REQUEST_ATTRIBUTES)  # Its own __new__: no instance made.
    settle_layout(WithPath, REQUEST_ATTRIBUTES)  # A property is not given a value.
    assert WithPath.__dict__["path"].fget is not None  # (Still the class's property.)
    names = Request._layout_attributes
    assert set(REQUEST_ATTRIBUTES) < set(names)
    assert len(names) <= 29 and len(set(names)) == len(names)
