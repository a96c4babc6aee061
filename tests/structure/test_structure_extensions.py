"""app.extensions and init_app: run the SQLite extension example of docs/structure.md."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from kettle import Kettle, g
from kettle.testing import KettleClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "structure.md"


def _example_namespace() -> dict[str, Any]:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("## Extensions") :]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 2, "the Extensions section holds the extension and the app"
    namespace: dict[str, Any] = {"__name__": "structure_sqlite_example"}
    for block in blocks:
        exec(compile(block, str(DOC), "exec"), namespace)
    return namespace


@pytest.fixture
def database(tmp_path: Path) -> str:
    path = tmp_path / "users.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE users (name TEXT, email TEXT)")
        connection.execute("INSERT INTO users VALUES ('ann', 'ann@example.com')")
    connection.close()
    return str(path)


def test_sqlite_extension_example(database: str, make_client: Callable[..., KettleClient]) -> None:
    namespace = _example_namespace()
    # Let this test inspect the connections from its own thread (ASGI runs sync views in a pool).
    namespace["sqlite3"] = SimpleNamespace(
        connect=partial(sqlite3.connect, check_same_thread=False), Row=sqlite3.Row
    )
    app: Kettle = namespace["create_app"](database)
    db = namespace["db"]
    assert app.extensions["sqlite"] is db
    connections: list[sqlite3.Connection] = []
    # Teardown functions run in reverse order: this one sees g before the extension's.
    app.teardown_appcontext(lambda exc: connections.append(g.sqlite_db))
    client = make_client(app)
    response = client.get("/users/ann")
    assert response.get_json() == {"name": "ann", "email": "ann@example.com"}
    assert client.get("/users/bob").status_code == 404
    # Parameters, not string formatting: an injection attempt is just a missing name.
    assert client.get("/users/x' OR '1'='1").status_code == 404
    assert len(connections) == 3 and len(set(map(id, connections))) == 3  # one per request
    for connection in connections:
        with pytest.raises(sqlite3.ProgrammingError, match="closed"):
            connection.execute("SELECT 1")


def test_one_extension_many_apps(database: str, tmp_path: Path) -> None:
    namespace = _example_namespace()
    other_db = tmp_path / "other.db"
    with sqlite3.connect(other_db) as connection:
        connection.execute("CREATE TABLE users (name TEXT, email TEXT)")
        connection.execute("INSERT INTO users VALUES ('zed', 'zed@example.com')")
    connection.close()
    first = namespace["create_app"](database)
    second = namespace["create_app"](str(other_db))
    assert first.test_client().get("/users/ann").status_code == 200
    assert second.test_client().get("/users/ann").status_code == 404
    assert second.test_client(protocol="asgi").get("/users/zed").status_code == 200


def test_connection_closed_with_app_context(database: str) -> None:
    namespace = _example_namespace()
    app = namespace["create_app"](database)
    db = namespace["db"]
    with app.app_context():
        connection = db.connection
        assert db.query("SELECT count(*) AS n FROM users", one=True)["n"] == 1
    with pytest.raises(sqlite3.ProgrammingError, match="closed"):
        connection.execute("SELECT 1")
