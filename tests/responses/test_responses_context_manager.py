"""A response is a context manager that closes it, as Werkzeug's (``with client.get(...)``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kettle import Kettle, Response, send_file
from kettle.testing import KettleClient


def test_with_closes_a_file_response(app: Kettle, client: KettleClient, tmp_path: Path) -> None:
    path = tmp_path / "report.txt"
    path.write_bytes(b"report body")
    opened: list[Any] = []

    @app.get("/file")
    def file() -> Any:
        f = path.open("rb")
        opened.append(f)
        return send_file(f, mimetype="text/plain")

    with client.get("/file") as response:
        assert response.status_code == 200
        assert response.data == b"report body"
    assert opened[0].closed


def test_with_runs_call_on_close_once() -> None:
    calls: list[str] = []
    response = Response("x")
    response.call_on_close(lambda: calls.append("closed"))
    with response as same:
        assert same is response
        assert calls == []
    assert calls == ["closed"]
