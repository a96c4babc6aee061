"""``benchmarks/opcount.py`` counts a scenario's opcodes and frames per request."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "opcount.py"


def test_it_prints_the_totals_then_the_functions_by_opcodes() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "param", "kettle-wsgi", "3"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = result.stdout.splitlines()
    totals = re.fullmatch(r"total opcodes/request (\d+), calls/request ([\d.]+)", lines[0])
    assert totals is not None
    assert int(totals.group(1)) > 0
    assert float(totals.group(2)) >= 3  # At least the harness, the app and the view.
    rows = [re.fullmatch(r"\s*(\d+)\s+([\d.]+)  (\S+:\d+:\S+)", line) for line in lines[1:]]
    assert rows and all(row is not None for row in rows)
    names = [row.group(3) for row in rows if row is not None]
    assert any(name.endswith(":<lambda>") for name in names)  # The scenario's view.
    counts = [int(row.group(1)) for row in rows if row is not None]
    assert counts == sorted(counts, reverse=True)
