"""Importing the demo (``kettle routes``) leaves nothing in the temporary folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from demo_server import DEMO, KETTLE, ROOT


def test_kettle_routes_leaves_the_temp_folder_empty(tmp_path: Path) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KETTLE_", "FLASK_"))}
    env.update(TMPDIR=str(temp), PYTHONPATH=os.pathsep.join([str(ROOT / "src"), *sys.path]))
    result = subprocess.run(
        [str(KETTLE), "--app", str(DEMO), "routes"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "status_666" in result.stdout
    assert sorted(path.name for path in temp.iterdir()) == []
