"""``request.args`` and ``request.form``: parsed on first read, once, and kept (session 9).

They are their own descriptors (``kettle.http._request_params``) instead of
``cached_property``; what a view sees must be what it saw before.
"""

from __future__ import annotations

from typing import Any

from kettle import Kettle, Request, request
from kettle.http._request_params import Args, Form
from kettle.http.datastructures import ImmutableMultiDict
from kettle.testing import KettleClient

FORM = "application/x-www-form-urlencoded"


def test_args_and_form_are_parsed_once_and_kept(app: Kettle, client: KettleClient) -> None:
    seen: dict[str, Any] = {}

    @app.before_request
    def peek() -> None:
        seen["args"] = request.args
        seen["form"] = request.form

    @app.post("/both")
    def both() -> Any:
        return {
            "same_args": request.args is seen["args"] and request.args is request.args,
            "same_form": request.form is seen["form"] and request.form is request.form,
            "tags": request.args.getlist("tag"),
            "page": request.args.get("page", ""),
            "missing": request.args.get("missing", "none"),
            "typed": request.args.get("page", type=int),
            "fields": [request.form[f"f{i}"] for i in range(3)],
            "values": request.values.to_dict(flat=False),
        }

    body = "f0=a&f1=b+c&f2="
    response = client.post(
        "/both?tag=a&tag=b&tag=c&page=2&q=hello+world", data=body, content_type=FORM
    )
    assert response.json == {
        "same_args": True,
        "same_form": True,
        "tags": ["a", "b", "c"],
        "page": "2",
        "missing": "none",
        "typed": 2,
        "fields": ["a", "b c", ""],
        "values": {
            "tag": ["a", "b", "c"],
            "page": ["2"],
            "q": ["hello world"],
            "f0": ["a"],
            "f1": ["b c"],
            "f2": [""],
        },
    }


class _GuardedRequest(Request):
    """A request class whose ``__setattr__`` refuses the parsed attributes."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in ("args", "form"):
            raise AssertionError(f"{name} set through __setattr__")
        super().__setattr__(name, value)


def test_a_class_with_its_own_setattr_keeps_them_without_it(
    app: Kettle, client: KettleClient
) -> None:
    app.request_class = _GuardedRequest

    @app.post("/guarded")
    def guarded() -> Any:
        first = request.args
        form = request.form
        return {
            "kept": request.args is first and request.form is form,
            "args": first.to_dict(flat=False),
            "form": form.to_dict(flat=False),
        }

    response = client.post("/guarded?a=1&a=2", data="x=%41&y=2", content_type=FORM)
    assert response.json == {
        "kept": True,
        "args": {"a": ["1", "2"]},
        "form": {"x": ["A"], "y": ["2"]},
    }


class _OwnArgs(Request):
    """A subclass that defines ``args`` and ``form`` itself, as a Flask app may."""

    @property
    def args(self) -> ImmutableMultiDict[str, str]:  # type: ignore[override]
        return ImmutableMultiDict([("own", "args")])

    @property
    def form(self) -> ImmutableMultiDict[str, str]:  # type: ignore[override]
        return ImmutableMultiDict([("own", "form")])


def test_a_subclass_own_args_and_form_are_what_views_read(
    app: Kettle, client: KettleClient
) -> None:
    app.request_class = _OwnArgs

    @app.post("/own")
    def own() -> Any:
        return {"args": request.args["own"], "form": request.form["own"]}

    assert client.post("/own?x=1", data="y=2", content_type=FORM).json == {
        "args": "args",
        "form": "form",
    }


def test_read_on_the_class_they_are_documented_descriptors() -> None:
    assert isinstance(Request.args, Args)
    assert isinstance(Request.form, Form)
    assert "query string" in (Request.args.__doc__ or "")
    assert "urlencoded" in (Request.form.__doc__ or "")


def test_nothing_is_parsed_unless_read(app: Kettle, client: KettleClient) -> None:
    @app.post("/untouched")
    def untouched() -> Any:
        return {"data": request.get_data(as_text=True)}

    response = client.post("/untouched?a=1", data="f=1", content_type="text/plain")
    assert response.json == {"data": "f=1"}
    with app.test_request_context("/p?a=1&b=%zz", method="POST", data={"f": "1"}):
        assert "args" not in vars(request._get_current_object())
        assert "form" not in vars(request._get_current_object())
        assert request.args.to_dict() == {"a": "1", "b": "%zz"}
        assert request.form.to_dict() == {"f": "1"}
        assert vars(request._get_current_object())["args"] is request.args


def test_length_read_before_the_form_then_the_type_decides(
    app: Kettle, client: KettleClient
) -> None:
    # Under ASGI the adapter hands the request the Content-Length it read: the form then
    # looks for the Content-Type alone (the first one), as after ``content_length`` was read.
    @app.post("/length")
    def length() -> Any:
        return {"length": request.content_length, "form": request.form.to_dict(flat=False)}

    response = client.post("/length", data="a=1&a=2", content_type=FORM)
    assert response.json == {"length": 7, "form": {"a": ["1", "2"]}}
    response = client.post("/length", data="a=1", content_type=f"{FORM}; charset=utf-8")
    assert response.json == {"length": 3, "form": {"a": ["1"]}}
    response = client.post("/length", data="a=1", content_type="text/plain")
    assert response.json == {"length": 3, "form": {}}


def test_form_limits_of_two_apps_served_in_turn(make_client: Any) -> None:
    # The limits are kept with the version of the config they came from: two apps
    # alternating, and a config set back to an earlier value, each read their own.
    apps = [Kettle("small"), Kettle("large")]
    apps[0].config["MAX_FORM_PARTS"] = 2
    for each in apps:
        each.add_url_rule("/f", "f", lambda: str(len(request.form)), methods=["POST"])
    clients = [make_client(each) for each in apps]
    body = "a=1&b=2&c=3"
    for _ in range(2):
        assert clients[0].post("/f", data=body, content_type=FORM).status_code == 413
        assert clients[1].post("/f", data=body, content_type=FORM).text == "3"
    apps[0].config["MAX_FORM_PARTS"] = 1000
    assert clients[0].post("/f", data=body, content_type=FORM).text == "3"
    apps[0].config["MAX_FORM_PARTS"] = 2
    assert clients[0].post("/f", data=body, content_type=FORM).status_code == 413


def test_form_limits_of_a_config_replaced_by_a_plain_dict(
    app: Kettle, client: KettleClient
) -> None:
    app.add_url_rule("/f", "f", lambda: str(len(request.form)), methods=["POST"])
    app.config = dict(app.config, MAX_FORM_PARTS=2)  # type: ignore[assignment]
    assert client.post("/f", data="a=1&b=2&c=3", content_type=FORM).status_code == 413
    app.config["MAX_FORM_PARTS"] = 3
    assert client.post("/f", data="a=1&b=2&c=3", content_type=FORM).text == "3"
