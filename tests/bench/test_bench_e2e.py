"""The end-to-end benchmark machinery runs and reports well-formed results.

One scenario under one server with a one-second load: no timing is asserted
(the cores are shared), only that every measured field is there, consistent
and came from requests the server answered correctly.
"""

from __future__ import annotations

import dataclasses
import json
import os
import statistics
import sys
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import e2e


@pytest.fixture(scope="module")
def wrk() -> str:
    found = e2e.ensure_wrk()
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("wrk is not installed (make system-deps installs it)")
        pytest.skip("wrk is not installed")
    return found


def _measured(cell: dict[str, Any], rounds: int) -> None:
    assert "pending" not in cell, cell
    assert cell["requests"] > 0
    assert cell["seconds"] > 0
    assert cell["server_cpu_s"] >= 0
    assert cell["errors"] == {"status": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}
    assert len(cell["rounds"]) == rounds
    for one in cell["rounds"]:
        assert one["req_per_s"] > 0
        assert 0 < one["p50_ms"] <= one["p99_ms"]
        assert one["cpu_us_per_request"] >= 0
    for key in ("req_per_s", "p50_ms", "p99_ms", "cpu_us_per_request"):
        assert cell[key] == statistics.median(one[key] for one in cell["rounds"])
    # CPU per request over all rounds lies between the rounds' (server_cpu_s is
    # rounded to the ms, each round to 0.01 µs).
    mean_of_rounds = cell["server_cpu_s"] / cell["requests"] * 1e6
    slack = 0.0005 / cell["requests"] * 1e6 + 0.01
    assert min(r["cpu_us_per_request"] for r in cell["rounds"]) - slack <= mean_of_rounds
    assert mean_of_rounds <= max(r["cpu_us_per_request"] for r in cell["rounds"]) + slack


