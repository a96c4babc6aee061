"""The Authorization header (RFC 9110 11.6.2): Basic credentials, auth-params and tokens."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from kettle.http.headervalues import dump_header, parse_dict_header


class Authorization:
    """Parsed credentials, as Werkzeug's ``Authorization``.

    ``type`` is the lower-cased scheme. A Basic header is decoded into the
    ``username`` and ``password`` parameters; a scheme with auth-params
    (Digest: ``username``, ``realm``, ``nonce``, ``uri``, ``response``, ...)
    has them in ``parameters``; a token scheme (Bearer) has ``token``. A
    parameter reads as ``auth.realm``, ``auth["realm"]`` or
    ``auth.get("realm")`` (None when absent), and ``"realm" in auth`` tests it.
    ``repr()`` names the scheme only: unlike Werkzeug's it never shows the
    credentials, so a logged request does not leak them.
    """

    def __init__(
        self, auth_type: str, data: dict[str, str | None] | None = None, token: str | None = None
    ) -> None:
        self.type = auth_type
        self.parameters: dict[str, str | None] = {} if data is None else data
        self.token = token

    def __getattr__(self, name: str) -> str | None:
        # Only for names the object does not have: its parameters (``auth.nonce``).
        if name == "parameters":  # Not set yet (a copy or unpickling in progress).
            raise AttributeError(name)
        return self.parameters.get(name)

    @property
    def username(self) -> str | None:
        """The user name (Basic and Digest)."""
        return self.parameters.get("username")

    @property
    def password(self) -> str | None:
        """The Basic password."""
        return self.parameters.get("password")

    def get(self, key: str, default: str | None = None) -> str | None:
        """A parameter by name, or ``default``."""
        return self.parameters.get(key, default)

    def __getitem__(self, key: str) -> str | None:
        return self.parameters.get(key)

    def __contains__(self, key: object) -> bool:
        return key in self.parameters

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Authorization):
            return NotImplemented
        return (
            other.type == self.type
            and other.token == self.token
            and other.parameters == self.parameters
        )

    __hash__ = None  # type: ignore[assignment]  # Mutable and compared by value, as Werkzeug's.

    @classmethod
    def from_header(cls, value: str | None) -> Authorization | None:
        """Parse a header value; None when absent or undecodable (never raises).

        As Werkzeug: Basic credentials are strict base64 of UTF-8 text, split
        at the first ``:`` (no ``:``: the whole text is the user name, the
        password is empty); any other scheme holds auth-params when an ``=``
        comes before trailing padding, else a token68.
        """
        if not value:
            return None
        scheme, _, rest = value.strip(" \t").partition(" ")
        scheme = scheme.lower()
        rest = rest.strip(" \t")
        if scheme == "basic":
            try:
                text = base64.b64decode(rest, validate=True).decode()
            except (binascii.Error, ValueError):  # (UnicodeDecodeError is a ValueError.)
                return None
            username, _, password = text.partition(":")
            return cls("basic", {"username": username, "password": password})
        if "=" in rest.rstrip("="):
            return cls(scheme, parse_dict_header(rest))
        return cls(scheme, None, rest)

    def to_header(self) -> str:
        """The header value for this data (what a test client sends for ``auth=``)."""
        if self.type == "basic":
            raw = f"{self.username}:{self.password}".encode()
            return f"Basic {base64.b64encode(raw).decode('ascii')}"
        if self.token is not None:
            return f"{self.type.title()} {self.token}"
        return f"{self.type.title()} {dump_header(self.parameters)}"

    def __str__(self) -> str:
        return self.to_header()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type}>"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.type, self.parameters, self.token))
