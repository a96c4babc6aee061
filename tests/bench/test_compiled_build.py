"""The opt-in mypyc build compiles, imports, serves, falls back, and is benchmarked.

One build of every module pyproject.toml lists, into a temporary directory
(the source tree is never touched), at -O1 so it takes tens of seconds.
Each check runs the compiled copy in a child process (a process can hold
only one ``kettle``); no timing is asserted.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import build_compiled
import run
from compiled_cells import CompiledWorker, RemoteRunner

SMOKE = Path(__file__).resolve().parent / "compiled_smoke_app.py"

#: The first test also builds (mypyc, in the module fixture): 30-60 s on an idle
#: machine, over 200 s on a loaded one, past the suite's 120 s default.
pytestmark = pytest.mark.timeout(900)


def _module_name(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One build per test session: xdist workers share it (the first one builds, under a lock)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        root = tmp_path_factory.mktemp("compiled")
    else:
        root = tmp_path_factory.getbasetemp().parent  # This session's, shared by its workers.
    out = root / "kettle-compiled"
    with (root / "kettle-compiled.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if build_compiled.stale(out) is not None:
            build_compiled.build(out, build_compiled.listed_modules(), opt_level="1", quiet=True)
    return out


def _smoke(build_dir: Path, modules: list[str]) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(build_dir))
    result = subprocess.run(
        [sys.executable, str(SMOKE), *modules], env=env, cwd=str(build_dir),
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


def _assert_answers(answers: dict[str, Any]) -> None:
    assert answers["shout"]["status"] == 200
    assert answers["shout"]["body"] == "KETTLE ['1', '2']"
    assert answers["shout"]["content_type"] == "text/plain; charset=utf-8"
    assert answers["even"]["status"] == 200
    assert answers["even"]["body"] == "84 /even/42"
    assert answers["odd"]["status"] == 404
    assert answers["json"]["status"] == 200
    assert json.loads(answers["json"]["body"]) == {"fallback": True}
    assert answers["cookie"]["set_cookie"] == "flavour=tagged-ginger; Path=/"
    assert answers["etag"]["status"] == 304
    assert answers["etag"]["body"] == ""
    assert answers["missing"]["status"] == 404


def test_listed_modules_build_and_serve_user_subclasses_under_wsgi_and_asgi(compiled: Path) -> None:
    modules = [_module_name(path) for path in build_compiled.listed_modules()]
    result = _smoke(compiled, modules)
    for name, file in result["loaded"].items():
        assert file.startswith(str(compiled)), name
        assert file.endswith(".so"), f"{name} was imported from {file}, not the compiled module"
    _assert_answers(result["wsgi"])
    _assert_answers(result["asgi"])
    # The signed session read after request.cookies was built (compiled, a call on a
    # dict subclass once went to dict.get and returned a list: nobody was logged in).
    assert result["sessions"] == {"wsgi": [200, 200, "ada x"], "asgi": [200, 200, "ada x"]}
    info = json.loads((compiled / build_compiled.INFO).read_text())
    assert info["modules"] == build_compiled.listed_modules()
    assert info["digest"] == build_compiled.source_digest()
    assert build_compiled.stale(compiled) is None


def test_a_missing_extension_falls_back_to_its_python_module(compiled: Path, tmp_path: Path) -> None:
    copy = tmp_path / "partial"
    shutil.copytree(compiled, copy, ignore=shutil.ignore_patterns(".mypy_cache", "build"))
    first = build_compiled.listed_modules()[0]
    removed = list((copy / first).parent.glob(Path(first).stem + ".*.so"))
    assert removed
    for path in removed:
        path.unlink()
    modules = [_module_name(path) for path in build_compiled.listed_modules()]
    result = _smoke(copy, modules)
    assert result["loaded"][_module_name(first)] == str(copy / first)
    assert all(file.endswith(".so") for name, file in result["loaded"].items() if name != _module_name(first))
    _assert_answers(result["wsgi"])
    _assert_answers(result["asgi"])


def test_the_benchmark_measures_compiled_cells_in_a_child(compiled: Path) -> None:
    worker = run.compiled_worker(compiled)
    assert isinstance(worker, CompiledWorker), worker
    try:
        cells = [
            run.prepare_compiled("param", framework, 10, 0.002, worker)
            for framework in ("kettle-wsgi-compiled", "kettle-asgi-compiled")
        ]
        for cell in cells:
            assert cell.pending is None, cell.pending
            assert isinstance(cell.runner, RemoteRunner)
        assert [cell.runner.protocol for cell in cells if cell.runner] == ["wsgi", "asgi"]
        run.measure(cells, 2)
        for cell in cells:
            assert len(cell.samples) == 2
            assert cell.median_us is not None and cell.median_us > 0
    finally:
        worker.close()
    assert worker.process.returncode == 0


def test_a_build_older_than_the_sources_is_not_benchmarked(compiled: Path, tmp_path: Path) -> None:
    copy = tmp_path / "old"
    shutil.copytree(compiled, copy, ignore=shutil.ignore_patterns(".mypy_cache", "build"))
    info = json.loads((copy / build_compiled.INFO).read_text())
    info["digest"] = "0" * 64
    (copy / build_compiled.INFO).write_text(json.dumps(info))
    reason = build_compiled.stale(copy)
    assert reason is not None and "older than" in reason
    assert build_compiled.stale(tmp_path / "nothing") is not None


def test_a_partly_built_copy_is_not_benchmarked(compiled: Path, tmp_path: Path) -> None:
    # Any listed module loading as its .py (not only the first) would time pure Python.
    copy = tmp_path / "partial"
    shutil.copytree(compiled, copy, ignore=shutil.ignore_patterns(".mypy_cache", "build"))
    last = build_compiled.listed_modules()[-1]
    for path in (copy / last).parent.glob(Path(last).stem + ".*.so"):
        path.unlink()
    reason = run.compiled_worker(copy)
    assert isinstance(reason, str), reason
    assert str(copy / last) in reason
