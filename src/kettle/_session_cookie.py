"""The session cookie on the request and the response, read and written cheaply.

``request_cookie`` finds one cookie in the raw Cookie header instead of
building ``request.cookies`` (every cookie in a dict, and under WSGI the
whole header map); ``vary_cookie`` adds ``Vary: Cookie`` without parsing a
Vary header that is not there; ``add_signed_cookie`` appends a Set-Cookie
header made of parts that were checked when they were made. Each gives
what the public API would, and defers to it when a subclass changes
``cookies``, ``vary``, ``set_cookie`` or the headers' class.
"""

from __future__ import annotations

from operator import itemgetter
from typing import TYPE_CHECKING, Any

from kettle._session_settings import request_is_secure
from kettle.http.cookies import cookie_value, format_cookie
from kettle.http.dates import http_date
from kettle.http.headers import Headers
from kettle.http.request import Request as HTTPRequest
from kettle.http.response import Response as HTTPResponse

if TYPE_CHECKING:
    from datetime import datetime

    from kettle._session_settings import SessionSettings
    from kettle.app import Kettle
    from kettle.wrappers import Request, Response


def request_cookie(request: Request, name: str) -> str | None:
    """Return the request's cookie ``name`` as ``request.cookies.get(name)`` would.

    Without building ``request.cookies`` (a dict of every cookie, and under
    WSGI the whole header map) when nothing built it yet: the raw Cookie
    header is read and only ``name`` is looked for.
    """
    cls = type(request)
    plain = _PLAIN_COOKIES.get(cls)
    if plain is None:
        # Kettle's own ``cookies`` and a ``cookie_header`` to read: decided once per class.
        plain = _PLAIN_COOKIES[cls] = cls.cookies is _PARSED_COOKIES and hasattr(
            cls, "cookie_header"
        )
    if not plain or "cookies" in request.__dict__:
        # Typed Any on purpose: compiled by mypyc, a call on a value typed as a dict
        # subclass would go to dict.get itself and return the MultiDict's value list.
        cookies: Any = request.cookies
        return cookies.get(name)  # type: ignore[no-any-return]
    return cookie_value(request.cookie_header, name)


_PARSED_COOKIES = HTTPRequest.__dict__["cookies"]
#: Request classes whose cookie can be read from the raw header (True) or not.
_PLAIN_COOKIES: dict[type, bool] = {}


_VARY = HTTPResponse.__dict__["vary"]


def vary_cookie(response: Response) -> None:
    """``response.vary.add("Cookie")``, without parsing a Vary header that is not there."""
    headers = response.headers
    if type(response).vary is _VARY and headers.__class__ is Headers:
        pairs = headers._list
        # The names in one string, lower-cased in one call: no "vary" in it, no
        # Vary header (a name that merely contains it takes the general path).
        if "vary" not in " ".join(map(_NAME, pairs)).lower():
            # What ``headers.add("Vary", "Cookie")`` appends: a valid name and value.
            pairs.append(("Vary", "Cookie"))
            return
    response.vary.add("Cookie")


_NAME = itemgetter(0)


_SET_COOKIE = HTTPResponse.set_cookie


def add_signed_cookie(
    response: Response,
    app: Kettle,
    settings: SessionSettings,
    value: str,
    expires: datetime | None,
) -> bool:
    """Append ``Set-Cookie`` as ``response.set_cookie`` would; False when it must be called.

    The attributes come from ``settings`` (the key, path, domain and SameSite
    checked there, made once) and ``value`` is a signed session value (URL-safe
    base64 and dots: nothing to quote, nothing the header validator refuses),
    so the header is valid by construction and goes in without a second check.
    A response class with its own ``set_cookie`` or ``max_cookie_size``,
    headers of another class, or a header past the size limit (which warns)
    go through ``set_cookie``.
    """
    headers = response.headers
    cls = type(response)
    if cls.set_cookie is not _SET_COOKIE or headers.__class__ is not Headers:
        return False
    secure = settings.secure or request_is_secure()
    attributes = settings.made_attributes.get(secure) or settings.attributes(secure)
    header = format_cookie(attributes, value, None if expires is None else http_date(expires))
    # ``response.max_cookie_size``, read from the config when it is Kettle's property.
    max_size = (
        int(app.config["MAX_COOKIE_SIZE"])
        if cls.max_cookie_size is _APP_MAX_COOKIE_SIZE
        else response.max_cookie_size
    )
    if max_size and len(header) > max_size:
        return False
    headers._list.append(("Set-Cookie", header))
    return True


def _app_max_cookie_size() -> Any:
    from kettle.wrappers import Response

    return Response.__dict__["max_cookie_size"]


_APP_MAX_COOKIE_SIZE = _app_max_cookie_size()
