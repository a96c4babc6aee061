"""The teardown closes the request: its temporary files are gone right after the response.

Uploaded files past the form parser's spool size and an ASGI body past the
adapter's spool threshold live in temporary files. The one teardown (the
pipeline's, also run by ``RequestContext.pop``) closes them, so they do not
wait for the garbage collector: the test keeps a reference to every file
object and turns the collector off, so only an explicit close can free them.
"""

from __future__ import annotations

import gc
import io
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kettle import Kettle, request
from kettle.adapters.asgi import SPOOL_THRESHOLD
from kettle.http.formparser import FILE_SPOOL_SIZE
from kettle.testing import KettleClient


def _open_temp_files(folder: Path) -> list[str]:
    """The files of this process's open descriptors that live in ``folder``."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # The descriptor listdir itself used, closed by now.
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.fixture
def temp_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary folder of its own for this test, the collector off meanwhile."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    gc.disable()
    try:
        yield tmp_path
    finally:
        gc.enable()


def test_uploaded_files_are_closed_after_the_response(
    app: Kettle, make_client: Callable[..., KettleClient], temp_folder: Path
) -> None:
    kept: list[Any] = []
    during: list[int] = []

    @app.post("/upload")
    def upload() -> str:
        files = request.files.getlist("file")
        kept.extend(files)  # Held here: only a close frees their temporary files.
        during.append(len(_open_temp_files(temp_folder)))
        return f"{len(files)} files, {sum(len(f.read()) for f in files)} bytes"

    big = b"x" * (FILE_SPOOL_SIZE + 1)
    response = make_client(app).post(
        "/upload",
        data={"file": [(io.BytesIO(big), "a.bin"), (io.BytesIO(big), "b.bin")]},
    )
    assert response.status_code == 200
    assert response.get_data(as_text=True) == f"2 files, {2 * len(big)} bytes"
    assert during == [2]  # Both uploads went to temporary files in the folder.
    assert _open_temp_files(temp_folder) == []
    assert all(storage.stream.closed for storage in kept)


def test_spooled_asgi_body_is_closed_after_the_response(app: Kettle, temp_folder: Path) -> None:
    kept: list[Any] = []
    during: list[int] = []

    @app.post("/body")
    def body() -> str:
        kept.append(request.input_stream)
        during.append(len(_open_temp_files(temp_folder)))
        return str(len(request.get_data()))

    big = b"y" * (SPOOL_THRESHOLD + 1)
    client = app.test_client(protocol="asgi")
    response = client.post("/body", data=big, content_type="application/octet-stream")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == str(len(big))
    assert during == [1]  # The body went to a temporary file in the folder.
    assert _open_temp_files(temp_folder) == []
    assert kept[0].closed


def test_spooled_asgi_body_is_closed_when_the_view_fails(app: Kettle, temp_folder: Path) -> None:
    @app.post("/body")
    def body() -> str:
        raise RuntimeError("the view fails")

    big = b"y" * (SPOOL_THRESHOLD + 1)
    client = app.test_client(protocol="asgi")
    with pytest.raises(RuntimeError, match="the view fails"):
        client.post("/body", data=big, content_type="application/octet-stream")
    assert _open_temp_files(temp_folder) == []


def test_request_context_pop_closes_uploads(app: Kettle, temp_folder: Path) -> None:
    big = b"z" * (FILE_SPOOL_SIZE + 1)
    ctx = app.test_request_context("/", method="POST", data={"file": (io.BytesIO(big), "c.bin")})
    ctx.push()
    storage = request.files["file"]
    assert len(_open_temp_files(temp_folder)) == 1
    ctx.pop()
    assert _open_temp_files(temp_folder) == []
    assert storage.stream.closed
