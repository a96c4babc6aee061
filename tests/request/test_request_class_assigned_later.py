"""A request class attribute assigned after the class (and the app) was made counts, as in Flask.

Kettle decides per class whether a form may take its direct path and how an
adapter may build the request; these tests assign the attributes those
decisions read on the class, on a base, or on ``kettle.Request`` itself,
after a first request, and look at what the client gets (WSGI and ASGI).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import pytest

from kettle import Kettle, Request, request
from kettle.http._lazy import cached_property
from kettle.http.datastructures import ImmutableMultiDict
from kettle.http.formparser import FormDataParser
from kettle.testing import KettleClient

FORM = "application/x-www-form-urlencoded"


def _echo_form(app: Kettle) -> None:
    @app.post("/form")
    def form() -> Any:
        return {"form": request.form.to_dict(flat=False)}


def _post(client: KettleClient, body: str) -> int:
    return client.post("/form", data=body, content_type=FORM).status_code


@pytest.mark.parametrize(
    ("name", "value", "fits", "too_big"),
    [
        ("max_form_parts", 2, "a=1&b=2", "a=1&b=2&c=3"),
        ("max_form_memory_size", 4, "a=12", "a=123"),
        ("max_content_length", 4, "a=12", "a=123"),
    ],
)
def test_limit_assigned_on_the_class_later(
    app: Kettle, client: KettleClient, name: str, value: int, fits: str, too_big: str
) -> None:
    class LaterRequest(Request):
        pass

    app.request_class = LaterRequest
    _echo_form(app)
    assert _post(client, too_big) == 200  # The config's limits.
    setattr(LaterRequest, name, value)
    assert _post(client, fits) == 200
    assert _post(client, too_big) == 413
    delattr(LaterRequest, name)  # The property again: the config's limits.
    assert _post(client, too_big) == 200


def test_limit_assigned_on_a_base_later(app: Kettle, client: KettleClient) -> None:
    class Base(Request):
        pass

    class Leaf(Base):
        pass

    app.request_class = Leaf
    _echo_form(app)
    assert _post(client, "a=1&b=2&c=3") == 200
    Base.max_form_parts = 2  # type: ignore[assignment]
    assert _post(client, "a=1&b=2&c=3") == 413
    assert _post(client, "a=1&b=2") == 200


@pytest.fixture
def restore_request() -> Iterator[None]:
    saved = dict(vars(Request))
    yield
    for name in [name for name in vars(Request) if name not in saved]:
        delattr(Request, name)
    for name, value in saved.items():
        if vars(Request).get(name) is not value:
            setattr(Request, name, value)


@pytest.mark.usefixtures("restore_request")
def test_limit_assigned_on_kettle_request_itself(app: Kettle, client: KettleClient) -> None:
    _echo_form(app)
    assert _post(client, "a=1&b=2&c=3") == 200
    Request.max_form_parts = 2  # type: ignore[assignment]
    assert _post(client, "a=1&b=2&c=3") == 413
    assert _post(client, "a=1&b=2") == 200


def test_private_limit_assigned_on_the_class_later(app: Kettle, client: KettleClient) -> None:
    # Flask's properties read ``_max_form_parts`` (set per request, or on a class).
    class LaterRequest(Request):
        pass

    app.request_class = LaterRequest
    _echo_form(app)
    assert _post(client, "a=1&b=2&c=3") == 200
    LaterRequest._max_form_parts = 2
    assert _post(client, "a=1&b=2&c=3") == 413


def test_private_limit_in_the_class_body(app: Kettle, client: KettleClient) -> None:
    class SmallRequest(Request):
        _max_form_memory_size = 4

    app.request_class = SmallRequest
    _echo_form(app)
    assert _post(client, "a=12") == 200
    assert _post(client, "a=123") == 413


class _UpperParser(FormDataParser):
    def parse_urlencoded(self, stream: IO[bytes], content_length: int | None) -> Any:
        form = super().parse_urlencoded(stream, content_length)
        return ImmutableMultiDict([(key, value.upper()) for key, value in form.items(multi=True)])


def test_parser_class_assigned_later(app: Kettle, client: KettleClient) -> None:
    class LaterRequest(Request):
        pass

    app.request_class = LaterRequest
    _echo_form(app)
    assert client.post("/form", data="a=x", content_type=FORM).json == {"form": {"a": ["x"]}}
    LaterRequest.form_data_parser_class = _UpperParser
    assert client.post("/form", data="a=x", content_type=FORM).json == {"form": {"a": ["X"]}}


def test_parser_class_assigned_on_a_mixin_later(app: Kettle, client: KettleClient) -> None:
    """The form path's answer is kept per class version: a change on any base is seen."""

    class Mixin:
        pass

    class LaterRequest(Mixin, Request):
        pass

    app.request_class = LaterRequest
    _echo_form(app)
    for _ in range(3):
        assert client.post("/form", data="a=x", content_type=FORM).json == {"form": {"a": ["x"]}}
    Mixin.form_data_parser_class = _UpperParser  # type: ignore[attr-defined]
    assert client.post("/form", data="a=x", content_type=FORM).json == {"form": {"a": ["X"]}}
    del Mixin.form_data_parser_class  # type: ignore[attr-defined]
    assert client.post("/form", data="a=x", content_type=FORM).json == {"form": {"a": ["x"]}}


def test_content_type_assigned_later(app: Kettle, client: KettleClient) -> None:
    class LaterRequest(Request):
        pass

    app.request_class = LaterRequest
    _echo_form(app)
    assert client.post("/form", data="a=x", content_type=FORM).json == {"form": {"a": ["x"]}}
    LaterRequest.content_type = property(lambda self: "text/plain")  # type: ignore[assignment]
    assert client.post("/form", data="a=x", content_type=FORM).json == {"form": {}}


class _Marking:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.mark = "mixin"


def test_init_of_a_mixin_is_called(app: Kettle, client: KettleClient) -> None:
    class MixedRequest(_Marking, Request):
        pass

    @app.get("/mark")
    def mark() -> str:
        return str(getattr(request, "mark", None))

    app.request_class = MixedRequest
    assert client.get("/mark").text == "mixin"


def test_content_length_assigned_later(app: Kettle, client: KettleClient) -> None:
    # A non-data descriptor: a value the adapter stored on the request would hide it.
    class LaterRequest(Request):
        pass

    @app.post("/length")
    def length() -> str:
        return str(request.content_length)

    app.request_class = LaterRequest
    assert client.post("/length", data="a=x").text == "3"
    LaterRequest.content_length = cached_property(lambda self: 7)  # type: ignore[assignment]
    assert client.post("/length", data="a=x").text == "7"
