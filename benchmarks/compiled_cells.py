"""Benchmark cells for the compiled build, measured in a child process.

Theory of operation: one process cannot hold two copies of ``kettle`` (the
pure-Python one from ``src`` and the compiled one from ``build/compiled``),
so the ``kettle-*-compiled`` cells live in one child interpreter started
with ``PYTHONPATH`` at the compiled build. The child builds, checks and
calibrates each cell with run.py's own ``prepare`` (the same apps, the same
requests, the same correctness check), then waits for orders. The parent
keeps a :class:`RemoteRunner` in each cell and asks the child for a timed
batch when that cell's turn comes in the round-robin, so the compiled cells
are interleaved with every other cell of the run exactly like local ones;
the child measures its own CPU time (``process_time``), as the parent does.

Protocol: one JSON object per line, the parent writes to the child's stdin
and reads the child's stdout (the child points ``sys.stdout`` at stderr so
nothing else can write there).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
#: The compiled column -> the app builder it runs (from apps.FRAMEWORKS).
COMPILED = {"kettle-wsgi-compiled": "kettle-wsgi", "kettle-asgi-compiled": "kettle-asgi"}
#: The module checked when the build does not say which ones it compiled.
PROBE = "kettle/routing/matcher.py"


def built_modules(build_dir: Path) -> list[str]:
    """The modules (``kettle/...py``) the build in ``build_dir`` compiled: each must load as one."""
    info = build_dir / "BUILD_INFO.json"
    modules: list[str] = json.loads(info.read_text())["modules"] if info.exists() else [PROBE]
    return modules


class CompiledWorker:
    """The child process that holds every compiled cell of one run."""

    def __init__(self, build_dir: Path) -> None:
        env = dict(os.environ, PYTHONPATH=str(build_dir))
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "compiled_cells.py")], env=env, cwd=str(HERE.parent),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        hello = self.ask({"op": "hello", "modules": built_modules(build_dir)})
        if hello["interpreted"]:
            self.close()
            raise RuntimeError(f"the child imported pure Python from {', '.join(hello['interpreted'])}")

    def ask(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one order and return the answer."""
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the compiled-build child exited ({self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def close(self) -> None:
        """Stop the child."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            self.process.wait(timeout=30)


class RemoteRunner:
    """Stands in a parent's cell for a runner that lives in the child."""

    def __init__(self, worker: CompiledWorker, key: int, protocol: str) -> None:
        self.worker, self.key, self.protocol = worker, key, protocol

    def time_batch(self, count: int) -> tuple[float, float]:
        """Return (wall, CPU) seconds per request, measured in the child."""
        answer = self.worker.ask({"op": "batch", "key": self.key, "count": count})
        return answer["wall"], answer["cpu"]


def prepare_remote(worker: CompiledWorker, scenario: str, framework: str, routes: int, target: float) -> dict[str, Any]:
    """Prepare one compiled cell in the child; return its count and protocol, or why it is pending."""
    return worker.ask({
        "op": "prepare", "scenario": scenario, "framework": COMPILED[framework],
        "routes": routes, "target": target,
    })


def serve() -> None:
    """The child's loop: answer orders from stdin until it closes."""
    import asyncio
    import importlib

    sys.path.insert(0, str(HERE))
    import run

    orders, answers = sys.stdin, os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # Anything the apps print goes to stderr, never into the protocol.
    sys.stdout = sys.stderr
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    cells: dict[int, Any] = {}
    for line in orders:
        order = json.loads(line)
        if order["op"] == "hello":  # Every compiled module must load as its extension, not its .py.
            files = [importlib.import_module(m.removesuffix(".py").replace("/", ".")).__file__ for m in order["modules"]]
            answer: dict[str, Any] = {"interpreted": [f or "?" for f in files if not f or f.endswith(".py")]}
        elif order["op"] == "prepare":
            cell = run.prepare(order["scenario"], order["framework"], order["routes"], loop, order["target"])
            key = len(cells)
            cells[key] = cell
            protocol = cell.runner.protocol if cell.runner is not None else None
            answer = {"key": key, "count": cell.count, "pending": cell.pending, "protocol": protocol}
        else:
            wall, cpu = cells[order["key"]].runner.time_batch(order["count"])
            answer = {"wall": wall, "cpu": cpu}
        answers.write(json.dumps(answer) + "\n")
    loop.close()


if __name__ == "__main__":
    serve()
