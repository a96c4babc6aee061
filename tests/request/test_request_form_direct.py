"""The direct path for short urlencoded forms and queries keeps Flask's semantics and hooks."""

from __future__ import annotations

import asyncio
import io
from typing import IO, Any

import pytest

from kettle import Kettle, Request, request
from kettle.http.datastructures import ImmutableMultiDict
from kettle.http.formparser import FILE_SPOOL_SIZE, FormDataParser
from kettle.testing import KettleClient
from raw_asgi import asgi_request

FORM = "application/x-www-form-urlencoded"


def _echo_form(app: Kettle) -> None:
    @app.post("/form")
    def form() -> Any:
        return {
            "form": request.form.to_dict(flat=False),
            "values": request.values.to_dict(flat=False),
            "data": request.get_data(as_text=True),
            "stream": request.stream.read().decode(),
        }


def test_urlencoded_semantics(app: Kettle, client: KettleClient) -> None:
    _echo_form(app)
    body = b"a=1&a=&b&&c=x+y&d=%zz%41&e=\xff&=v&a=3"
    response = client.post("/form?q=1&a=0", data=body, content_type=FORM)
    assert response.status_code == 200
    assert response.json["form"] == {
        "a": ["1", "", "3"],
        "b": [""],
        "c": ["x y"],
        "d": ["%zzA"],
        "e": ["%FF"],
        "": ["v"],
    }
    assert response.json["values"]["a"] == ["0", "1", "", "3"]
    assert response.json["values"]["q"] == ["1"]
    assert response.json["data"] == ""
    assert response.json["stream"] == ""


def test_urlencoded_without_escapes(app: Kettle, client: KettleClient) -> None:
    _echo_form(app)
    response = client.post("/form", data="k=v&k=w&name=Grey+Li+李&x=", content_type=FORM)
    assert response.json["form"] == {"k": ["v", "w"], "name": ["Grey Li 李"], "x": [""]}


def test_data_read_before_the_form_is_kept(app: Kettle, client: KettleClient) -> None:
    @app.post("/raw")
    def raw() -> Any:
        data = request.get_data()
        return {"data": data.decode(), "form": request.form.to_dict()}

    response = client.post("/raw", data="a=1&b=2", content_type=FORM)
    assert response.json == {"data": "a=1&b=2", "form": {}}


def test_config_limits_change_between_requests(app: Kettle, client: KettleClient) -> None:
    _echo_form(app)
    assert client.post("/form", data="a=1&b=2&c=3", content_type=FORM).status_code == 200
    app.config["MAX_FORM_PARTS"] = 2
    assert client.post("/form", data="a=1&b=2&c=3", content_type=FORM).status_code == 413
    assert client.post("/form", data="a=1&b=2", content_type=FORM).status_code == 200
    app.config.update(MAX_FORM_PARTS=1000, MAX_FORM_MEMORY_SIZE=5)
    assert client.post("/form", data="a=123456", content_type=FORM).status_code == 413
    app.config.update(MAX_FORM_MEMORY_SIZE=500_000, MAX_CONTENT_LENGTH=4)
    assert client.post("/form", data="a=12", content_type=FORM).status_code == 200
    assert client.post("/form", data="a=123", content_type=FORM).status_code == 413


def test_per_request_limit_set_by_a_hook(app: Kettle, client: KettleClient) -> None:
    _echo_form(app)

    @app.before_request
    def shrink() -> None:
        request.max_form_memory_size = 3

    assert client.post("/form", data="a=1", content_type=FORM).status_code == 200
    assert client.post("/form", data="a=12", content_type=FORM).status_code == 413


class _UpperParser(FormDataParser):
    def parse_urlencoded(self, stream: IO[bytes], content_length: int | None) -> Any:
        form = super().parse_urlencoded(stream, content_length)
        return ImmutableMultiDict([(key, value.upper()) for key, value in form.items(multi=True)])


def test_form_data_parser_class_is_honoured(app: Kettle, client: KettleClient) -> None:
    class UpperRequest(Request):
        form_data_parser_class = _UpperParser

    app.request_class = UpperRequest
    _echo_form(app)
    response = client.post("/form", data="a=x&a=y", content_type=FORM)
    assert response.json["form"] == {"a": ["X", "Y"]}


