"""Python opcodes and frames per request, per function: where a scenario's work goes.

    python benchmarks/opcount.py SCENARIO FRAMEWORK [REQUESTS]

Deterministic (a trace of every opcode, not a clock), so it can be read on a
loaded machine: the first line gives the opcodes and Python calls per
request (two or three are the harness's own ``call_once``), then the
functions by opcodes. A Python frame costs ~400-700 instructions on CPython
3.11 whatever it runs; see docs/performance.md ("Twelfth pass") for how the
ninth session used it.
"""

from __future__ import annotations

import collections
import os
import sys
from types import FrameType
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import run


def main() -> None:
    """Trace the requests and print the table."""
    scenario, framework = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    runner = run.warm_runner(scenario, framework, 50)
    opcodes: collections.Counter[str] = collections.Counter()
    calls: collections.Counter[str] = collections.Counter()

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        key = f"{os.path.basename(code.co_filename)}:{code.co_firstlineno}:{code.co_name}"
        if event == "call":
            calls[key] += 1
            frame.f_trace_opcodes = True
            frame.f_trace_lines = False
        elif event == "opcode":
            opcodes[key] += 1
        return tracer

    sys.settrace(tracer)
    try:
        for _ in range(count):
            runner.call_once()
    finally:
        sys.settrace(None)
    total = sum(opcodes.values())
    print(
        f"total opcodes/request {total / count:.0f}, calls/request {sum(calls.values()) / count:.1f}"
    )
    for key, value in opcodes.most_common(60):
        print(f"{value / count:7.0f} {calls[key] / count:5.1f}  {key}")


if __name__ == "__main__":
    main()
