"""The test client's cookie jar: cookies as Werkzeug's test client keeps them.

A :class:`Cookie` has the attributes of ``werkzeug.test.Cookie`` that tests
read (``value``, ``decoded_value``, ``expires``, ``max_age``, ``domain``,
``path``, ``secure``, ``http_only``, ``same_site``); ``set_cookie`` takes the
keyword arguments of ``response.set_cookie`` and builds the cookie from the
header they make, as a server-set cookie is, so both are stored alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from kettle.http.cookies import _unquote, dump_cookie
from kettle.http.dates import parse_date

__all__ = ["Cookie", "CookieJar"]


@dataclasses.dataclass
class Cookie:
    """A cookie stored by the test client."""

    key: str
    value: str
    domain: str
    path: str = "/"
    expires: datetime | None = None
    max_age: int | None = None
    secure: bool = False
    http_only: bool = False
    same_site: str | None = None
    #: True when the cookie had no Domain attribute: it is sent to its origin host only.
    origin_only: bool = True

    @property
    def decoded_key(self) -> str:
        """The name (cookie names are sent as they are)."""
        return self.key

    @property
    def decoded_value(self) -> str:
        """The value with its cookie quoting undone."""
        return _unquote(self.value)

    @property
    def expired(self) -> bool:
        """True when Max-Age is 0 or less, or Expires is in the past."""
        if self.max_age is not None:
            return self.max_age <= 0
        return self.expires is not None and self.expires <= datetime.now(UTC)

    @classmethod
    def from_set_cookie(cls, header: str, host: str) -> Cookie | None:
        """The cookie of one ``Set-Cookie`` header value, for a response from ``host``.

        Attributes are read by name, case-insensitively; unknown ones (``Partitioned``)
        are ignored, as browsers do. None for a header without ``name=value``.
        """
        first, *attributes = header.split(";")
        key, eq, value = first.partition("=")
        key = key.strip()
        if not eq or not key:
            return None
        attrs: dict[str, str] = {}
        for attribute in attributes:
            name, _, attr_value = attribute.partition("=")
            attrs[name.strip().lower()] = attr_value.strip()
        domain = attrs.get("domain", "").lstrip(".")
        max_age = attrs.get("max-age", "")
        return cls(
            key=key,
            value=value.strip(),
            domain=domain or host,
            path=attrs.get("path") or "/",
            expires=parse_date(attrs["expires"]) if attrs.get("expires") else None,
            max_age=int(max_age) if max_age.lstrip("-").isdigit() else None,
            secure="secure" in attrs,
            http_only="httponly" in attrs,
            same_site=attrs.get("samesite") or None,
            origin_only=not domain,
        )

    def matches(self, host: str, path: str) -> bool:
        """True when this cookie is sent with a request to ``host`` and ``path``."""
        domain = self.domain
        host_ok = host == domain or host.endswith("." + domain) or domain == "localhost"
        return host_ok and path.startswith(self.path.rstrip("/") or "/")


class CookieJar:
    """The client's cookies, keyed by (domain, path, name)."""

    def __init__(self) -> None:
        self._cookies: dict[tuple[str, str, str], Cookie] = {}

    def __iter__(self) -> Iterator[Cookie]:
        return iter(list(self._cookies.values()))

    def __len__(self) -> int:
        return len(self._cookies)

    def get(self, key: str, domain: str = "localhost", path: str = "/") -> Cookie | None:
        """The cookie ``key`` for ``domain`` and ``path`` (a parent domain's too), or None."""
        cookie = self._cookies.get((domain, path, key))
        if cookie is None:
            for (d, p, k), candidate in self._cookies.items():
                if k == key and p == path and domain.endswith(d):
                    return candidate
        return cookie

    def set(self, key: str, value: str, domain: str, path: str, **kwargs: Any) -> None:
        """Store a cookie from ``response.set_cookie``'s arguments (max_age, secure...)."""
        kwargs.setdefault("max_size", 0)  # a test may store any size (the app is what is tested)
        header = dump_cookie(key, value, path=path, domain=domain, **kwargs)
        self.store([header], domain)

    def delete(self, key: str, domain: str = "localhost", path: str = "/") -> None:
        """Forget the cookie ``key``."""
        self._cookies.pop((domain.lstrip("."), path, key), None)

    def store(self, set_cookie_headers: Iterable[str], host: str) -> None:
        """Keep the cookies a response set (an expired one removes the stored cookie)."""
        for header in set_cookie_headers:
            cookie = Cookie.from_set_cookie(header, host)
            if cookie is None:
                continue
            key = (cookie.domain, cookie.path, cookie.key)
            if cookie.expired:
                self._cookies.pop(key, None)
            else:
                self._cookies[key] = cookie

    def header(self, host: str, path: str) -> str | None:
        """The ``Cookie`` header for a request to ``host`` and ``path``, or None."""
        now_sent = [c for c in self._cookies.values() if c.matches(host, path) and not c.expired]
        return "; ".join(f"{c.key}={c.value}" for c in now_sent) or None
