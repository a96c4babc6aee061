"""Every ```python block of README.md and docs/*.md runs as written, or is marked a fragment.

The convention (docs/structure.md and every helper's brief): a fenced block
whose previous line is ``<!-- fragment -->`` is a fragment and is not run.
Every other ```python block runs as a file, in order with the blocks before
it on the same page; when the blocks define apps, every GET route without
URL arguments is requested through the test client and must not answer 5xx.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNER = Path(__file__).with_name("docs_runner.py")
FRAGMENT = "<!-- fragment -->"
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w{}-]*)")


def code_blocks(text: str) -> list[dict[str, object]]:
    """Each fenced block: its language, first code line (1-based), code and fragment mark."""
    blocks: list[dict[str, object]] = []
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        fence, language = opening.groups()
        previous = lines[index - 1].strip() if index else ""
        end = index + 1
        while end < len(lines) and not lines[end].startswith(fence):
            end += 1
        blocks.append(
            {
                "language": language,
                "line": index + 2,
                "code": "\n".join(lines[index + 1 : end]) + "\n",
                "fragment": previous == FRAGMENT,
            }
        )
        index = end + 1
    return blocks


def runnable(page: Path) -> list[dict[str, object]]:
    return [
        block
        for block in code_blocks(page.read_text(encoding="utf-8"))
        if block["language"] == "python" and not block["fragment"]
    ]


def test_the_block_finder_reads_fences_and_fragment_marks() -> None:
    text = "x\n```python\na = 1\n```\n<!-- fragment -->\n```python\n...\n```\n```sh\nls\n```\n"
    blocks = code_blocks(text)
    assert [(b["language"], b["line"], b["fragment"]) for b in blocks] == [
        ("python", 3, False),
        ("python", 7, True),
        ("sh", 10, False),
    ]
    assert blocks[0]["code"] == "a = 1\n"


@pytest.mark.parametrize("page", PAGES, ids=[page.relative_to(ROOT).as_posix() for page in PAGES])
def test_page_code_blocks_run(page: Path, tmp_path: Path) -> None:
    blocks = runnable(page)
    if not blocks:
        return  # Nothing to run on this page (shell, console or fragments only).
    name = page.relative_to(ROOT).as_posix()
    spec = tmp_path / "blocks.json"
    spec.write_text(json.dumps({"page": name, "blocks": blocks}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KETTLE_", "FLASK_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), *sys.path])
    result = subprocess.run(
        [sys.executable, str(RUNNER), str(spec)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90,
    )
    last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    assert last.startswith("{"), f"{name}: the runner died:\n{result.stdout}\n{result.stderr}"
    outcome = json.loads(last)
    if "failed_block" in outcome:
        pytest.fail(f"{name}: the block at line {outcome['failed_block']} fails:\n{outcome['error']}")
    if outcome["routes"]:
        pytest.fail(f"{name}:\n" + "\n".join(outcome["routes"]))
