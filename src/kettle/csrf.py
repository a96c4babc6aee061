"""CSRF protection: a per-session token checked on every state-changing request.

Enable it with ``kettle.csrf.init_app(app)`` (or ``CSRFProtect(app)``);
``CSRF_ENABLED = False`` in the config switches the check off again (tests).
POST, PUT, PATCH and DELETE requests must then carry the
token, as the ``csrf_token`` form field or the ``X-CSRFToken`` (or
``X-CSRF-Token``) header; templates get it from ``{{ csrf_token() }}``. A
missing or wrong token is a 400 that says so. Views marked ``@csrf.exempt``
are skipped. The comparison is constant-time (``hmac.compare_digest``).
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from kettle.ctx import _cv
from kettle.http.exceptions import BadRequest

if TYPE_CHECKING:
    from kettle.app import Kettle

F = TypeVar("F", bound=Callable[..., Any])

#: The session key holding the token, and the form field and headers that carry it.
SESSION_KEY = "_csrf_token"
FIELD_NAME = "csrf_token"
HEADER_NAMES = ("X-CSRFToken", "X-CSRF-Token")
PROTECTED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class CSRFError(BadRequest):
    """400: the CSRF token is missing or does not match."""

    description = "The CSRF token is missing."


def generate_csrf() -> str:
    """Return this session's token, creating it on first use."""
    ctx = _cv.get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError("csrf_token() needs an active request context.")
    session = ctx.session  # type: ignore[attr-defined]
    token = session.get(SESSION_KEY)
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        session[SESSION_KEY] = token
    return token


def validate_csrf(data: str | None) -> None:
    """Raise CSRFError unless ``data`` is this session's token."""
    ctx = _cv.get()
    expected = ctx.session.get(SESSION_KEY)  # type: ignore[attr-defined]
    if not data:
        raise CSRFError("The CSRF token is missing.")
    if not isinstance(expected, str) or not expected:
        raise CSRFError("The CSRF session token is missing.")
    if not hmac.compare_digest(data.encode("utf-8", "replace"), expected.encode("utf-8")):
        raise CSRFError("The CSRF tokens do not match.")


class CSRFProtect:
    """Check the CSRF token before every POST/PUT/PATCH/DELETE view: ``CSRFProtect(app)``."""

    def __init__(self, app: Kettle | None = None) -> None:
        self._exempt: set[str] = set()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Kettle) -> None:
        """Register the check and the ``csrf_token()`` template global on ``app``."""
        app.extensions["csrf"] = self
        app.add_template_global(generate_csrf, name="csrf_token")
        app.before_request(self._check)

    def exempt(self, view: F) -> F:
        """Decorate a view (or pass a blueprint) to skip the check for it."""
        name = getattr(view, "name", None)
        if isinstance(name, str) and not callable(view):
            self._exempt.add(name)  # a blueprint: its name prefixes its endpoints
        else:
            self._exempt.add(f"{view.__module__}.{view.__name__}")
        view._csrf_exempt = True  # type: ignore[attr-defined]
        return view

    def protect(self) -> None:
        """Check the current request now (for views that opted out of the automatic check)."""
        ctx = _cv.get()
        request: Any = ctx.request
        token = request.form.get(FIELD_NAME) if request.mimetype in _FORM_TYPES else None
        if not token:
            for header in HEADER_NAMES:
                token = request.headers.get(header)
                if token:
                    break
        if not token and request.is_json:
            body = request.get_json(silent=True)
            if isinstance(body, dict) and isinstance(body.get(FIELD_NAME), str):
                token = body[FIELD_NAME]
        validate_csrf(token)

    def _check(self) -> None:
        ctx = _cv.get()
        request: Any = ctx.request
        if request.method not in PROTECTED_METHODS or not ctx.app.config.get("CSRF_ENABLED", True):
            return
        endpoint = request.endpoint
        if endpoint is None:
            return  # No route matched: let the 404 or 405 answer, as Flask-WTF does.
        if endpoint is not None:
            view = ctx.app.view_functions.get(endpoint)
            if view is not None and (
                getattr(view, "_csrf_exempt", False)
                or f"{view.__module__}.{view.__name__}" in self._exempt
            ):
                return
            if request.blueprint is not None and any(
                bp in self._exempt for bp in request.blueprints
            ):
                return
        self.protect()


_FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})

#: The module-level protector, so ``kettle.csrf.init_app(app)`` and ``@csrf.exempt`` work.
csrf = CSRFProtect()


def init_app(app: Kettle) -> CSRFProtect:
    """Turn CSRF protection on for ``app`` with the module-level protector."""
    csrf.init_app(app)
    return csrf


def exempt(view: F) -> F:
    """Exempt ``view`` from the module-level protector's check."""
    return csrf.exempt(view)
