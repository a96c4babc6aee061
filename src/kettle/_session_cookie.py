"""The session cookie on the request and the response, read and written cheaply.

``load_cookie`` finds one cookie in the raw Cookie header instead of
building ``request.cookies`` (every cookie in a dict, and under WSGI the
whole header map) and verifies it; ``vary_cookie`` adds ``Vary: Cookie``
without parsing a Vary header that is not there; ``save_signed`` appends a
Set-Cookie header made of parts that were checked when they were made. Each
gives what the public API would, and defers to it when a subclass changes
``cookies``, ``vary``, ``set_cookie``, ``max_cookie_size`` or the headers'
class. The signed-cookie session's open and save run here (a module of the
compiled build; the save in one call) and ``kettle.sessions`` keeps the
hooks and the path that calls them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from itsdangerous import BadData

from kettle._signing import SignedSerializer
from kettle.ctx import _cv_get
from kettle.http._watched import fact_table, keeps, versioned_fact
from kettle.http.cookies import KEPT_HEADER, cookie_value, format_cookie, kept_cookie_value
from kettle.http.dates import http_date
from kettle.http.headers import Headers
from kettle.http.request import Request as HTTPRequest
from kettle.http.response import Response as HTTPResponse

if TYPE_CHECKING:
    from kettle._session_settings import SessionSettings
    from kettle.app import Kettle
    from kettle.sessions import SecureCookieSessionInterface
    from kettle.wrappers import Request, Response

#: A verified session cookie: its data and, from the one-pass signer, the
#: signer and the encoded payload (to re-sign unchanged on a refresh).
Loaded = tuple[dict[str, Any], "tuple[SignedSerializer, bytes] | None"]


def load_cookie(request: Request, name: str, serializer: Any, max_age: int) -> Loaded | None:
    """Read cookie ``name`` and verify it with ``serializer``; None: start an empty session.

    The cookie is what ``request.cookies.get(name)`` gives, found in the raw
    Cookie header when nothing built ``request.cookies`` yet. None also for a
    bad signature, an expired or malformed cookie, or data that is not a dict.
    """
    plain = versioned_fact(_PLAIN_COOKIES, type(request), _reads_raw_cookie)
    value: Any
    if not plain or "cookies" in request.__dict__:
        # Typed Any on purpose: compiled by mypyc, a call on a value typed as a dict
        # subclass would go to dict.get itself and return the MultiDict's value list.
        cookies: Any = request.cookies
        value = cookies.get(name)
    else:
        header = request.cookie_header
        value = (
            kept_cookie_value(header, name)
            if header is not None and len(header) <= KEPT_HEADER
            else cookie_value(header, name)
        )
    if not value:
        return None
    signed: tuple[SignedSerializer, bytes] | None = None
    try:
        if isinstance(serializer, SignedSerializer):
            data, payload = serializer.loads_with_payload(value, max_age)
            signed = (serializer, payload)
        else:
            data = serializer.loads(value, max_age=max_age)
    except (BadData, ValueError, TypeError):
        return None
    if not isinstance(data, dict):
        return None
    return data, signed


_PARSED_COOKIES = HTTPRequest.__dict__["cookies"]
#: Request classes whose cookie can be read from the raw header (True) or not, each with
#: its version (``versioned_fact``).
_PLAIN_COOKIES: dict[type, tuple[int, bool]] = {}


def _reads_raw_cookie(cls: type) -> bool:
    """True when ``cls`` has Kettle's own ``cookies`` and a ``cookie_header`` to read."""
    return cls.cookies is _PARSED_COOKIES and hasattr(cls, "cookie_header")  # type: ignore[attr-defined]


_VARY = HTTPResponse.__dict__["vary"]
#: Every spelling of the name whose ``lower()`` is "vary" (header names are ASCII
#: tokens): a set lookup instead of a ``lower()`` call per header.
_VARY_NAMES = frozenset(
    "".join(letter.upper() if mask >> place & 1 else letter for place, letter in enumerate("vary"))
    for mask in range(16)
)


def vary_cookie(response: Response) -> None:
    """``response.vary.add("Cookie")``, without parsing a Vary header that is not there."""
    headers = response.headers
    cls = response.__class__
    if (cls in _PLAIN_RESPONSES or plain_response(cls) or cls.vary is _VARY) and (
        headers.__class__ is Headers
    ):
        pairs = headers._list
        for name, _ in pairs:
            if name in _VARY_NAMES:
                break
        else:
            # What ``headers.add("Vary", "Cookie")`` appends: a valid name and value.
            pairs.append(("Vary", "Cookie"))
            return
    response.vary.add("Cookie")


_SET_COOKIE = HTTPResponse.set_cookie


