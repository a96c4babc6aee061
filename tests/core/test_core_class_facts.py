"""Facts kept about a request class hold only while the class is unchanged.

``kettle.http._watched.versioned_fact`` keeps what the hot path learned about a
class (may the session cookie be read from the raw header? does building and
matching a request run only Kettle's code?) with the class's version tag, and
learns it again once an attribute of the class or of a base is set or deleted;
pure Python learns it on every call. Here a class is changed after its first
requests and the next request must follow the change.
"""

from __future__ import annotations

from typing import Any

import pytest

from kettle import Kettle, session
from kettle.http import _watched
from kettle.http.datastructures import ImmutableMultiDict
from kettle.testing import KettleClient
from kettle.unrouted import plain_request_class
from kettle.wrappers import Request


def test_a_fact_is_learned_again_when_the_class_changes() -> None:
    class Mine:
        size = 1

    table: dict[type, tuple[int, Any]] = {}
    learned: list[int] = []

    def learn(cls: type) -> int:
        learned.append(cls.size)  # type: ignore[attr-defined]
        return cls.size  # type: ignore[attr-defined, no-any-return]

    assert _watched.versioned_fact(table, Mine, learn) == 1
    assert _watched.versioned_fact(table, Mine, learn) == 1
    Mine.size = 2
    assert _watched.versioned_fact(table, Mine, learn) == 2
    # Kept between changes when the version tag is there (the C accelerator); else
    # learned each time, never stale.
    assert learned == ([1, 2] if _watched.class_version is not None else [1, 1, 2])


@pytest.mark.parametrize("protocol", ["wsgi", "asgi"])
def test_a_session_follows_a_request_class_changed_after_its_first_requests(
    protocol: str,
) -> None:
    class Mine(Request):
        pass

    app = Kettle(__name__)
    app.config["SECRET_KEY"] = "test key"
    app.request_class = Mine

    @app.get("/set")
    def set_it() -> str:
        session["user"] = "ada"
        return "set"

    @app.get("/read")
    def read() -> str:
        return str(session.get("user"))

    client = KettleClient(app, protocol=protocol)
    client.get("/set")
    for _ in range(3):  # The raw Cookie header is read: the class keeps Kettle's ``cookies``.
        assert client.get("/read").text == "ada"
    # Now the class's own ``cookies`` (an app's override) hides the session cookie.
    Mine.cookies = property(lambda self: ImmutableMultiDict())  # type: ignore[assignment]
    assert client.get("/read").text == "None"
    del Mine.cookies  # Kettle's own again.
    assert client.get("/read").text == "ada"


def test_a_request_class_given_a_hook_later_is_not_plain_any_more() -> None:
    class Mine(Request):
        pass

    assert plain_request_class(Mine)
    Mine.path = property(lambda self: "/elsewhere")  # type: ignore[assignment,method-assign]
    assert not plain_request_class(Mine)
    del Mine.path
    assert plain_request_class(Mine)
