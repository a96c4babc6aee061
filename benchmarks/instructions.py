"""Machine instructions per request, counted by callgrind: a clock that noise cannot move.

    python benchmarks/instructions.py SCENARIO FRAMEWORK [SCENARIO FRAMEWORK ...]

For each pair it runs the warmed-up app twice under ``valgrind
--tool=callgrind`` (``PYTHONHASHSEED=0``, address randomisation off with
``setarch -R`` where it exists), once for 100 and once for 1,100 requests,
and prints the difference divided by 1,000: start-up, imports and warm-up
cancel out. The requests run in ``make bench``'s own timed loop
(``Runner.time_batch``), so the harness's share is the same as there. Counts of one tree move by about ±150 between runs (ASGI by up
to ~600, the event loop's own work). Needs valgrind (Debian's package);
docs/performance.md ("Reproduce it") says how the sessions read it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

_FEW, _MANY = 100, 1100
_COLLECTED = re.compile(r"Collected : (\d+)")


def child(scenario: str, framework: str, count: int) -> None:
    """Run ``count`` requests after the warm-up, in the benchmark's own timed loop."""
    import run

    run.warm_runner(scenario, framework, 50).time_batch(count)


def collected(scenario: str, framework: str, count: int) -> int:
    """Instructions of one whole child process under callgrind."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        sys.executable, os.path.abspath(__file__), "--child", scenario, framework, str(count),
    ]  # fmt: skip
    if shutil.which("setarch"):
        command = ["setarch", os.uname().machine, "-R", *command]
    env = dict(os.environ, PYTHONHASHSEED="0")
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    match = _COLLECTED.search(done.stderr)
    if done.returncode or not match:
        raise SystemExit(f"{scenario} {framework}: callgrind failed\n{done.stderr[-2000:]}")
    return int(match.group(1))


def per_request(scenario: str, framework: str) -> float:
    """Instructions per request of ``scenario`` on ``framework``."""
    few = collected(scenario, framework, _FEW)
    many = collected(scenario, framework, _MANY)
    return (many - few) / (_MANY - _FEW)


def main() -> None:
    """Print one line per (scenario, framework) pair given."""
    if sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    pairs = sys.argv[1:]
    if not pairs or len(pairs) % 2:
        raise SystemExit(__doc__)
    for scenario, framework in zip(pairs[::2], pairs[1::2], strict=True):
        print(f"{scenario:16} {framework:22} {per_request(scenario, framework):10,.0f}", flush=True)


if __name__ == "__main__":
    main()
