"""app.config: Flask's defaults, the loaders, and the attributes that mirror keys."""

from __future__ import annotations

import json
import tomllib
from collections.abc import Callable
from pathlib import Path

import flask
import pytest

from kettle import Config, Kettle
from kettle.testing import KettleClient


def test_default_keys_match_flask() -> None:
    app = Kettle("config_defaults")
    reference = flask.Flask("reference")
    assert set(reference.config) <= set(app.config)
    differences = {
        key for key in reference.config if reference.config[key] != app.config[key]
    }
    # Kettle's deliberate, documented safer defaults.
    assert differences == {"MAX_CONTENT_LENGTH", "SESSION_COOKIE_SAMESITE"}
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["MAX_CONTENT_LENGTH"] == 16 * 1024 * 1024


def test_attributes_mirror_config(app: Kettle) -> None:
    app.secret_key = "s1"
    assert app.config["SECRET_KEY"] == "s1"
    app.config["SECRET_KEY"] = "s2"
    assert app.secret_key == "s2"
    app.debug = True
    assert app.config["DEBUG"] is True and app.debug is True
    app.config["TESTING"] = False
    assert app.testing is False
    app.testing = True
    assert app.config["TESTING"] is True


def test_from_object_and_mapping() -> None:
    class Settings:
        DEBUG = True
        SECRET_KEY = "obj"
        lower_case = "ignored"

    config = Config(".")
    config.from_object(Settings)
    assert config["SECRET_KEY"] == "obj" and "lower_case" not in config
    config.from_object("json.decoder")  # an import path; only UPPERCASE names are taken
    config.from_mapping({"A": 1, "b": 2}, C=3)
    assert (config["A"], config["C"], "b" in config) == (1, 3, False)
    config.update(D=4)
    assert config["D"] == 4


def test_from_pyfile_and_envvar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "settings.py").write_text("SECRET_KEY = 'from file'\nlower = 1\nNUMBER = 2 * 21\n")
    config = Config(tmp_path)
    assert config.from_pyfile("settings.py") is True
    assert (config["SECRET_KEY"], config["NUMBER"], "lower" in config) == ("from file", 42, False)
    assert config.from_pyfile("missing.py", silent=True) is False
    with pytest.raises(OSError, match="Unable to load configuration file"):
        config.from_pyfile("missing.py")
    monkeypatch.setenv("STRUCTURE_SETTINGS", str(tmp_path / "settings.py"))
    other = Config(tmp_path)
    assert other.from_envvar("STRUCTURE_SETTINGS") is True
    assert other["NUMBER"] == 42
    monkeypatch.delenv("STRUCTURE_SETTINGS")
    assert other.from_envvar("STRUCTURE_SETTINGS", silent=True) is False
    with pytest.raises(RuntimeError, match="'STRUCTURE_SETTINGS' is not set"):
        other.from_envvar("STRUCTURE_SETTINGS")


def test_from_file_json_and_toml(tmp_path: Path) -> None:
    (tmp_path / "c.json").write_text(json.dumps({"JSON_KEY": [1, 2], "lower": 1}))
    (tmp_path / "c.toml").write_text('TOML_KEY = "t"\n[DATABASE]\nURL = "sqlite://"\n')
    config = Config(tmp_path)
    assert config.from_file("c.json", load=json.load)
    assert config.from_file("c.toml", load=tomllib.load, text=False)
    assert config["JSON_KEY"] == [1, 2] and "lower" not in config
    assert config["TOML_KEY"] == "t"
    assert config["DATABASE"] == {"URL": "sqlite://"}
    assert config.from_file("nope.json", load=json.load, silent=True) is False


def test_from_prefixed_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KETTLE_SECRET_KEY", "kettle secret")
    monkeypatch.setenv("KETTLE_PORT", "8000")
    monkeypatch.setenv("KETTLE_FLAG", "true")
    monkeypatch.setenv("KETTLE_DB__HOST", "db.local")
    monkeypatch.setenv("FLASK_SECRET_KEY", "flask secret")
    monkeypatch.setenv("FLASK_LEGACY", "yes")
    monkeypatch.setenv("MYAPP_NAME", '"x"')
    config = Config(".")
    assert config.from_prefixed_env() is True
    assert config["SECRET_KEY"] == "kettle secret"  # KETTLE_ wins over FLASK_
    assert (config["PORT"], config["FLAG"], config["LEGACY"]) == (8000, True, "yes")
    assert config["DB"] == {"HOST": "db.local"}
    other = Config(".")
    other.from_prefixed_env("MYAPP")
    assert other == {"NAME": "x"}


def test_get_namespace() -> None:
    config = Config(".")
    config.from_mapping(IMAGE_STORE_TYPE="fs", IMAGE_STORE_PATH="/var", OTHER=1)
    assert config.get_namespace("IMAGE_STORE_") == {"type": "fs", "path": "/var"}
    assert config.get_namespace("IMAGE_STORE_", lowercase=False, trim_namespace=False) == {
        "IMAGE_STORE_TYPE": "fs",
        "IMAGE_STORE_PATH": "/var",
    }


def test_config_reaches_views(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    from kettle import current_app

    app.config.from_mapping(GREETING="hello")

    @app.route("/")
    def index() -> str:
        return str(current_app.config["GREETING"])

    assert make_client(app).get("/").text == "hello"
