"""The documentation builds offline with Sphinx, warnings as errors (``make docs``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_docs_build_without_warnings(tmp_path: Path) -> None:
    out = tmp_path / "html"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-W",
            "-b",
            "html",
            "-d",
            str(tmp_path / "doctrees"),
            str(ROOT / "docs"),
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=110,
    )
    assert result.returncode == 0, result.stderr
    index = (out / "index.html").read_text(encoding="utf-8")
    for page in (
        "quickstart",
        "tutorial",
        "migrating",
        "deployment",
        "security",
        "performance",
        "api",
    ):
        assert f'href="{page}.html"' in index
    api = (out / "api.html").read_text(encoding="utf-8")
    assert "kettle.Kettle" in api
    assert "route" in api