def test_make_form_data_parser_is_honoured(app: Kettle, client: KettleClient) -> None:
    class StrictRequest(Request):
        def make_form_data_parser(self) -> FormDataParser:
            return FormDataParser(max_form_memory_size=self.max_form_memory_size, max_form_parts=1)

    app.request_class = StrictRequest
    _echo_form(app)
    assert client.post("/form", data="a=1", content_type=FORM).status_code == 200
    assert client.post("/form", data="a=1&b=2", content_type=FORM).status_code == 413


def test_limit_as_class_attribute_is_honoured(app: Kettle, client: KettleClient) -> None:
    class SmallRequest(Request):
        max_form_memory_size = 4  # type: ignore[assignment]

    class SmallerRequest(SmallRequest):
        pass

    app.request_class = SmallerRequest
    _echo_form(app)
    assert client.post("/form", data="a=12", content_type=FORM).status_code == 200
    assert client.post("/form", data="a=123", content_type=FORM).status_code == 413


def test_query_repeated_keys(app: Kettle, client: KettleClient) -> None:
    @app.get("/search")
    def search() -> Any:
        return {
            "args": request.args.to_dict(flat=False),
            "tags": request.args.getlist("tag"),
            "page": request.args.get("page", type=int),
            "type": type(request.args).__name__,
        }

    response = client.get("/search?tag=a&page=2&tag=b&flag&q=hello+world&tag=&tag=a")
    assert response.json == {
        "args": {"tag": ["a", "b", "", "a"], "page": ["2"], "flag": [""], "q": ["hello world"]},
        "tags": ["a", "b", "", "a"],
        "page": 2,
        "type": "ImmutableMultiDict",
    }


def test_parameter_storage_class_is_honoured(app: Kettle, client: KettleClient) -> None:
    class Pairs(ImmutableMultiDict[str, str]):
        def __init__(self, mapping: Any = None) -> None:
            super().__init__([(key.upper(), value) for key, value in mapping or ()])

    class PairsRequest(Request):
        parameter_storage_class = Pairs

    app.request_class = PairsRequest

    @app.get("/search")
    def search() -> Any:
        return {"args": request.args.to_dict(flat=False), "type": type(request.args).__name__}

    response = client.get("/search?a=1&a=2&b=3")
    assert response.json == {"args": {"A": ["1", "2"], "B": ["3"]}, "type": "Pairs"}


