"""Package and instance files: ``open_resource`` and ``open_instance_resource``."""

from __future__ import annotations

from pathlib import Path

import pytest

from kettle import Blueprint, Kettle


def test_open_resource_reads_relative_to_root_path(tmp_path: Path) -> None:
    (tmp_path / "schema.sql").write_text("CREATE TABLE café (id);", encoding="utf-8")
    app = Kettle("resources_app", root_path=str(tmp_path))

    with app.open_resource("schema.sql") as f:
        assert f.read() == "CREATE TABLE café (id);".encode()
    for mode in ("r", "rt"):
        with app.open_resource("schema.sql", mode) as f:
            assert f.read() == "CREATE TABLE café (id);"
    with app.open_resource("schema.sql", "r", encoding="latin-1") as f:
        assert f.read() == "CREATE TABLE cafÃ© (id);"


@pytest.mark.parametrize("mode", ["w", "a", "r+", "wb", "x"])
def test_open_resource_refuses_writing(tmp_path: Path, mode: str) -> None:
    app = Kettle("resources_app", root_path=str(tmp_path))

    with pytest.raises(ValueError, match="only be opened for reading"):
        app.open_resource("new.txt", mode)
    assert not (tmp_path / "new.txt").exists()


def test_blueprint_open_resource_uses_the_blueprint_root(tmp_path: Path) -> None:
    (tmp_path / "bp").mkdir()
    (tmp_path / "bp" / "data.txt").write_text("from the blueprint")
    bp = Blueprint("bp", "resources_bp", root_path=str(tmp_path / "bp"))

    with bp.open_resource("data.txt", "r") as f:
        assert f.read() == "from the blueprint"


def test_open_instance_resource_reads_and_writes(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    instance.mkdir()
    app = Kettle("resources_app", root_path=str(tmp_path), instance_path=str(instance))

    with app.open_instance_resource("config.txt", "w") as f:
        f.write("SECRET = 'é'")
    assert (instance / "config.txt").read_text(encoding="utf-8") == "SECRET = 'é'"
    with app.open_instance_resource("config.txt") as f:
        assert f.read() == "SECRET = 'é'".encode()
    with app.open_instance_resource("config.txt", "r") as f:
        assert f.read() == "SECRET = 'é'"
