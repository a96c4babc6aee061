"""Issue 13 item 11: send_from_directory and the static route stay inside their folder.

A symlink leading outside the folder is a 404 by default (as Starlette's
StaticFiles); ``SEND_FILE_FOLLOW_SYMLINKS = True`` or
``send_from_directory(..., follow_symlinks=True)`` opts in. A symlink that
stays inside the folder is served.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kettle import Kettle, send_from_directory
from kettle.http.exceptions import NotFound
from kettle.testing import KettleClient


@pytest.fixture
def linked(tmp_path: Path) -> Kettle:
    static = tmp_path / "static"
    (static / "sub").mkdir(parents=True)
    (static / "inside.txt").write_text("inside")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "private").mkdir()
    (tmp_path / "private" / "key.txt").write_text("key")
    os.symlink(tmp_path / "secret.txt", static / "leak.txt")
    os.symlink(tmp_path / "private", static / "sub" / "dir")
    os.symlink(static / "inside.txt", static / "alias.txt")
    os.symlink("../inside.txt", static / "sub" / "relative.txt")
    app = Kettle("symlinks", root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="k")

    @app.get("/files/<path:name>")
    def files(name: str) -> Any:
        return send_from_directory("static", name)

    @app.get("/follow/<path:name>")
    def follow(name: str) -> Any:
        return send_from_directory("static", name, follow_symlinks=True)

    return app


@pytest.fixture
def lclient(linked: Kettle, make_client: Callable[..., KettleClient]) -> KettleClient:
    return make_client(linked)


@pytest.mark.parametrize("prefix", ["/static/", "/files/"])
@pytest.mark.parametrize("name", ["leak.txt", "sub/dir/key.txt"])
def test_symlink_leaving_the_folder_is_404(lclient: KettleClient, prefix: str, name: str) -> None:
    response = lclient.get(prefix + name)
    assert response.status_code == 404
    assert b"secret" not in response.data and b"key" not in response.data


@pytest.mark.parametrize("prefix", ["/static/", "/files/"])
@pytest.mark.parametrize("name", ["inside.txt", "alias.txt", "sub/relative.txt"])
def test_files_and_symlinks_inside_the_folder_are_served(
    lclient: KettleClient, prefix: str, name: str
) -> None:
    response = lclient.get(prefix + name)
    assert response.status_code == 200
    assert response.data == b"inside"


def test_opt_in_by_parameter(lclient: KettleClient) -> None:
    assert lclient.get("/follow/leak.txt").data == b"secret"
    assert lclient.get("/follow/sub/dir/key.txt").data == b"key"


def test_opt_in_by_config(linked: Kettle, lclient: KettleClient) -> None:
    linked.config["SEND_FILE_FOLLOW_SYMLINKS"] = True
    assert lclient.get("/static/leak.txt").data == b"secret"
    assert lclient.get("/files/sub/dir/key.txt").data == b"key"


def test_parameter_overrides_config(linked: Kettle) -> None:
    linked.config["SEND_FILE_FOLLOW_SYMLINKS"] = True
    with linked.test_request_context("/"), pytest.raises(NotFound):
        send_from_directory("static", "leak.txt", follow_symlinks=False)
