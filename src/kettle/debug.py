"""The debug page: what an unhandled error looks like in debug mode.

Shown by the adapters only when ``app.debug`` is on and ``app.testing`` is
off (in testing the error reaches the test client instead). It is a plain
HTML page, with no console and no code execution: the traceback with
source context and each frame's locals, a request summary, and the plain
traceback to copy. Everything is HTML-escaped, long values are cut, and
values whose names look secret (and the session cookie) are masked.
"""

from __future__ import annotations

import linecache
import os
import re
import sysconfig
import traceback
from html import escape
from types import TracebackType
from typing import TYPE_CHECKING, Any

from kettle.http.datastructures import ImmutableMultiDict

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.wrappers import Request, Response

#: Names whose values are never shown (matched case-insensitively, anywhere in the name).
SECRET_PATTERN = re.compile(r"pass(word|wd)?|secret|token|key|session|auth|cookie", re.IGNORECASE)
#: A value's ``repr`` is cut to this many characters, so one huge object cannot drown the page.
MAX_VALUE_LENGTH = 300
#: Lines of source shown around each frame's current line.
CONTEXT_LINES = 3
MASK = "********"

# Frames from these directories are the framework's or libraries': shown folded, and
# without their locals (an adapter's locals hold the raw headers, cookies included).
_LIBRARY_DIRS = tuple(
    os.path.join(os.path.realpath(path), "")
    for path in {
        os.path.dirname(os.path.abspath(__file__)),
        sysconfig.get_paths()["stdlib"],
        sysconfig.get_paths()["purelib"],
        sysconfig.get_paths()["platlib"],
    }
)

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #b22; color: #fff; padding: 1em 2em; }
header h1 { margin: 0; font-size: 1.5em; }
header p { margin: .4em 0 0; font-family: monospace; white-space: pre-wrap; }
main { padding: 1em 2em; }
.frame { background: #fff; border: 1px solid #ddd; margin: .8em 0; }
.frame h3 { font-size: .95em; margin: 0; padding: .5em .8em; background: #eee;
  font-weight: normal; }
.frame pre { margin: 0; padding: .4em .8em; overflow-x: auto; }
.current { background: #fde8e8; font-weight: bold; }
table { border-collapse: collapse; margin: .3em .8em .8em; font-size: .9em; }
td, th { text-align: left; vertical-align: top; padding: .15em .8em .15em 0;
  font-family: monospace; white-space: pre-wrap; word-break: break-all; }
th { color: #555; font-weight: normal; }
textarea { width: 100%; height: 18em; font-family: monospace; font-size: .85em; }
.note { color: #555; font-size: .85em; }
details.library summary { cursor: pointer; list-style-position: inside; padding-left: .5em; }
details.library summary h3 { display: inline-block; color: #666; background: none; }
"""


def _cut(text: str) -> str:
    if len(text) > MAX_VALUE_LENGTH:
        return f"{text[:MAX_VALUE_LENGTH]}... ({len(text)} characters)"
    return text


def _safe_repr(value: Any) -> str:
    try:
        return _cut(repr(value))
    except Exception as e:  # A broken __repr__ must not break the error page.
        return f"<repr failed: {type(e).__name__}>"


def _masked(name: str, value: str, extra_secret: str | None = None) -> str:
    if SECRET_PATTERN.search(name) or (extra_secret is not None and name == extra_secret):
        return MASK
    return value


def _rows(pairs: list[tuple[str, str]]) -> str:
    if not pairs:
        return '<p class="note">(none)</p>'
    body = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in pairs)
    return f"<table>{body}</table>"


def _source(filename: str, lineno: int) -> str:
    lines = []
    for number in range(max(1, lineno - CONTEXT_LINES), lineno + CONTEXT_LINES + 1):
        line = linecache.getline(filename, number)
        if not line:
            continue
        css = ' class="current"' if number == lineno else ""
        lines.append(f"<span{css}>{number:>5}  {escape(line.rstrip())}</span>")
    return "<pre>" + "\n".join(lines) + "</pre>" if lines else ""


def _is_library(filename: str) -> bool:
    return os.path.realpath(filename).startswith(_LIBRARY_DIRS)


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _frames(tb: TracebackType | None, secrets: tuple[str, ...]) -> str:
    parts = []
    for frame, lineno in traceback.walk_tb(tb):
        code = frame.f_code
        title = (
            f"File <b>{escape(code.co_filename)}</b>, line {lineno}, in"
            f" <b>{escape(code.co_name)}</b>"
        )
        if _is_library(code.co_filename):
            parts.append(
                '<details class="frame library"><summary><h3>'
                f"{title}</h3></summary>{_source(code.co_filename, lineno)}</details>"
            )
            continue
        local_rows = [
            (name, _masked(name, _scrub(_safe_repr(value), secrets)))
            for name, value in frame.f_locals.items()
        ]
        parts.append(
            f'<div class="frame"><h3>{title}</h3>'
            f"{_source(code.co_filename, lineno)}"
            f"{_rows(local_rows)}</div>"
        )
    return "".join(parts)


def _cookie_secrets(app: Kettle, request: Request | None) -> tuple[str, ...]:
    """Values of the session cookie, to be masked wherever a local's repr shows them."""
    if request is None:
        return ()
    name = str(app.config.get("SESSION_COOKIE_NAME") or "session")
    try:
        # Short values could hide innocent text; a signed session is always long.
        return tuple(v for v in request.cookies.getlist(name) if len(v) >= 8)
    except Exception:
        return ()


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes and contexts, oldest first, as Python prints them."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return chain[::-1]


def _request_summary(app: Kettle, request: Request) -> str:
    session_cookie = str(app.config.get("SESSION_COOKIE_NAME") or "session")
    headers = [(name, _masked(name, _cut(value))) for name, value in request.headers.items()]
    try:
        form = [(k, _masked(k, _cut(v))) for k, v in request.form.items(multi=True)]
    except Exception:  # The body may be what failed: say so rather than fail again.
        form = [("(form)", "could not be parsed")]
    try:
        cookies = [
            (k, _masked(k, _cut(v), session_cookie)) for k, v in request.cookies.items(multi=True)
        ]
    except Exception:
        cookies = [("(cookies)", "could not be parsed")]
    summary = [
        ("Method", request.method),
        ("URL", _cut(request.url)),
        ("Endpoint", str(request.endpoint)),
        ("Remote address", str(request.remote_addr)),
    ]
    return (
        "<h2>Request</h2>"
        + _rows(summary)
        + "<h3>Headers</h3>"
        + _rows(headers)
        + "<h3>Form</h3>"
        + _rows(form)
        + "<h3>Cookies</h3>"
        + _rows(cookies)
    )


def render_debug_page(app: Kettle, request: Request | None, exc: BaseException) -> str:
    """Return the HTML debug page for ``exc`` raised while handling ``request``."""
    title = f"{type(exc).__name__}: {exc}"
    secrets = _cookie_secrets(app, request)
    sections = []
    for item in _chain(exc):
        heading = f"{type(item).__module__}.{type(item).__qualname__}: {item}"
        if item is not exc:
            heading = f"(earlier) {heading}"
        sections.append(f"<h2>{escape(_cut(heading))}</h2>{_frames(item.__traceback__, secrets)}")
    plain = "".join(traceback.format_exception(exc))
    request_html = _request_summary(app, request) if request is not None else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(_cut(title))} // Kettle debug page</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<header><h1>{escape(type(exc).__name__)}</h1><p>{escape(_cut(str(exc)))}</p></header>"
        "<main>"
        '<p class="note">Shown because debug mode is on. Never enable debug mode in'
        " production: this page reveals source code and variables.</p>"
        f"<h2>Traceback <span class=note>(most recent call last)</span></h2>{''.join(sections)}"
        f"{request_html}"
        "<h2>Plain traceback</h2>"
        f'<textarea readonly id="plain-traceback">{escape(plain)}</textarea>'
        "</main></body></html>"
    )


def debug_response(app: Kettle, request: Request | None, exc: BaseException) -> Response:
    """Log ``exc`` and return the 500 response carrying its debug page."""
    line = "Exception"
    if request is not None:
        line = f"Exception on {request.path} [{request.method}]"
    app.logger.error(line, exc_info=(type(exc), exc, exc.__traceback__))
    response = app.response_class(
        render_debug_page(app, request, exc), status=500, mimetype="text/html"
    )
    # The page shows secrets of the moment: it must not be cached anywhere.
    response.headers.set("Cache-Control", "no-store")
    return response


class DebugFilesKeyError(KeyError, AssertionError):
    """Raised in debug mode by ``request.files[key]`` when ``key`` came as a form field.

    The form was sent without ``enctype="multipart/form-data"``, so the browser
    sent the file's name, not its contents; the message says so.
    """

    def __init__(self, request: Request, key: str) -> None:
        names = ", ".join(repr(name) for name in request.form.getlist(key))
        self.msg = (
            f"You tried to access the file {key!r} in the request.files dictionary but it does"
            f" not exist. The mimetype for the request is {request.mimetype!r} instead of"
            " 'multipart/form-data' which means that no file contents were transmitted. To fix"
            ' this error you should provide enctype="multipart/form-data" in your form.'
            f"\n\nThe browser instead transmitted some file names. This was submitted: {names}"
        )
        super().__init__(key)

    def __str__(self) -> str:
        return self.msg


class _EnctypeErrorFiles(ImmutableMultiDict[str, Any]):
    """The empty ``request.files`` of a non-multipart request, in debug mode."""

    def __init__(self, request: Request) -> None:
        super().__init__()
        self._request = request

    def __getitem__(self, key: str) -> Any:
        if key in self._request.form:
            raise DebugFilesKeyError(self._request, key)
        return super().__getitem__(key)
