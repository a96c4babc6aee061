"""The optional C accelerators: built by ``make test``, and Kettle the same without them.

``setup.py`` lists them (``ACCELERATORS``): ``kettle.http._urlencoded`` (the
urlencoded parse and ``Request.args``), ``kettle._proxies`` (the proxies'
attribute reads), ``kettle.http._multidict`` (ImmutableMultiDict's ``get`` and
``getlist``), ``kettle.routing._resolve`` (the common shapes of dynamic paths),
``kettle.http._response`` (a view's text made a response, and what is sent of it)
and ``kettle.adapters._builders`` (an environ or a scope made into a request).
Each has a pure-Python twin that runs when it is not built or when
``KETTLE_PURE_PYTHON=1``; the tests of both behaviours run here under that
variable too.
"""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kettle import Kettle, current_app, g, request
from kettle import globals as kettle_globals
from kettle.testing import KettleClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))

import build_compiled  # noqa: E402 - found through the path above, as tests/bench does


def accelerator_names() -> list[str]:
    """The module names ``setup.py`` builds as C accelerators (read as the mypyc build reads it)."""
    return [extension.name for extension in build_compiled.packaging().ACCELERATORS]


def test_the_list_is_what_kettle_imports() -> None:
    """Each module ``setup.py`` builds is one Kettle asks ``accelerator`` for, and back."""
    asked = {
        match.group(1)
        for path in (ROOT / "src" / "kettle").rglob("*.py")
        for match in re.finditer(r'accelerator\(\s*"([\w.]+)"', path.read_text())
    }
    assert sorted(accelerator_names()) == sorted(asked)
    assert len(asked) == 6  # (A module dropped from both sides is caught too.)


@pytest.mark.parametrize("name", accelerator_names())
def test_each_accelerator_is_built_under_ci(name: str) -> None:
    """A failed optional build is silent at install: under CI it fails here instead."""
    if not os.environ.get("CI"):
        pytest.skip("only CI requires the build (a C compiler is part of the suite's machine)")
    module = importlib.import_module(name)
    assert module.__file__ is not None and module.__file__.endswith(".so")


def test_pure_python_runs_the_same_tests() -> None:
    """With ``KETTLE_PURE_PYTHON=1`` no accelerator is used, and the behaviour holds."""
    env = dict(os.environ, KETTLE_PURE_PYTHON="1")
    env.pop("CI", None)  # (The build checks are this process's.)
    check = (
        "from kettle import globals as G; from kettle.http import urls;"
        "from kettle.routing import shapes; from kettle.http import datastructures as D;"
        "from kettle.http import _request_params as P; from kettle.adapters import wsgi as W;"
        "from kettle.adapters import asgi_request as A; from kettle.http import _fast_response as F;"
        "from kettle.http import sending as S;"
        "print(G._Forwarder, urls._fill_multidict, shapes._Resolver, D._Method, P._QueryArgs,"
        " W._Builder, A._Builder, F._TextResponse, S._PrepareSend)"
    )
    done = subprocess.run(
        [sys.executable, "-c", check], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["None"] * 9
    tests = [
        "tests/request/test_request_proxy_names.py",
        "tests/core/test_core_urls.py",
        "tests/core/test_core_urlencoded_accelerator.py",
        "tests/core/test_core_multidict_accelerator.py",
        "tests/core/test_core_datastructures.py",
        "tests/core/test_core_multidict_layout.py",
        "tests/routing/test_shapes.py",
        "tests/routing/test_resolve_accelerator.py",
        "tests/request/test_request_builders_accelerator.py",
        "tests/core/test_core_response_accelerator.py",
        "tests/core/test_core_class_facts.py",
        f"{Path(__file__).relative_to(ROOT)}::test_proxies_read_the_current_objects",
    ]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *tests],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert " passed" in done.stdout


def test_proxies_read_the_current_objects(app: Kettle, client: KettleClient) -> None:
    """``request``, ``g`` and ``current_app`` read what the view's context holds."""

    @app.get("/read")
    def read() -> dict[str, Any]:
        g.user = "ada"
        getattribute: Any = type(request).__getattribute__
        return {
            "method": request.method,
            "args": request.args.to_dict(),
            "g": g.user,
            "app": current_app.name,
            "explicit": getattribute(request, "path"),
            "class": request.__class__.__name__,
        }

    response = client.get("/read?x=1")
    assert response.get_json() == {
        "method": "GET", "args": {"x": "1"}, "g": "ada", "app": "kettle_test",
        "explicit": "/read", "class": "Request",
    }  # fmt: skip
    with pytest.raises(RuntimeError, match="Working outside of request context"):
        _ = request.method
    with pytest.raises(RuntimeError, match="Working outside of application context"):
        _ = current_app.name


def test_the_c_reads_refuse_what_python_refuses() -> None:
    if kettle_globals._Forwarder is None:
        pytest.skip("kettle._proxies is not built here")
    getattribute: Any = type(request).__getattribute__
    with pytest.raises(TypeError, match="attribute name must be string"):
        getattribute(request, 3)
    with pytest.raises(TypeError):
        getattribute()
    with pytest.raises(TypeError):
        kettle_globals._Forwarder(frozenset(), print, print, "not a ContextVar")
