"""The session cookie on the request and the response, read and marked cheaply.

``request_cookie`` finds one cookie in the raw Cookie header instead of
building ``request.cookies`` (every cookie in a dict, and under WSGI the
whole header map); ``vary_cookie`` adds ``Vary: Cookie`` without parsing a
Vary header that is not there. Each gives what the public API would, and
defers to it when a subclass changes ``cookies`` or ``vary``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kettle.http.cookies import cookie_value
from kettle.http.request import Request as HTTPRequest
from kettle.http.response import Response as HTTPResponse

if TYPE_CHECKING:
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
        return request.cookies.get(name)  # type: ignore[no-any-return]
    return cookie_value(request.cookie_header, name)


_PARSED_COOKIES = HTTPRequest.__dict__["cookies"]
#: Request classes whose cookie can be read from the raw header (True) or not.
_PLAIN_COOKIES: dict[type, bool] = {}


_VARY = HTTPResponse.__dict__["vary"]


def vary_cookie(response: Response) -> None:
    """``response.vary.add("Cookie")``, without parsing a Vary header that is not there."""
    if type(response).vary is _VARY and response.headers.get("Vary") is None:
        response.headers.add("Vary", "Cookie")
    else:
        response.vary.add("Cookie")
