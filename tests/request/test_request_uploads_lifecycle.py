"""Uploaded files after the view: closed like Flask's ctx.pop, named like Werkzeug's.

Found by running extension suites in compatibility mode (Flask-WTF, Flask-Admin):
an upload's temporary file was never closed (a ResourceWarning), and a
FileStorage made from an open file had no filename, so Flask-WTF's FileSize
validator skipped it.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from kettle import Kettle, redirect, request, stream_with_context
from kettle.http.files import FileStorage
from kettle.testing import KettleClient


def test_uploaded_file_is_closed_after_the_response(app: Kettle, client: KettleClient) -> None:
    kept: list[FileStorage] = []

    @app.post("/up")
    def up() -> Any:
        f = request.files["doc"]
        kept.append(f)
        return f"{f.filename}:{f.read().decode()}:{f.closed}"

    response = client.post("/up", data={"doc": (io.BytesIO(b"hello"), "a.txt")})
    assert response.status_code == 200
    assert response.text == "a.txt:hello:False"
    assert kept[0].closed


def test_uploaded_file_is_closed_when_the_view_fails(app: Kettle, client: KettleClient) -> None:
    kept: list[FileStorage] = []

    @app.post("/up")
    def up() -> Any:
        kept.append(request.files["doc"])
        raise ValueError("boom")

    app.testing = False
    response = client.post("/up", data={"doc": (io.BytesIO(b"x"), "a.txt")})
    assert response.status_code == 500
    assert kept[0].closed


def test_streamed_body_reads_the_upload_then_closes_it(app: Kettle, client: KettleClient) -> None:
    kept: list[FileStorage] = []

    @app.post("/echo")
    def echo() -> Any:
        kept.append(request.files["doc"])

        @stream_with_context
        def body() -> Any:
            f = request.files["doc"]
            while chunk := f.read(3):
                yield chunk

        return body()

    response = client.post("/echo", data={"doc": (io.BytesIO(b"abcdefgh"), "a.txt")})
    assert response.data == b"abcdefgh"
    assert kept[0].closed


def test_filestorage_takes_the_name_of_an_open_file(tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"a,b\n")
    with path.open("rb") as f:
        storage = FileStorage(f)
        assert storage.filename == str(path)
        assert bool(storage)
    assert FileStorage(io.BytesIO(b"x")).filename is None
    assert not FileStorage(io.BytesIO(b"x"))
    assert FileStorage(io.BytesIO(b"x"), filename="given.txt").filename == "given.txt"


def test_filestorage_ignores_pseudo_file_names() -> None:
    class Pseudo(io.BytesIO):
        name = "<stdin>"

    assert FileStorage(Pseudo(b"x")).filename is None


def test_location_stays_relative(app: Kettle, client: KettleClient) -> None:
    @app.get("/go")
    def go() -> Any:
        return redirect("/there?x=1")

    response = client.get("/go")
    assert response.status_code == 302
    assert response.headers["Location"] == "/there?x=1"
    assert response.autocorrect_location_header is False
