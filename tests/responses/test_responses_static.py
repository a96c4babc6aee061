"""Static files and send_file: traversal refused, conditional requests, ranges, streaming."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kettle import Kettle, send_file, send_from_directory
from kettle.sending import FileWrapper, safe_join
from kettle.testing import KettleClient

CONTENT = b"0123456789" * 10


@pytest.fixture
def sapp(tmp_path: Path) -> Kettle:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "data.txt").write_bytes(CONTENT)
    (tmp_path / "static" / "sub").mkdir()
    (tmp_path / "static" / "sub" / "style.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("secret")
    app = Kettle("static_test", root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="k")
    return app


@pytest.fixture
def sclient(sapp: Kettle, make_client: Callable[..., KettleClient]) -> KettleClient:
    return make_client(sapp)


def test_static_file(sclient: KettleClient) -> None:
    rv = sclient.get("/static/data.txt")
    assert rv.status_code == 200
    assert rv.data == CONTENT
    assert rv.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert rv.headers["Content-Length"] == "100"
    assert rv.headers["Cache-Control"] == "no-cache"
    assert rv.headers["Accept-Ranges"] == "bytes"
    assert "Last-Modified" in rv.headers and "ETag" in rv.headers
    assert sclient.get("/static/sub/style.css").headers["Content-Type"] == "text/css; charset=utf-8"


def test_encoded_slash_redirects_inside_static(sclient: KettleClient) -> None:
    # As Flask: "%2f" decodes to "//", merged by a 308 that stays under /static/.
    rv = sclient.get("/static/%2fetc/passwd")
    assert rv.status_code == 308
    assert rv.headers["Location"] == "http://localhost/static/etc/passwd"
    assert sclient.get("/static/%2fetc/passwd", follow_redirects=True).status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/sub/../../secret.txt",
        "/static/..%5csecret.txt",
        "/static/data.txt%00.png",
        "/static/CON",
        "/static/sub/aux.txt",
        "/static/C:%5cWindows",
        "/static/missing.txt",
        "/static/sub",
    ],
)
def test_traversal_is_404(sclient: KettleClient, path: str) -> None:
    rv = sclient.get(path)
    assert rv.status_code == 404
    assert b"secret" not in rv.data


def test_double_slash_is_merged_not_absolute(sclient: KettleClient) -> None:
    rv = sclient.get("/static//etc/passwd", follow_redirects=True)
    assert rv.status_code == 404


def test_safe_join() -> None:
    assert safe_join("/base", "a/b.txt") == "/base/a/b.txt"
    for bad in ["../x", "/etc/passwd", "a/../../x", "a\\..\\x", "x\x00", "NUL.txt", "c:x", "a\tb"]:
        assert safe_join("/base", bad) is None


def test_etag_and_last_modified_give_304(sclient: KettleClient) -> None:
    first = sclient.get("/static/data.txt")
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    rv = sclient.get("/static/data.txt", headers={"If-None-Match": etag})
    assert rv.status_code == 304
    assert rv.data == b""
    assert rv.headers["ETag"] == etag
    assert sclient.get("/static/data.txt", headers={"If-None-Match": '"other"'}).status_code == 200
    assert (
        sclient.get("/static/data.txt", headers={"If-Modified-Since": modified}).status_code == 304
    )
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    assert sclient.get("/static/data.txt", headers={"If-Modified-Since": old}).status_code == 200
    assert sclient.get("/static/data.txt", headers={"If-Match": '"nope"'}).status_code == 412
    assert sclient.get("/static/data.txt", headers={"If-Match": etag}).status_code == 200


def test_ranges(sclient: KettleClient) -> None:
    rv = sclient.get("/static/data.txt", headers={"Range": "bytes=10-19"})
    assert rv.status_code == 206
    assert rv.data == CONTENT[10:20]
    assert rv.headers["Content-Range"] == "bytes 10-19/100"
    assert rv.headers["Content-Length"] == "10"
    rv = sclient.get("/static/data.txt", headers={"Range": "bytes=-5"})
    assert (rv.status_code, rv.data) == (206, CONTENT[-5:])
    rv = sclient.get("/static/data.txt", headers={"Range": "bytes=95-"})
    assert (rv.status_code, rv.data) == (206, CONTENT[95:])
    assert sclient.get("/static/data.txt", headers={"Range": "bytes=0-"}).status_code == 200
    for bad in [
        "bytes=200-300",
        "bytes=5-2",
        "bytes=abc",
        "bytes=0-1,3-4",
        "bytes=" + ",".join(["1-2"] * 500),
    ]:
        rv = sclient.get("/static/data.txt", headers={"Range": bad})
        assert rv.status_code == 416, bad
        assert rv.headers["Content-Range"] == "bytes */100"
    etag = sclient.get("/static/data.txt").headers["ETag"]
    rv = sclient.get("/static/data.txt", headers={"Range": "bytes=0-4", "If-Range": etag})
    assert rv.status_code == 206
    rv = sclient.get("/static/data.txt", headers={"Range": "bytes=0-4", "If-Range": '"stale"'})
    assert (rv.status_code, rv.data) == (200, CONTENT)


def test_max_age_config(sapp: Kettle, sclient: KettleClient) -> None:
    sapp.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    rv = sclient.get("/static/data.txt")
    assert rv.headers["Cache-Control"] == "public, max-age=3600"
    assert "Expires" in rv.headers


def test_send_file_options(sapp: Kettle, sclient: KettleClient) -> None:
    @sapp.route("/download")
    def download() -> Any:
        return send_file("static/data.txt", as_attachment=True, download_name="report é.txt")

    @sapp.route("/buffer")
    def buffer() -> Any:
        return send_file(io.BytesIO(b"in memory"), mimetype="application/x-thing", max_age=60)

    @sapp.route("/noname")
    def noname() -> Any:
        return send_file(io.BytesIO(b"x"))

    @sapp.route("/dir/<path:name>")
    def from_dir(name: str) -> Any:
        return send_from_directory("static", name, etag="fixed")

    rv = sclient.get("/download")
    assert rv.headers["Content-Disposition"] == (
        "attachment; filename=\"report e.txt\"; filename*=UTF-8''report%20%C3%A9.txt"
    )
    rv = sclient.get("/buffer")
    assert (rv.data, rv.headers["Content-Type"]) == (b"in memory", "application/x-thing")
    assert rv.headers["Content-Length"] == "9"
    assert rv.headers["Cache-Control"] == "public, max-age=60"
    with pytest.raises(TypeError, match="MIME type"):
        sclient.get("/noname")
    rv = sclient.get("/dir/sub/style.css")
    assert (rv.data, rv.headers["ETag"]) == (b"body{}", '"fixed"')
    assert sclient.get("/dir/../secret.txt").status_code == 404


def test_file_wrapper_streams_and_closes() -> None:
    file = io.BytesIO(b"a" * 10)
    wrapper = FileWrapper(file, chunk_size=4)
    assert list(wrapper) == [b"aaaa", b"aaaa", b"aa"]
    assert file.closed


def test_blueprint_static_folder(sapp: Kettle, sclient: KettleClient, tmp_path: Path) -> None:
    from kettle import Blueprint, url_for

    (tmp_path / "bp_static").mkdir()
    (tmp_path / "bp_static" / "app.js").write_text("let x = 1;")
    bp = Blueprint(
        "admin",
        __name__,
        static_folder="bp_static",
        static_url_path="/assets",
        root_path=str(tmp_path),
    )

    @bp.route("/where")
    def where() -> Any:
        return url_for("admin.static", filename="app.js")

    sapp.register_blueprint(bp, url_prefix="/admin")
    assert sclient.get("/admin/where").data == b"/admin/assets/app.js"
    rv = sclient.get("/admin/assets/app.js")
    assert (rv.status_code, rv.data) == (200, b"let x = 1;")
    assert sclient.get("/admin/assets/../../secret.txt").status_code == 404
