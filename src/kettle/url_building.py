"""URL building: ``url_for`` for the app, inside a request or outside one.

Inside a request the URL is relative to the request (its scheme, host,
script root and subdomain); outside one it is external, from SERVER_NAME,
APPLICATION_ROOT and PREFERRED_URL_SCHEME. A ``.endpoint`` is relative to
the current blueprint; the url_defaults functions fill values first, and
a failed build goes through ``app.handle_url_build_error``.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from kettle.ctx import _cv_get
from kettle.http.urls import url_quote
from kettle.pipeline import subdomain_of
from kettle.routing import BuildError

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.routing import MapAdapter
    from kettle.wrappers import Request


def build_url(
    app: Kettle,
    endpoint: str,
    /,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: Any,
) -> str:
    """Build the URL of ``endpoint`` for ``app``: relative inside a request, else external."""
    ctx = _cv_get(None)
    request = ctx.request if ctx is not None else None
    if request is not None:
        blueprint = request.blueprint
        if endpoint[:1] == ".":
            endpoint = f"{blueprint}{endpoint}" if blueprint is not None else endpoint[1:]
        if _external is None:
            _external = _scheme is not None
        scheme, host, script_name = request.scheme, request.host, request.root_path
        # The current subdomain decides whether a rule's URL is relative.
        subdomain = subdomain_of(app, request) if app.subdomain_matching else None
    else:
        if endpoint[:1] == ".":
            endpoint = endpoint[1:]
        server_name = app.config["SERVER_NAME"]
        if not server_name:
            raise RuntimeError(
                "Unable to build URLs outside an active request without 'SERVER_NAME'"
                " configured. Also configure 'APPLICATION_ROOT' and 'PREFERRED_URL_SCHEME'"
                " as needed."
            )
        if _external is None:
            _external = True
        scheme = app.config["PREFERRED_URL_SCHEME"]
        host = server_name
        script_name = (app.config["APPLICATION_ROOT"] or "/").rstrip("/")
        subdomain = None
    if _scheme is not None and not _external:
        raise ValueError("When specifying '_scheme', '_external' must be True.")
    app.inject_url_defaults(endpoint, values)
    try:
        rv = app.url_map.build(
            endpoint,
            values,
            _method,
            url_scheme=_scheme or scheme,
            host=host,
            script_name=script_name,
            force_external=_external,
            subdomain=subdomain,
        )
    except BuildError as error:
        values.update(_anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external)
        return app.handle_url_build_error(error, endpoint, values)
    if _anchor is not None:
        rv = f"{rv}#{url_quote(_anchor, safe='%!#$&' + chr(39) + '()*+,/:;=?@')}"
    return rv


def url_build_error(app: Kettle, error: BuildError, endpoint: str, values: dict[str, Any]) -> str:
    """Try ``url_build_error_handlers``; re-raise ``error`` when none returns a URL."""
    for handler in app.url_build_error_handlers:
        try:
            rv = handler(error, endpoint, values)
        except BuildError as e:
            error = e
        else:
            if rv is not None:
                return rv
    if error is sys.exc_info()[1]:
        raise
    raise error


def url_adapter(app: Kettle, request: Request | None) -> MapAdapter | None:
    """A URL adapter bound to ``request``, or to SERVER_NAME outside one (None without it)."""
    if request is not None:
        return app.url_map.bind(
            request.host,
            script_name=request.root_path,
            subdomain=subdomain_of(app, request),
            url_scheme=request.scheme,
            default_method=request.method,
            path_info=request.path,
            query_args=request.query_string.decode("latin-1"),
        )
    server_name = app.config["SERVER_NAME"]
    if server_name is None:
        return None
    return app.url_map.bind(
        server_name,
        script_name=app.config["APPLICATION_ROOT"],
        url_scheme=app.config["PREFERRED_URL_SCHEME"],
    )
