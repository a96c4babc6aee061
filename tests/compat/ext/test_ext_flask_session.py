"""Flask-Session 0.8.0 (its sdist ships no tests): server-side sessions, as documented.

Backends: Redis (a real redis-server started for the run), the filesystem
(SESSION_TYPE="filesystem", deprecated by Flask-Session but documented),
cachelib's FileSystemCache (its recommended replacement) and SQLAlchemy
(through Flask-SQLAlchemy, in SQLite: two extensions sharing the app context).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask
import pytest
import redis
from cachelib.file import FileSystemCache
from flask_session import Session
from flask_session.base import ServerSideSession
from flask_sqlalchemy import SQLAlchemy

BACKENDS = ["redis", "filesystem", "cachelib", "sqlalchemy"]


def make_app(backend: str, tmp_path: Path, redis_client: redis.Redis) -> flask.Flask:
    app = flask.Flask(__name__)
    app.config.update(SECRET_KEY="test", SESSION_TYPE=backend, SESSION_PERMANENT=False)
    if backend == "redis":
        app.config["SESSION_REDIS"] = redis_client
    elif backend == "filesystem":
        app.config["SESSION_FILE_DIR"] = str(tmp_path / "sessions")
    elif backend == "sqlalchemy":
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{tmp_path / 'sessions.sqlite'}"
        app.config["SESSION_SQLALCHEMY"] = SQLAlchemy(app)
    else:
        app.config["SESSION_CACHELIB"] = FileSystemCache(str(tmp_path / "cache"), threshold=100)
    Session(app)

    @app.post("/set/<name>")
    def set_name(name: str) -> str:
        flask.session["name"] = name
        return "ok"

    @app.get("/get")
    def get_name() -> dict[str, Any]:
        return {
            "name": flask.session.get("name"),
            "server_side": isinstance(flask.session, ServerSideSession),
            "sid": getattr(flask.session, "sid", None),
        }

    @app.post("/clear")
    def clear() -> str:
        flask.session.clear()
        return "cleared"

    @app.post("/regenerate")
    def regenerate() -> str:
        app.session_interface.regenerate(flask.session)  # type: ignore[attr-defined]
        return "regenerated"

    return app


def is_stored(backend: str, sid: str, tmp_path: Path, redis_client: redis.Redis) -> bool:
    """Whether the backend's storage holds the session ``sid``."""
    if backend == "redis":
        return bool(redis_client.exists(f"session:{sid}"))
    if backend == "sqlalchemy":
        with sqlite3.connect(tmp_path / "sessions.sqlite") as conn:
            rows = conn.execute("select 1 from sessions where session_id = ?", (f"session:{sid}",))
            return rows.fetchone() is not None
    folder = tmp_path / ("sessions" if backend == "filesystem" else "cache")
    return bool(FileSystemCache(str(folder)).has(f"session:{sid}"))


@pytest.mark.parametrize("backend", BACKENDS)
def test_data_lives_on_the_server_and_the_cookie_holds_an_id(
    backend: str, tmp_path: Path, redis_client: redis.Redis, make_client: Callable[..., Any]
) -> None:
    app = make_app(backend, tmp_path, redis_client)
    client = make_client(app)
    response = client.post("/set/ada")
    assert response.status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    assert "ada" not in cookie.value  # an id, not the data
    assert "Cookie" in response.headers["Vary"]
    got = client.get("/get").get_json()
    assert got["name"] == "ada"
    assert got["server_side"] is True
    assert got["sid"] == cookie.value
    assert is_stored(backend, cookie.value, tmp_path, redis_client)


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_clients_have_separate_sessions(
    backend: str, tmp_path: Path, redis_client: redis.Redis, make_client: Callable[..., Any]
) -> None:
    app = make_app(backend, tmp_path, redis_client)
    first, second = make_client(app), make_client(app)
    first.post("/set/ada")
    second.post("/set/grace")
    assert first.get("/get").get_json()["name"] == "ada"
    assert second.get("/get").get_json()["name"] == "grace"


@pytest.mark.parametrize("backend", BACKENDS)
def test_clear_deletes_the_stored_session_and_the_cookie(
    backend: str, tmp_path: Path, redis_client: redis.Redis, make_client: Callable[..., Any]
) -> None:
    app = make_app(backend, tmp_path, redis_client)
    client = make_client(app)
    client.post("/set/ada")
    sid = client.get_cookie("session").value
    assert is_stored(backend, sid, tmp_path, redis_client)
    response = client.post("/clear")
    assert response.status_code == 200
    assert any(h.startswith("session=;") for h in response.headers.getlist("Set-Cookie"))
    assert client.get_cookie("session") is None
    assert not is_stored(backend, sid, tmp_path, redis_client)
    assert client.get("/get").get_json()["name"] is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_regenerate_moves_the_data_to_a_new_id(
    backend: str, tmp_path: Path, redis_client: redis.Redis, make_client: Callable[..., Any]
) -> None:
    app = make_app(backend, tmp_path, redis_client)
    client = make_client(app)
    client.post("/set/ada")
    old = client.get_cookie("session").value
    client.post("/regenerate")
    new = client.get_cookie("session").value
    assert new != old
    assert not is_stored(backend, old, tmp_path, redis_client)
    assert is_stored(backend, new, tmp_path, redis_client)
    assert client.get("/get").get_json()["name"] == "ada"


def test_reading_without_writing_stores_nothing(
    tmp_path: Path, redis_client: redis.Redis, make_client: Callable[..., Any]
) -> None:
    app = make_app("redis", tmp_path, redis_client)
    client = make_client(app)
    response = client.get("/get")
    assert response.get_json()["name"] is None
    assert "Set-Cookie" not in response.headers
    assert redis_client.keys("session:*") == []


def test_permanent_session_expires_in_redis_and_in_the_cookie(
    tmp_path: Path, redis_client: redis.Redis, make_client: Callable[..., Any]
) -> None:
    app = make_app("redis", tmp_path, redis_client)
    app.config.update(SESSION_PERMANENT=True, PERMANENT_SESSION_LIFETIME=600)
    Session(app)
    client = make_client(app)
    response = client.post("/set/ada")
    set_cookie = response.headers["Set-Cookie"]
    assert "Expires=" in set_cookie
    assert "HttpOnly" in set_cookie
    sid = client.get_cookie("session").value
    ttl = redis_client.ttl(f"session:{sid}")
    assert 0 < ttl <= 600


def test_a_forged_or_unknown_id_gets_a_fresh_session(
    tmp_path: Path, redis_client: redis.Redis, make_client: Callable[..., Any]
) -> None:
    app = make_app("redis", tmp_path, redis_client)
    client = make_client(app)
    client.set_cookie("session", "not-a-real-id")
    got = client.get("/get").get_json()
    assert got["name"] is None
    assert got["sid"] != "not-a-real-id"
