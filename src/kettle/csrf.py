"""CSRF protection: an Origin check and a masked per-session token on unsafe requests.

Enable it with ``kettle.csrf.init_app(app)`` (or ``CSRFProtect(app)``);
``CSRF_ENABLED = False`` in the config switches the checks off again (tests).
POST, PUT, PATCH and DELETE requests to a view not marked ``@csrf.exempt``
then pass two checks, as Django's ``CsrfViewMiddleware`` does:

1. **Origin**, before the body is read (``Kettle.before_body``): an
   ``Origin`` header must be the request's own origin (scheme, host, port)
   or one of ``CSRF_TRUSTED_ORIGINS``. Without ``Origin``, over https, the
   ``Referer`` must be an https URL of such an origin (over plain http a
   Referer proves nothing and is not required). A failure is a 403.
2. **Token**: the ``csrf_token`` form field, the ``X-CSRFToken`` (or
   ``X-CSRF-Token``) header or a JSON body's ``csrf_token`` must carry this
   session's token; missing or wrong is a 400 that says so.

The session holds a secret; ``csrf_token()`` returns it masked with a fresh
random mask on every call (``mask + (mask XOR secret)``, base64url), so the
same string never appears twice in a compressed page (BREACH). Any masked
form of the secret is accepted; the comparison is constant-time. Call
``rotate_csrf()`` at login so a token seen before login is worthless after.

Every kind of route is covered: under ASGI, when the token must come from
the body of an ``async def`` view whose route streams its body, the check
receives the body on the loop first (spooled), instead of blocking it.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import secrets
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from kettle.ctx import RequestContext, _cv_get
from kettle.http.exceptions import BadRequest, Forbidden
from kettle.http.origin import origin_allowed, origin_of_url, parse_origin
from kettle.http.stream import BoundedStream

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.sessions import SessionMixin
    from kettle.wrappers import Request

F = TypeVar("F", bound=Callable[..., Any])

#: The session key holding the secret, and the form field and headers that carry the token.
SESSION_KEY = "_csrf_token"
FIELD_NAME = "csrf_token"
HEADER_NAMES = ("X-CSRFToken", "X-CSRF-Token")
PROTECTED_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: A masked token is twice the secret, base64url: anything much longer is refused unread.
_MAX_TOKEN_LENGTH = 256


class CSRFError(BadRequest):
    """400: the CSRF token is missing or does not match (the base of every CSRF error)."""

    description = "The CSRF token is missing."


class CSRFOriginError(Forbidden):
    """403: an unsafe request came from an origin that is not trusted (Origin/Referer)."""

    description = "The request's origin is not trusted."


def _session() -> SessionMixin:
    ctx = _cv_get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError("CSRF tokens need an active request context.")
    return ctx.session  # type: ignore[attr-defined, no-any-return]


def _mask(secret: bytes) -> str:
    mask = secrets.token_bytes(len(secret))
    cipher = (int.from_bytes(mask) ^ int.from_bytes(secret)).to_bytes(len(secret))
    return base64.urlsafe_b64encode(mask + cipher).decode("ascii").rstrip("=")


def _unmask(token: str) -> bytes | None:
    if len(token) > _MAX_TOKEN_LENGTH or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        return None
    half = len(raw) // 2
    if not half or len(raw) % 2:
        return None
    mask, cipher = raw[:half], raw[half:]
    return (int.from_bytes(mask) ^ int.from_bytes(cipher)).to_bytes(half)


def generate_csrf() -> str:
    """Return this session's token, freshly masked (the secret is created on first use)."""
    session = _session()
    secret = session.get(SESSION_KEY)
    if not isinstance(secret, str) or not secret:
        secret = secrets.token_urlsafe(32)
        session[SESSION_KEY] = secret
    return _mask(secret.encode("ascii"))


def rotate_csrf() -> None:
    """Give the session a new CSRF secret: call it at login (tokens from before stop working)."""
    _session()[SESSION_KEY] = secrets.token_urlsafe(32)


def validate_csrf(data: str | None) -> None:
    """Raise CSRFError unless ``data`` is a masked form of this session's secret."""
    expected = _session().get(SESSION_KEY)
    if not data:
        raise CSRFError("The CSRF token is missing.")
    if not isinstance(expected, str) or not expected:
        raise CSRFError("The CSRF session token is missing.")
    secret = _unmask(data)
    if secret is None or not hmac.compare_digest(secret, expected.encode("ascii")):
        raise CSRFError("The CSRF tokens do not match.")


