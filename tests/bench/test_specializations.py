"""``benchmarks/specializations.py`` lists the instructions a request runs unspecialized."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "specializations.py"


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="reads CPython 3.11's bytecode")
def test_it_lists_generic_instructions_by_function_then_the_total() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "hello", "kettle-wsgi", "300"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    lines = result.stdout.splitlines()
    total = re.fullmatch(r"generic instructions run per request: (\d+)", lines[-1])
    assert total is not None
    body = lines[:-1]
    functions = [line for line in body if not line.startswith("    ")]
    rows = [line for line in body if line.startswith("    ")]
    assert len(rows) == int(total.group(1)) > 0
    assert all(re.fullmatch(r"\S*kettle/\S+\.py:\d+ \S+", line) for line in functions)
    assert all(re.fullmatch(r"    line \d+: [A-Z_]+\s*.*", line) for line in rows)
