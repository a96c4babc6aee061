"""A pytest plugin: every Kettle test client a suite makes drives the ASGI side.

``run_suites.py`` loads it (``-p asgi_clients``) for the ``*-asgi`` suites, so
a suite written for Flask's WSGI test client runs each request through
``app.asgi`` as well. On real Flask (``--on flask``) it changes nothing.
"""

from __future__ import annotations

import os
from typing import Any

import pytest


@pytest.hookimpl
def pytest_configure(config: pytest.Config) -> None:
    """Make ``protocol="asgi"`` the test client's default (Kettle only)."""
    if os.environ.get("KETTLE_FLASK_COMPAT") != "1":
        return
    from kettle.testing.client import KettleClient

    init = KettleClient.__init__

    def asgi_init(
        self: KettleClient, app: Any, use_cookies: bool = True, protocol: str = "", **kw: Any
    ) -> None:
        # A client of a bare WSGI application (a middleware, as Werkzeug's Client takes)
        # stays on WSGI: only a Kettle app has an ASGI side.
        init(self, app, use_cookies, protocol or ("asgi" if hasattr(app, "asgi") else "wsgi"), **kw)

    KettleClient.__init__ = asgi_init  # type: ignore[method-assign]


#: Requests the suite's clients sent through ``app.asgi`` (a run with none proves nothing).
_SENT = [0]


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Count the requests that go through the ASGI side."""
    if os.environ.get("KETTLE_FLASK_COMPAT") != "1":
        return
    from kettle.testing.client import KettleClient

    run = KettleClient._run_asgi

    def counted(self: KettleClient, *args: Any, **kwargs: Any) -> Any:
        _SENT[0] += 1
        return run(self, *args, **kwargs)

    KettleClient._run_asgi = counted  # type: ignore[method-assign]


@pytest.hookimpl
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail a run in which tests ran but no request went through ``app.asgi``."""
    if os.environ.get("KETTLE_FLASK_COMPAT") != "1":
        return
    print(f"\nasgi_clients: {_SENT[0]} requests through app.asgi")
    if session.testscollected and not _SENT[0] and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
