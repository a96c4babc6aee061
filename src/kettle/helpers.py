"""Helpers for views: url_for, redirect, abort, make_response and friends."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

from markupsafe import escape

from kettle.ctx import _cv_get
from kettle.http.hosts import split_host
from kettle.http.urls import iri_to_uri, url_unquote
from kettle.sending import safe_join as safe_join
from kettle.sending import send_file as send_file
from kettle.sending import send_from_directory as send_from_directory

if TYPE_CHECKING:
    from kettle.wrappers import Response
    from kettle.wrappers import Response as _Response


def _env(name: str) -> str | None:
    """Read ``KETTLE_<name>``, falling back to ``FLASK_<name>`` for migrating projects."""
    value = os.environ.get(f"KETTLE_{name}")
    if value is None:
        value = os.environ.get(f"FLASK_{name}")
    return value


def get_debug_flag() -> bool:
    """Whether debug mode is asked for by ``KETTLE_DEBUG`` (or ``FLASK_DEBUG``)."""
    value = _env("DEBUG")
    return value is not None and value.lower() not in ("", "0", "false", "no")


def get_load_dotenv(default: bool = True) -> bool:
    """Whether dotenv files should be loaded: False when ``KETTLE_SKIP_DOTENV`` is set."""
    value = _env("SKIP_DOTENV")
    if not value:
        return default
    return value.lower() in ("0", "false", "no")


def url_for(endpoint: str, **values: Any) -> str:
    """Build the URL of ``endpoint``; unknown values become the query string.

    ``current_app.url_for`` does the work and takes the same arguments:
    ``_anchor``, ``_method``, ``_scheme`` and ``_external`` as Flask's.
    """
    from kettle.globals import current_app

    return current_app.url_for(endpoint, **values)


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
    ctx = _cv_get(None)
    if ctx is not None:
        ctx.app.aborter(code, *args, **kwargs)
    from kettle.http.exceptions import abort as _abort

    _abort(code, *args, **kwargs)


def redirect(location: str, code: int = 302, Response: type[_Response] | None = None) -> _Response:
    """Return a redirect to ``location`` with Werkzeug's small HTML body.

    Inside an app context (and without ``Response``) this is ``current_app.redirect``.
    The location is converted from IRI to URI (percent-encoded), so CR, LF
    and NUL can never reach the header.
    """
    if Response is not None:
        return _redirect(location, code, Response)
    ctx = _cv_get(None)
    if ctx is not None:
        return ctx.app.redirect(location, code)
    from kettle.wrappers import Response as default_class

    return _redirect(location, code, default_class)


def _redirect(location: str, code: int, response_class: type[_Response]) -> _Response:
    html_location = escape(location)
    uri = iri_to_uri(location)
    response = response_class(
        "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
        "<h1>Redirecting...</h1>\n<p>You should be redirected automatically to the target URL: "
        f'<a href="{html_location}">{html_location}</a>. If not, click the link.\n',
        code,
        mimetype="text/html",
    )
    response.headers.set("Location", uri)
    return response


# -- redirect back, safely ------------------------------------------------------

_SAFE_SCHEMES = frozenset({"", "http", "https"})


def _has_control(text: str) -> bool:
    return any(ord(c) < 33 or c == "\x7f" for c in text)


def is_safe_url(target: str | None, allowed_hosts: Iterable[str] | None = None) -> bool:
    """Return True when redirecting to ``target`` keeps the user on this site.

    Allowed: relative paths, and http(s) URLs whose scheme, host and port,
    parsed and normalised (lower case, IDNA, default ports), are the
    request's own (an https request refuses an http target), or whose host is
    listed in REDIRECT_ALLOWED_HOSTS (or ``allowed_hosts``; an entry with a
    port allows only that port). Refused: other hosts, userinfo (``a@b``),
    a port that is not ASCII digits, ``//host``, ``/\\host``, backslashes, any
    other scheme (``javascript:``, ``data:``), and whitespace or control
    characters, raw or percent-encoded, that browsers strip before they parse.
    """
    if not target or not isinstance(target, str):
        return False
    decoded = url_unquote(target)
    if _has_control(target.replace(" ", "")) or _has_control(decoded.replace(" ", "")):
        return False
    if target != target.strip() or "\\" in target or "\\" in decoded:
        return False
    try:
        parts = urlsplit(target)
    except ValueError:
        return False
    scheme = parts.scheme.lower()
    if scheme not in _SAFE_SCHEMES:
        return False
    if parts.scheme and not parts.netloc:
        return False  # "http:evil.com" is read as a host by some browsers
    if not parts.netloc:
        # Still catch "/%2F/evil.com": decoded, a leading "//" names a host.
        return not decoded.startswith("//")
    ctx = _cv_get(None)
    request = ctx.request if ctx is not None else None
    scheme = scheme or (request.scheme if request is not None else "http")
    origin = _origin(scheme, parts.netloc)
    if origin is None:
        return False
    name, port = origin
    if request is not None and request.host:
        own = _origin(request.scheme, request.host)
        if (
            own is not None
            and own[0] == name
            and not (request.scheme == "https" and scheme == "http")
            and (
                own[1] == port
                # http -> https on the default ports is the same site
                or (
                    own[1] == _DEFAULT_PORTS.get(request.scheme)
                    and port == _DEFAULT_PORTS.get(scheme)
                )
            )
        ):
            return True
    entries = list(allowed_hosts or ())
    if ctx is not None:
        entries.extend(ctx.app.config.get("REDIRECT_ALLOWED_HOSTS") or ())
    for entry in entries:
        allowed = split_host(_idna(entry))
        if allowed is not None and allowed[0] == name and allowed[1] in (None, port):
            return True
    return False


_DEFAULT_PORTS = {"http": 80, "https": 443}


def _idna(host: str) -> str:
    """``host`` with a non-ASCII name IDNA-encoded (port kept); unchanged when it cannot be."""
    if host.isascii():
        return host
    name, colon, port = host.rpartition(":") if ":" in host else (host, "", "")
    try:
        return name.encode("idna").decode("ascii") + colon + port
    except UnicodeError:
        return host


def _origin(scheme: str, netloc: str) -> tuple[str, int] | None:
    """``(name, port)`` of a URL's authority, the scheme's default port filled in; None if bad."""
    if "@" in netloc:
        return None
    parsed = split_host(_idna(netloc))
    if parsed is None:
        return None
    name, port = parsed
    return name, _DEFAULT_PORTS.get(scheme, 0) if port is None else port


def redirect_back(default: str = "index", **values: Any) -> Response:
    """Redirect to ``next`` (query, then form) or the referrer, if safe; else to ``default``.

    ``default`` is an endpoint built with ``url_for(default, **values)``.
    Every candidate goes through ``is_safe_url``, so this cannot become an
    open redirect.
    """
    ctx = _cv_get(None)
    request = ctx.request if ctx is not None else None
    if request is not None:
        candidates = [request.args.get("next")]
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            candidates.append(request.form.get("next"))
        candidates.append(request.referrer)
        for target in candidates:
            if target and is_safe_url(target):
                return redirect(target)
    return redirect(url_for(default, **values))


# -- message flashing ----------------------------------------------------------


def flash(message: Any, category: str = "message") -> None:
    """Store ``message`` in the session for the next request (Flask's format).

    Sends the ``message_flashed`` signal.
    """
    from kettle.globals import session
    from kettle.signals import message_flashed

    flashes = session.get("_flashes", [])
    flashes.append((category, message))
    session["_flashes"] = flashes
    app = _cv_get().app
    if message_flashed.receivers:
        message_flashed.send(
            app, _async_wrapper=app.ensure_sync, message=message, category=category
        )


def get_flashed_messages(
    with_categories: bool = False, category_filter: Iterable[str] = ()
) -> list[Any]:
    """Return (and remove from the session) the flashed messages, cached for this request.

    ``with_categories`` gives ``(category, message)`` pairs; ``category_filter``
    keeps only those categories.
    """
    from kettle.globals import session

    ctx = _cv_get()
    flashes: list[Any] | None = getattr(ctx, "flashes", None)
    if flashes is None:
        flashes = [tuple(item) for item in session.pop("_flashes")] if "_flashes" in session else []
        ctx.flashes = flashes  # type: ignore[attr-defined]
    if category_filter:
        wanted = set(category_filter)
        flashes = [item for item in flashes if item[0] in wanted]
    if not with_categories:
        return [item[1] for item in flashes]
    return flashes