def test_one_scenario_under_gunicorn_reports_kettle_next_to_the_bare_app(
    wrk: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "e2e.json"
    argv = [
        "--scenario", "hello", "--server", "gunicorn",
        "--framework", "kettle-wsgi", "--framework", "bare-wsgi",
        "--duration", "1", "--rounds", "2", "--warmup", "0", "--connections", "2", "--results", str(results),
    ]
    assert e2e.main(argv) == 0
    report = json.loads(results.read_text())
    assert report["meta"]["duration_s"] == 1
    assert report["meta"]["workers"] == 1
    assert report["meta"]["rounds"] == 2
    cells = {cell["framework"]: cell for cell in report["cells"]}
    assert set(cells) == {"kettle-wsgi", "bare-wsgi"}
    for cell in cells.values():
        assert (cell["scenario"], cell["server"]) == ("hello", "gunicorn")
        _measured(cell, rounds=2)
    kettle, bare = cells["kettle-wsgi"], cells["bare-wsgi"]
    assert (bare["above_bare_us"], bare["bare_floor"]) == (0, "hello")
    assert kettle["bare_floor"] == "hello"
    assert kettle["above_bare_us"] == pytest.approx(
        kettle["cpu_us_per_request"] - bare["cpu_us_per_request"], abs=0.011
    )
    if bare["cpu_us_per_request"] > 0:
        assert kettle["x_bare"] == pytest.approx(
            kettle["cpu_us_per_request"] / bare["cpu_us_per_request"], abs=0.006
        )
    out = capsys.readouterr().out
    assert "hello           gunicorn      kettle-wsgi" in out
    assert "results written to" in out


def test_a_framework_without_the_scenario_is_pending_and_starts_no_server(wrk: str) -> None:
    cell = e2e.run_cell("cookie_session", "gunicorn", "falcon", wrk=wrk, duration=1, warmup=0)
    assert cell["pending"] == "Falcon has no built-in signed session"
    assert "requests" not in cell


def test_each_framework_runs_only_under_servers_of_its_protocol() -> None:
    groups = e2e.plan(["hello"], ["granian-wsgi", "uvicorn"], ["kettle-wsgi", "kettle-asgi", "flask"])
    assert groups == [
        ("hello", "granian-wsgi", ["kettle-wsgi", "flask"]),
        ("hello", "uvicorn", ["kettle-asgi"]),
    ]


def test_answers_with_another_status_than_the_scenarios_are_counted(wrk: str, tmp_path: Path) -> None:
    # notfound answers 404, which wrk alone would count as an error: the
    # script counts only answers whose status is not the expected one.
    with ExitStack() as stack:
        target = e2e.start("notfound", e2e.SERVERS["gunicorn"], "bare-wsgi", 10, tmp_path, stack)
        right = e2e.run_wrk(wrk, target.url, target.script, 1, 2)
        wrong_spec = dataclasses.replace(e2e.specs()["notfound"], status=418)
        wrong = e2e.run_wrk(wrk, target.url, e2e.wrk_script(wrong_spec, "", tmp_path / "418.lua"), 1, 2)
    assert right["requests"] > 0
    assert right["errors_status"] == 0
    assert wrong["requests"] > 0
    assert wrong["errors_status"] == wrong["requests"]


def test_the_issue_goals_are_checked_under_granian_wsgi() -> None:
    def cell(scenario: str, server: str, framework: str, cpu: float) -> dict[str, Any]:
        return {"scenario": scenario, "server": server, "framework": framework, "cpu_us_per_request": cpu}

    cells = [
        cell("hello", "granian-wsgi", "kettle-wsgi", 26.0),
        cell("hello", "granian-wsgi", "falcon", 26.0),
        cell("hello", "granian-wsgi", "bare-wsgi", 20.0),
        cell("json", "granian-wsgi", "kettle-wsgi", 40.0),
        cell("json", "granian-wsgi", "falcon", 30.0),
        cell("json", "granian-wsgi", "bare-wsgi", 10.0),
        cell("json", "gunicorn", "kettle-wsgi", 1.0),
        {"scenario": "cookie_session", "server": "granian-wsgi", "framework": "falcon", "pending": "no session"},
        cell("cookie_session", "granian-wsgi", "kettle-wsgi", 90.0),
    ]
    assert e2e.goals(cells) == [
        {"scenario": "hello", "versus": "falcon", "ratio": 1.0, "goal": 1.0, "met": True},
        {"scenario": "hello", "versus": "bare-wsgi", "ratio": 1.3, "goal": 1.3, "met": True},
        {"scenario": "json", "versus": "falcon", "ratio": 1.33, "goal": 1.0, "met": False},
    ]


def test_granian_wsgi_runs_the_app_on_one_python_thread_as_granian_asgi_does() -> None:
    # granian's WSGI default (backpressure / 2 threads) makes a thread per
    # connection contend for the GIL; ASGI always has one blocking thread.
    command = e2e.SERVERS["granian-wsgi"].command(8000)
    assert command[command.index("--blocking-threads") + 1] == "1"
    assert "--blocking-threads" not in e2e.SERVERS["granian-asgi"].command(8000)


def test_the_tree_usage_counts_the_sleeps_of_every_live_thread() -> None:
    before = e2e.tree_usage(os.getpid())
    slept, finish = threading.Event(), threading.Event()

    def sleeper() -> None:
        for _ in range(5):
            time.sleep(0.001)
        slept.set()
        finish.wait()

    thread = threading.Thread(target=sleeper)
    thread.start()
    try:
        slept.wait()
        after = e2e.tree_usage(os.getpid())
    finally:
        finish.set()
        thread.join()
    assert after[0] >= before[0]
    assert after[1] >= before[1] + 5


def test_each_round_reports_the_server_threads_sleeps_per_request(wrk: str) -> None:
    cell = e2e.run_cell("hello", "gunicorn", "bare-wsgi", wrk=wrk, duration=1, warmup=0, rounds=1, connections=2)
    assert "pending" not in cell, cell
    (one,) = cell["rounds"]
    assert one["switches_per_request"] >= 0
    assert cell["switches_per_request"] == one["switches_per_request"]
    assert e2e.table([cell]).splitlines()[0].endswith("switches/req")
    assert e2e.markdown([cell]).splitlines()[0].endswith("| switches/req |")
