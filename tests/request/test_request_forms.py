"""Forms, files and body limits, under WSGI and ASGI."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
import werkzeug.utils

from kettle import Kettle, Request, request
from kettle.testing import KettleClient
from kettle.utils import secure_filename

FIXTURES = Path(__file__).parent / "fixtures"
BOUNDARIES = dict(
    line.split(" ", 1) for line in (FIXTURES / "boundaries.txt").read_text().splitlines()
)
PNG = bytes(range(256)) * 4


def _upload_view(app: Kettle) -> None:
    @app.post("/up")
    def up() -> Any:
        files = {}
        for name, f in request.files.items(multi=True):
            files[name] = {
                "filename": f.filename,
                "name": f.name,
                "content_type": f.content_type,
                "mimetype": f.mimetype,
                "size": len(f.read()),
                "bool": bool(f),
            }
        return {"form": request.form.to_dict(flat=False), "files": files}


@pytest.mark.parametrize("fixture", sorted(BOUNDARIES))
def test_browser_and_curl_multipart(app: Kettle, client: KettleClient, fixture: str) -> None:
    _upload_view(app)
    body = (FIXTURES / fixture).read_bytes()
    response = client.post(
        "/up", data=body, content_type=f"multipart/form-data; boundary={BOUNDARIES[fixture]}"
    )
    assert response.status_code == 200
    assert response.json == {
        "form": {"username": ["Grey Li 李"], "bio": ["line one\r\nline two"], "tags": ["a", "b"]},
        "files": {
            "avatar": {
                "filename": "头像.png",
                "name": "avatar",
                "content_type": "image/png",
                "mimetype": "image/png",
                "size": len(PNG),
                "bool": True,
            },
            "empty": {
                "filename": "",
                "name": "empty",
                "content_type": "application/octet-stream",
                "mimetype": "application/octet-stream",
                "size": 0,
                "bool": False,
            },
        },
    }


def test_file_save_to_path_and_file(app: Kettle, client: KettleClient, tmp_path: Path) -> None:
    @app.post("/save")
    def save() -> Any:
        f = request.files["doc"]
        target = tmp_path / secure_filename(f.filename or "")
        f.save(target)
        f.stream.seek(0)
        out = io.BytesIO()
        f.save(out)
        return {"path": target.name, "disk": target.read_bytes().decode(), "mem": out.getvalue().decode()}

    response = client.post("/save", data={"doc": (io.BytesIO(b"report"), "../../etc/report.txt")})
    assert response.json == {"path": "report.txt", "disk": "report", "mem": "report"}


def test_missing_file_is_400(app: Kettle, client: KettleClient) -> None:
    @app.post("/need")
    def need() -> Any:
        return request.files["doc"].filename

    assert client.post("/need", data={"other": "x"}).status_code == 400


@pytest.mark.parametrize(
    "name",
    ["My cool movie.mov", "../../../etc/passwd", "i contain cool \xfcml\xe4uts.txt", "头像.png",
     "__init__.py", "  .hidden", "a/b\\c.txt", "CON.txt", "", "...", "fo\x00o.txt"],
)
def test_secure_filename_matches_werkzeug(name: str) -> None:
    assert secure_filename(name) == werkzeug.utils.secure_filename(name)


# -- limits --------------------------------------------------------------------
def _echo(app: Kettle) -> None:
    @app.post("/echo")
    def echo() -> Any:
        return {"form": len(request.form), "files": len(request.files), "data": len(request.get_data())}


def test_content_length_over_limit_is_413(app: Kettle, client: KettleClient) -> None:
    _echo(app)
    app.config["MAX_CONTENT_LENGTH"] = 100
    assert client.post("/echo", data=b"x" * 101, content_type="text/plain").status_code == 413
    assert client.post("/echo", data={"a": "x" * 200}).status_code == 413
    assert client.post("/echo", data=b"x" * 100, content_type="text/plain").json["data"] == 100


def test_unknown_length_stopped_at_limit(app: Kettle, client: KettleClient) -> None:
    _echo(app)
    app.config["MAX_CONTENT_LENGTH"] = 100
    chunked = {"Transfer-Encoding": "chunked", "Content-Type": "text/plain"}
    over = client.post("/echo", input_stream=io.BytesIO(b"x" * 101), headers=chunked)
    assert over.status_code == 413
    ok = client.post("/echo", input_stream=io.BytesIO(b"x" * 100), headers=chunked)
    assert ok.json["data"] == 100


def test_short_body_is_400_not_a_hang(app: Kettle, client: KettleClient) -> None:
    _echo(app)
    response = client.post("/echo", data=b"abc", content_length=10, content_type="text/plain")
    assert response.status_code == 400


def test_form_memory_size(app: Kettle, client: KettleClient) -> None:
    _echo(app)
    app.config["MAX_FORM_MEMORY_SIZE"] = 50
    assert client.post("/echo", data={"a": "x" * 51}).status_code == 413
    assert client.post("/echo", data={"a": "x" * 40}).json["form"] == 1
    # Multipart: per field; files do not count.
    assert client.post("/echo", data={"a": "x" * 51, "f": (io.BytesIO(b"y" * 500), "f.txt")}).status_code == 413
    ok = client.post("/echo", data={"a": "x" * 40, "f": (io.BytesIO(b"y" * 500), "f.txt")})
    assert ok.json == {"form": 1, "files": 1, "data": 0}


def test_form_parts(app: Kettle, client: KettleClient) -> None:
    _echo(app)
    app.config["MAX_FORM_PARTS"] = 3
    assert client.post("/echo", data={f"k{i}": "v" for i in range(4)}).status_code == 413
    assert client.post("/echo", data={f"k{i}": "v" for i in range(3)}).json["form"] == 3
    files = {f"k{i}": (io.BytesIO(b"v"), "a.txt") for i in range(4)}
    assert client.post("/echo", data=files).status_code == 413


def test_limits_set_per_request(app: Kettle, client: KettleClient) -> None:
    @app.post("/small")
    def small() -> Any:
        request.max_form_parts = 1
        request.max_form_memory_size = 5
        return request.form.to_dict()

    assert client.post("/small", data={"a": "1", "b": "2"}).status_code == 413
    assert client.post("/small", data={"a": "123456"}, content_type="multipart/form-data").status_code == 413
    assert client.post("/small", data={"a": "1"}).json == {"a": "1"}


def test_limits_a_request_class_sets_itself(app: Kettle, client: KettleClient) -> None:
    # Flask's Request reads ``_max_form_parts`` (and the other two) before the config:
    # a subclass may set them as class attributes.
    class OnePart(Request):
        _max_form_parts = 1

    app.request_class = OnePart

    @app.post("/one")
    def one() -> Any:
        return request.form.to_dict()

    assert client.post("/one", data={"a": "1", "b": "2"}).status_code == 413
    assert client.post("/one", data="a=1&b=2", content_type="application/x-www-form-urlencoded").status_code == 413
    assert client.post("/one", data={"a": "1"}).json == {"a": "1"}


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data", b"--x\r\n"),
        ("multipart/form-data; boundary=" + "b" * 71, b"--" + b"b" * 71 + b"--\r\n"),
        ("multipart/form-data; boundary=xx", b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated"),
        ("multipart/form-data; boundary=xx", b"--xx\r\nX-No-Disposition: 1\r\n\r\nv\r\n--xx--\r\n"),
        ("multipart/form-data; boundary=xx", b"garbage without boundary"),
    ],
)
def test_malformed_multipart_is_400(app: Kettle, client: KettleClient, content_type: str, body: bytes) -> None:
    _echo(app)
    assert client.post("/echo", data=body, content_type=content_type).status_code == 400


def test_part_header_too_large_is_413(app: Kettle, client: KettleClient) -> None:
    _echo(app)
    body = (
        b"--xx\r\nContent-Disposition: form-data; name=\"a\"\r\nX-Pad: "
        + b"p" * 10_000
        + b"\r\n\r\nv\r\n--xx--\r\n"
    )
    assert client.post("/echo", data=body, content_type="multipart/form-data; boundary=xx").status_code == 413


def test_debug_mode_explains_a_file_sent_without_multipart(
    app: Kettle, client: KettleClient
) -> None:
    from kettle.debug import DebugFilesKeyError

    @app.post("/upload")
    def upload() -> Any:
        return request.files["photo"].filename

    # Outside debug mode: the usual 400 for a missing key.
    app.config["TESTING"] = False
    assert client.post("/upload", data={"photo": "cat.jpg"}).status_code == 400
    app.config["TESTING"] = True
    app.debug = True
    with pytest.raises(DebugFilesKeyError) as info:
        client.post("/upload", data={"photo": "cat.jpg"})
    assert isinstance(info.value, KeyError)
    assert 'enctype="multipart/form-data"' in str(info.value)
    assert "This was submitted: 'cat.jpg'" in str(info.value)
    # A key that is in neither the files nor the form is the usual error (trapped in debug).
    with pytest.raises(KeyError) as plain:
        client.post("/upload", data={"other": "x"})
    assert not isinstance(plain.value, DebugFilesKeyError)