def test_file_parts_small_and_past_the_spool_size(app: Kettle, client: KettleClient) -> None:
    big = bytes(range(256)) * (FILE_SPOOL_SIZE // 256 * 2 + 3)
    small = b"tiny\r\n--not a boundary"

    @app.post("/up")
    def up() -> Any:
        files = request.files
        first, second = files["big"], files["small"]
        return {
            "big": first.read() == big,
            "big_again": first.read().decode(),
            "small": second.read().decode(),
            "seek": (second.stream.seek(0), second.read(4).decode()),
            "title": request.form["title"],
        }

    response = client.post(
        "/up",
        data={
            "title": "t",
            "big": (io.BytesIO(big), "big.bin"),
            "small": (io.BytesIO(small), "small.txt"),
        },
    )
    assert response.status_code == 200
    assert response.json == {
        "big": True,
        "big_again": "",
        "small": small.decode(),
        "seek": [0, "tiny"],
        "title": "t",
    }


def test_custom_stream_factory_is_used(app: Kettle, client: KettleClient) -> None:
    made: list[io.BytesIO] = []

    def factory() -> IO[bytes]:
        made.append(io.BytesIO())
        return made[-1]

    class FactoryRequest(Request):
        def make_form_data_parser(self) -> FormDataParser:
            return FormDataParser(stream_factory=factory)

    app.request_class = FactoryRequest

    @app.post("/up")
    def up() -> Any:
        storage = request.files["f"]
        return {"same": storage.stream is made[-1], "data": storage.read().decode()}

    response = client.post("/up", data={"f": (io.BytesIO(b"abc"), "f.txt")})
    assert response.json == {"same": True, "data": "abc"}


def test_files_and_data_after_the_form_was_read_directly(app: Kettle, client: KettleClient) -> None:
    @app.post("/form")
    def form() -> Any:
        fields = request.form.to_dict()
        return {
            "form": fields,
            "files": [type(request.files).__name__, len(request.files)],
            "data": request.get_data(parse_form_data=True).decode(),
            "stream": request.stream.read().decode(),
            "values": request.values.to_dict(),
        }

    response = client.post("/form?q=1", data="a=1&b=2", content_type=FORM)
    assert response.json == {
        "form": {"a": "1", "b": "2"},
        "files": ["ImmutableMultiDict", 0],
        "data": "",
        "stream": "",
        "values": {"q": "1", "a": "1", "b": "2"},
    }


def test_debug_mode_explains_a_file_after_the_form_was_read(
    app: Kettle, client: KettleClient
) -> None:
    from kettle.debug import DebugFilesKeyError

    @app.post("/upload")
    def upload() -> Any:
        assert request.form["photo"] == "cat.jpg"
        return request.files["photo"].filename

    app.debug = True
    with pytest.raises(DebugFilesKeyError) as info:
        client.post("/upload", data="photo=cat.jpg", content_type=FORM)
    assert "This was submitted: 'cat.jpg'" in str(info.value)


def test_load_form_data_override_is_called(app: Kettle, client: KettleClient) -> None:
    # Flask's own Request overrides _load_form_data; a user's override keeps working.
    class TaggedRequest(Request):
        def _load_form_data(self) -> None:
            super()._load_form_data()
            form = self.__dict__["form"]
            self.__dict__["form"] = ImmutableMultiDict(
                [(key, f"<{value}>") for key, value in form.items(multi=True)]
            )

    app.request_class = TaggedRequest
    _echo_form(app)
    response = client.post("/form", data="a=1&a=2", content_type=FORM)
    assert response.json["form"] == {"a": ["<1>", "<2>"]}


def test_content_type_with_parameters_and_case(app: Kettle, client: KettleClient) -> None:
    _echo_form(app)
    for content_type in (f"{FORM}; charset=utf-8", "Application/X-WWW-Form-URLEncoded"):
        response = client.post("/form", data="a=1&b=x+y", content_type=content_type)
        assert response.json["form"] == {"a": ["1"], "b": ["x y"]}, content_type


def test_content_type_override_is_what_the_form_reads(app: Kettle, client: KettleClient) -> None:
    # A subclass that decides the Content-Type (here: a client that sends forms as text/plain).
    class PlainAsForm(Request):
        @property
        def content_type(self) -> str | None:
            sent = super().content_type
            return FORM if sent == "text/plain" else sent

    app.request_class = PlainAsForm
    _echo_form(app)
    response = client.post("/form", data="a=1&b=x+y", content_type="text/plain")
    assert response.json["form"] == {"a": ["1"], "b": ["x y"]}


def test_headers_and_length_read_before_the_form(app: Kettle, client: KettleClient) -> None:
    @app.post("/form")
    def form() -> Any:
        seen = [request.headers["Content-Type"], request.content_length]
        return {"seen": seen, "form": request.form.to_dict(flat=False)}

    response = client.post("/form", data="a=1&a=2", content_type=FORM)
    assert response.json == {"seen": [FORM, 7], "form": {"a": ["1", "2"]}}
    response = client.post("/form", data="a=1", content_type="text/plain")
    assert response.json == {"seen": ["text/plain", 3], "form": {}}


def test_first_content_type_and_length_are_the_ones_read(app: Kettle) -> None:
    # Under ASGI the scope may repeat a header; the form reads the first, as ``content_type``.
    # (A Content-Length repeated with another value is a 400 since session 6, RFC 9112 6.3:
    # tests/security/test_security_content_length.py; repeated with the same one, it is read.)
    _echo_form(app)
    body = b"a=1&b=2"
    headers = [
        (b"content-type", FORM.encode()),
        (b"content-length", b"3"),
        (b"content-type", b"text/plain"),
        (b"content-length", b"3"),
    ]
    status, _, answer = asyncio.run(asgi_request(app, "/form", b"", headers, "POST", body))
    assert status == 200
    assert b'"form":{"a":["1"]}' in answer.replace(b" ", b"")
