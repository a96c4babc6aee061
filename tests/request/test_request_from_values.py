"""``Request.from_values``: a request built from EnvironBuilder arguments, as Werkzeug's.

Extension test suites (Flask-RESTful, Flask-Admin) build requests this way.
"""

from __future__ import annotations

import io

from kettle import Request
from kettle.wrappers import Request as WrapperRequest


def test_path_query_and_defaults() -> None:
    request = Request.from_values("/bubble?foo=bar&foo=bat&n=22")
    assert type(request) is Request
    assert request.method == "GET"
    assert request.path == "/bubble"
    assert request.args.getlist("foo") == ["bar", "bat"]
    assert request.args["n"] == "22"
    assert request.url == "http://localhost/bubble?foo=bar&foo=bat&n=22"


def test_form_json_headers_and_files() -> None:
    form = Request.from_values("/f", method="POST", data={"a": "1", "a ": "2"})
    assert form.form["a"] == "1"
    assert form.mimetype == "application/x-www-form-urlencoded"
    js = Request.from_values("/j", method="PUT", json={"x": [1, 2]}, headers={"X-Tag": "t"})
    assert js.get_json() == {"x": [1, 2]}
    assert js.headers["X-Tag"] == "t"
    up = Request.from_values("/u", method="POST", data={"doc": (io.BytesIO(b"hello"), "a.txt")})
    assert up.files["doc"].filename == "a.txt"
    assert up.files["doc"].read() == b"hello"
    up.close()


def test_subclass_is_kept() -> None:
    class MyRequest(WrapperRequest):
        pass

    request = MyRequest.from_values("/x", base_url="https://example.com/app")
    assert type(request) is MyRequest
    assert request.url == "https://example.com/app/x"
    assert request.root_path == "/app"


def test_environbuilder_builds_a_foreign_request_class_from_the_environ() -> None:
    from kettle.testing import EnvironBuilder

    class EnvironRequest:  # shaped like a Werkzeug request class: built from an environ
        def __init__(self, environ: dict[str, object]) -> None:
            self.environ = environ

    builder = EnvironBuilder(None, "/s3/bucket?list-type=2", method="PUT", data=b"body")
    built = builder.get_request(EnvironRequest)
    assert isinstance(built, EnvironRequest)
    assert built.environ["REQUEST_METHOD"] == "PUT"
    assert built.environ["PATH_INFO"] == "/s3/bucket"
    assert built.environ["QUERY_STRING"] == "list-type=2"
