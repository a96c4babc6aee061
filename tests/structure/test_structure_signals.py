"""Signals sent by the app and the contexts (blinker)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from blinker import Signal

from kettle import (
    Kettle,
    appcontext_popped,
    appcontext_pushed,
    appcontext_tearing_down,
    got_request_exception,
    request,
    request_finished,
    request_started,
    request_tearing_down,
)
from kettle.testing import KettleClient


@contextmanager
def recording(*signals: Signal) -> Iterator[list[tuple[str, Any, dict[str, Any]]]]:
    """Record (signal name, sender, kwargs) for each signal sent while active."""
    events: list[tuple[str, Any, dict[str, Any]]] = []
    receivers = []
    for signal in signals:

        def receiver(sender: Any, _name: str = str(signal.name), **kwargs: Any) -> None:
            events.append((_name, sender, kwargs))

        signal.connect(receiver)
        receivers.append((signal, receiver))
    try:
        yield events
    finally:
        for signal, receiver in receivers:
            signal.disconnect(receiver)


ALL = (
    request_started,
    request_finished,
    request_tearing_down,
    got_request_exception,
    appcontext_pushed,
    appcontext_popped,
    appcontext_tearing_down,
)


def test_request_signals_in_order(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    @app.route("/")
    def index() -> str:
        return f"path {request.path}"

    client = make_client(app)
    with recording(*ALL) as events:
        response = client.get("/")
    assert response.text == "path /"
    assert [name for name, _, _ in events] == [
        "appcontext-pushed",
        "request-started",
        "request-finished",
        "request-tearing-down",
        "appcontext-tearing-down",
        "appcontext-popped",
    ]
    assert all(sender is app for _, sender, _ in events)
    finished = events[2][2]
    assert finished["response"].status_code == 200
    assert events[3][2] == {"exc": None}
    assert events[4][2] == {"exc": None}


def test_got_request_exception(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    app.config.update(TESTING=False, PROPAGATE_EXCEPTIONS=False)
    app.logger.disabled = True

    @app.route("/boom")
    def boom() -> str:
        raise ZeroDivisionError("no")

    client = make_client(app)
    with recording(got_request_exception, request_tearing_down) as events:
        assert client.get("/boom").status_code == 500
    assert [name for name, _, _ in events] == ["got-request-exception", "request-tearing-down"]
    assert isinstance(events[0][2]["exception"], ZeroDivisionError)
    assert isinstance(events[1][2]["exc"], ZeroDivisionError)


def test_handled_http_error_sends_no_exception_signal(
    app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    client = make_client(app)
    with recording(got_request_exception, request_finished) as events:
        assert client.get("/missing").status_code == 404
    assert [name for name, _, _ in events] == ["request-finished"]
    assert events[0][2]["response"].status_code == 404


def test_app_context_signals(app: Kettle) -> None:
    with (
        recording(appcontext_pushed, appcontext_tearing_down, appcontext_popped) as events,
        app.app_context(),
    ):
        pass
    assert [(name, sender) for name, sender, _ in events] == [
        ("appcontext-pushed", app),
        ("appcontext-tearing-down", app),
        ("appcontext-popped", app),
    ]


def test_test_request_context_signals(app: Kettle) -> None:
    with (
        recording(appcontext_pushed, request_tearing_down, appcontext_popped) as events,
        app.test_request_context("/"),
    ):
        pass
    assert [name for name, _, _ in events] == [
        "appcontext-pushed",
        "request-tearing-down",
        "appcontext-popped",
    ]


def test_async_receivers_are_awaited(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    seen: list[str] = []

    async def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(request.path)

    request_started.connect(receiver)
    try:

        @app.route("/a")
        def index() -> str:
            return "ok"

        assert make_client(app).get("/a").text == "ok"
    finally:
        request_started.disconnect(receiver)
    assert seen == ["/a"]


@pytest.mark.parametrize("name", ["template_rendered", "before_render_template", "message_flashed"])
def test_other_signals_exist(name: str) -> None:
    import kettle
    import kettle.signals

    signal = getattr(kettle, name)
    assert signal is getattr(kettle.signals, name)
    assert isinstance(signal, Signal)