def validate_csrf_origin(request: Request, trusted: tuple[str, ...] | list[str] = ()) -> None:
    """Raise CSRFOriginError unless the request's Origin (or https Referer) is trusted.

    The rule of Django's CSRF middleware: ``Origin`` when sent must be the
    request's own origin or in ``trusted``; without it, an https request
    needs a ``Referer`` that is an https URL of such an origin.
    """
    headers = request.headers
    value = headers.get("Origin")
    if value is not None:
        origin = parse_origin(value)
        if origin is None or not origin_allowed(origin, request.scheme, request.host, trusted):
            raise CSRFOriginError(f"Origin checking failed: {value[:100]!r} is not trusted.")
        return
    if not request.is_secure:
        return
    referer = headers.get("Referer")
    if not referer:
        raise CSRFOriginError("Referer checking failed: an https request needs a Referer.")
    origin = origin_of_url(referer)
    if origin is None or origin[0] != "https":
        raise CSRFOriginError("Referer checking failed: the Referer is not an https URL.")
    if not origin_allowed(origin, request.scheme, request.host, trusted):
        raise CSRFOriginError("Referer checking failed: the Referer's origin is not trusted.")


class CSRFProtect:
    """Check Origin and token before every POST/PUT/PATCH/DELETE view: ``CSRFProtect(app)``."""

    def __init__(self, app: Kettle | None = None) -> None:
        self._exempt: set[str] = set()
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Kettle) -> None:
        """Register the checks and the ``csrf_token()`` template global on ``app``."""
        app.extensions["csrf"] = self
        app.add_template_global(generate_csrf, name="csrf_token")
        app.before_body(lambda request: self._check_origin(app, request))
        app.before_request(self._check)

    def exempt(self, view: F) -> F:
        """Decorate a view (or pass a blueprint) to skip the checks for it."""
        name = getattr(view, "name", None)
        if isinstance(name, str) and not callable(view):
            self._exempt.add(name)  # a blueprint: its name prefixes its endpoints
        else:
            self._exempt.add(f"{view.__module__}.{view.__name__}")
        view._csrf_exempt = True  # type: ignore[attr-defined]
        return view

    def protect(self) -> None:
        """Check the current request's token now (for views exempt from the automatic check)."""
        ctx = _cv_get()
        request: Any = ctx.request
        validate_csrf(self._header_token(request) or self._body_token(request))

    @staticmethod
    def _header_token(request: Any) -> str | None:
        for header in HEADER_NAMES:
            token = request.headers.get(header)
            if token:
                return str(token)
        return None

    @staticmethod
    def _body_token(request: Any) -> str | None:
        if request.mimetype in _FORM_TYPES:
            token = request.form.get(FIELD_NAME)
            if token:
                return str(token)
        if request.is_json:
            body = request.get_json(silent=True)
            if isinstance(body, dict) and isinstance(body.get(FIELD_NAME), str):
                return str(body[FIELD_NAME])
        return None

    def _applies(self, app: Kettle, request: Request) -> bool:
        """Whether this request is checked: an unsafe method to a matched, non-exempt view."""
        if request.method not in PROTECTED_METHODS or not app.config.get("CSRF_ENABLED", True):
            return False
        endpoint = request.endpoint
        if endpoint is None:
            return False  # No route matched: let the 404 or 405 answer, as Flask-WTF does.
        view = app.view_functions.get(endpoint)
        if view is not None and (
            getattr(view, "_csrf_exempt", False)
            or f"{view.__module__}.{view.__name__}" in self._exempt
        ):
            return False
        return not (
            request.blueprint is not None and any(bp in self._exempt for bp in request.blueprints)
        )

    def _check_origin(self, app: Kettle, request: Request) -> None:
        if self._applies(app, request):
            validate_csrf_origin(request, tuple(app.config.get("CSRF_TRUSTED_ORIGINS") or ()))

    def _check(self) -> Coroutine[Any, Any, None] | None:
        ctx = _cv_get()
        if not isinstance(ctx, RequestContext):
            raise RuntimeError("The CSRF check runs in a request context.")
        request: Any = ctx.request
        if request.routing_exception is not None or not self._applies(ctx.app, request):
            return None  # A refused request (404, 405, Origin) is answered as it is.
        token = self._header_token(request)
        if token:
            validate_csrf(token)
            return None
        stream = request.stream
        if ctx.runner.on_loop and isinstance(stream, BoundedStream):
            # An async view whose route streams its body: reading the form here
            # would block the loop, so receive the body first (the pipeline
            # awaits the coroutine a before_request function returns).
            return self._check_received(stream)
        validate_csrf(self._body_token(request))
        return None

    async def _check_received(self, stream: BoundedStream) -> None:
        await stream.receive_all()
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
