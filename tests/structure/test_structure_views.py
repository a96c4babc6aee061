"""Class-based views: View and MethodView, sync and async."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kettle import Kettle, request
from kettle.testing import KettleClient
from kettle.views import MethodView, View


def test_view_dispatch_and_args(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    class Greeting(View):
        methods = ["GET", "POST"]

        def __init__(self, greeting: str) -> None:
            self.greeting = greeting

        def dispatch_request(self, name: str) -> str:
            return f"{self.greeting} {name} ({request.method})"

    app.add_url_rule("/hi/<name>", view_func=Greeting.as_view("hi", "Hello"))
    client = make_client(app)
    assert client.get("/hi/ann").text == "Hello ann (GET)"
    assert client.post("/hi/bob").text == "Hello bob (POST)"
    response = client.put("/hi/bob")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_view_attributes() -> None:
    class Page(View):
        """A page."""

        def dispatch_request(self) -> str:
            return "page"

    view = Page.as_view("page")
    assert view.__name__ == "page"
    assert view.__doc__ == "A page."
    assert view.view_class is Page  # type: ignore[attr-defined]
    assert view.methods is None  # type: ignore[attr-defined]
    assert view.is_async is False  # type: ignore[attr-defined]
    with pytest.raises(NotImplementedError):
        View().dispatch_request()


def test_init_every_request(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    created: list[object] = []

    class Counter(View):
        init_every_request = False

        def __init__(self) -> None:
            created.append(self)
            self.count = 0

        def dispatch_request(self) -> str:
            self.count += 1
            return str(self.count)

    class Fresh(Counter):
        init_every_request = True

    app.add_url_rule("/shared", view_func=Counter.as_view("shared"))
    app.add_url_rule("/fresh", view_func=Fresh.as_view("fresh"))
    client = make_client(app)
    assert [client.get("/shared").text for _ in range(3)] == ["1", "2", "3"]
    assert [client.get("/fresh").text for _ in range(3)] == ["1", "1", "1"]
    assert len(created) == 4


def test_decorators_apply_in_order(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    def tag(label: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(**kwargs: Any) -> Any:
                return f"{label}({f(**kwargs)})"

            return wrapper

        return decorator

    class Wrapped(View):
        decorators = [tag("inner"), tag("outer")]

        def dispatch_request(self) -> str:
            return "view"

    app.add_url_rule("/w", view_func=Wrapped.as_view("w"))
    assert make_client(app).get("/w").text == "outer(inner(view))"


def test_provide_automatic_options_false(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    class NoOptions(View):
        methods = ["GET"]
        provide_automatic_options = False

        def dispatch_request(self) -> str:
            return "x"

    app.add_url_rule("/no", view_func=NoOptions.as_view("no"))
    assert make_client(app).options("/no").status_code == 405


def test_method_view(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    class Item(MethodView):
        def get(self, id: int) -> str:
            return f"get {id}"

        def post(self, id: int) -> tuple[str, int]:
            return f"created {id}", 201

        def delete(self, id: int) -> tuple[str, int]:
            return "", 204

    assert Item.methods == {"GET", "POST", "DELETE"}
    app.add_url_rule("/items/<int:id>", view_func=Item.as_view("item"))
    client = make_client(app)
    assert client.get("/items/3").text == "get 3"
    response = client.head("/items/3")
    assert (response.status_code, response.data) == (200, b"")
    response = client.post("/items/4")
    assert (response.status_code, response.text) == (201, "created 4")
    assert client.delete("/items/4").status_code == 204
    assert client.put("/items/4").status_code == 405
    allow = client.options("/items/4").headers["Allow"]
    assert set(allow.split(", ")) == {"DELETE", "GET", "HEAD", "OPTIONS", "POST"}


def test_method_view_inherits_methods() -> None:
    class Base(MethodView):
        def get(self) -> str:
            return "base"

    class Child(Base):
        def put(self) -> str:
            return "child"

    class Explicit(MethodView):
        methods = ["PATCH"]

        def patch(self) -> str:
            return "p"

    assert Child.methods == {"GET", "PUT"}
    assert Explicit.methods == ["PATCH"]


def test_async_method_view(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    class Mixed(MethodView):
        async def get(self) -> str:
            return f"async {request.method}"

        def post(self) -> str:
            return "sync post"

    view = Mixed.as_view("mixed")
    assert view.is_async is True  # type: ignore[attr-defined]
    app.add_url_rule("/mixed", view_func=view)
    client = make_client(app)
    assert client.get("/mixed").text == "async GET"
    assert client.post("/mixed").text == "sync post"


def test_async_view(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    class Async(View):
        init_every_request = False

        async def dispatch_request(self, n: int) -> dict[str, int]:
            return {"n": n}

    view = Async.as_view("async_view")
    assert view.is_async is True  # type: ignore[attr-defined]
    app.add_url_rule("/a/<int:n>", view_func=view)
    assert make_client(app).get("/a/5").get_json() == {"n": 5}


def test_view_class_is_read_per_request(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    # As Flask: the function looks up ``view.view_class`` on each call, so it can be swapped.
    class Broken(MethodView):
        def get(self) -> str:
            raise ZeroDivisionError

    class Fixed(Broken):
        def get(self) -> str:
            return "fixed"

    view = Broken.as_view("index")
    view.view_class = Fixed  # type: ignore[attr-defined]
    app.add_url_rule("/", view_func=view)
    assert make_client(app).get("/").text == "fixed"