def save_signed(
    interface: SecureCookieSessionInterface,
    app: Kettle,
    settings: SessionSettings,
    session: Any,
    response: Response,
    default_class: type[Any],
) -> None:
    """``save_session`` from the settings cached for the config (no hook overridden).

    Flask's rules, answered from the settings: ``Vary: Cookie`` when the
    session was read; an emptied, modified session deletes the cookie;
    otherwise the cookie is written when the session was modified, or is
    permanent with SESSION_REFRESH_EACH_REQUEST, with Expires for a permanent
    one. A refresh of a session nobody read or changed re-signs the cookie's
    own encoded payload (Flask would serialize the same data to the same
    payload). From the one-pass signer, the Set-Cookie header is built from
    the attributes made in the settings (the key, path, domain and SameSite
    checked) around a value that is URL-safe base64 and dots (nothing to
    quote, nothing the header validator refuses), so it goes in without a
    second check; a response class with its own ``set_cookie`` or
    ``max_cookie_size``, headers of another class, or a header past the size
    limit (which warns) go through ``response.set_cookie``. The ``permanent``
    of a session of ``default_class`` (``SecureCookieSession``) is read from
    the dict without its property's frame.
    """
    # ``Vary: Cookie`` once: when read, or (below) when the cookie is written.
    vary = session.accessed
    if vary:
        vary_cookie(response)
    if not session:
        if session.modified:
            delete_cookie(response, settings.options(), vary)
        return
    # Only its truth is used: ``bool()`` is the property's, not needed here.
    permanent = (
        dict.get(session, "_permanent", False)
        if session.__class__ is default_class
        else session.permanent
    )
    modified = session.modified
    if not (modified or (permanent and settings.refresh)):
        return
    expires = expiration(settings.lifetime) if permanent else None
    signer = settings.signer
    if signer is None:  # a serializer or derivation the one-pass signer does not handle
        serializer = interface._signer(app)
        if serializer is not None:
            set_cookie(response, settings.options(), serializer.dumps(dict(session)), expires, vary)
        return
    signed = None if vary or modified else getattr(session, "_signed_payload", None)
    if signed is not None and signed[0] is signer:
        # A refresh of a session nobody read or changed: its data is the cookie's.
        value = signer.sign_payload(signed[1])
    else:
        value = signer.dumps(dict(session))
    headers = response.headers
    cls = response.__class__
    plain = cls in _PLAIN_RESPONSES or plain_response(cls)
    if (plain or cls.set_cookie is _SET_COOKIE) and headers.__class__ is Headers:
        # ``request_is_secure()``, without its frame.
        ctx = _cv_get(None)
        request = None if ctx is None else ctx.request
        secure = settings.secure or (request is not None and bool(request.is_secure))
        if expires is None:
            start, end = settings.made_affixes.get(secure) or settings.affixes(secure)
            header = start + value + end
        else:
            parts = settings.made_attributes.get(secure) or settings.attributes(secure)
            header = format_cookie(parts, value, http_date(expires))
        # ``response.max_cookie_size``, read from the config when it is Kettle's property.
        max_size = (
            int(app.config["MAX_COOKIE_SIZE"])
            if plain or cls.max_cookie_size is _APP_MAX_COOKIE_SIZE
            else response.max_cookie_size
        )
        if not max_size or len(header) <= max_size:
            headers._list.append(("Set-Cookie", header))
            if not vary:
                vary_cookie(response)
            return
    set_cookie(response, settings.options(), value, expires, vary)


def expiration(lifetime: timedelta) -> datetime:
    """When a permanent session's cookie expires (``get_expiration_time``)."""
    return datetime.now(UTC) + lifetime


def set_cookie(
    response: Response,
    options: tuple[Any, ...],
    value: str,
    expires: datetime | None,
    vary: bool,
) -> None:
    """``response.set_cookie`` of the session cookie ``value``, then ``Vary: Cookie`` unless sent.

    ``options`` are the seven get_cookie_* answers (``cookie_arguments``).
    """
    name, attributes = cookie_arguments(options)
    response.set_cookie(name, value, expires=expires, **attributes)
    if not vary:
        vary_cookie(response)


def delete_cookie(response: Response, options: tuple[Any, ...], vary: bool) -> None:
    """Delete the session cookie (an emptied session), then ``Vary: Cookie`` unless sent."""
    name, attributes = cookie_arguments(options)
    response.delete_cookie(name, **attributes)
    if not vary:
        vary_cookie(response)


def cookie_arguments(options: tuple[Any, ...]) -> tuple[str, dict[str, Any]]:
    """The session cookie's name and the keywords ``set_cookie``/``delete_cookie`` take."""
    name, domain, path, secure, httponly, samesite, partitioned = options
    attributes = {
        "domain": domain,
        "path": path,
        "secure": secure,
        "httponly": httponly,
        "samesite": samesite,
        "partitioned": partitioned,
    }
    return name, attributes


def _app_max_cookie_size() -> Any:
    from kettle.wrappers import Response

    return Response.__dict__["max_cookie_size"]


_APP_MAX_COOKIE_SIZE = _app_max_cookie_size()


#: Response classes that keep Kettle's ``vary``, ``set_cookie`` and ``max_cookie_size``
#: (three class reads, about 600 instructions on Python 3.11, in one lookup; exact: the
#: tables are cleared when a response class changes, see ``kettle.http._watched``).
_PLAIN_RESPONSES: dict[type, Any] = fact_table()
_OWN_RESPONSES: dict[type, Any] = fact_table()
_KETTLE_COOKIE_CODE = (
    ("vary", _VARY),
    ("set_cookie", _SET_COOKIE),
    ("max_cookie_size", _APP_MAX_COOKIE_SIZE),
    ("__getattribute__", object.__getattribute__),
)


def plain_response(cls: type) -> bool:
    """True when response class ``cls`` keeps Kettle's cookie code (``_KETTLE_COOKIE_CODE``)."""
    return keeps(cls, _KETTLE_COOKIE_CODE, _PLAIN_RESPONSES, _OWN_RESPONSES)
