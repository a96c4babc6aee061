"""Helpers for views: url_for, redirect, abort, make_response and friends."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NoReturn

from markupsafe import escape

from kettle.ctx import _cv
from kettle.http.urls import iri_to_uri

if TYPE_CHECKING:
    from kettle.wrappers import Response


def url_for(
    endpoint: str,
    *,
    _anchor: str | None = None,
    _method: str | None = None,
    _scheme: str | None = None,
    _external: bool | None = None,
    **values: Any,
) -> str:
    """Build the URL of ``endpoint``; unknown values become the query string."""
    from kettle.globals import current_app

    return current_app.url_for(
        endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
    )


def make_response(*args: Any) -> Response:
    """Turn a view's return value (or ``(body, status, headers)``) into a Response."""
    from kettle.globals import current_app

    if not args:
        return current_app.response_class()
    if len(args) == 1:
        args = args[0]
    return current_app.make_response(args)


def abort(code: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
    """Raise the HTTP error for ``code`` (``abort(404)``), using the app's aborter."""
    ctx = _cv.get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    from kettle.http.exceptions import abort as _abort

    _abort(code, *args, **kwargs)


def redirect(location: str, code: int = 302, Response: type[Response] | None = None) -> Response:
    """Return a redirect to ``location`` with Werkzeug's small HTML body.

    The location is converted from IRI to URI (percent-encoded), so CR, LF
    and NUL can never reach the header.
    """
    if Response is None:
        ctx = _cv.get(None)
        if ctx is not None:
            Response = ctx.app.response_class
        else:
            from kettle.wrappers import Response
    html_location = escape(location)
    uri = iri_to_uri(location)
    response = Response(
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: "
        f'<a href="{html_location}">{html_location}</a>. If not, click the link.\n',
        code,
        mimetype="text/html",
    )
    response.headers.set("Location", uri)
    return response
