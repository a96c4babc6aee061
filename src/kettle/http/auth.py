"""The Authorization header (RFC 9110 11.6.2): Basic credentials and tokens."""

from __future__ import annotations

import base64
import binascii


class Authorization:
    """Parsed credentials: ``type`` (lower-cased scheme), ``username``/``password``, ``token``."""

    def __init__(
        self, auth_type: str, data: dict[str, str] | None = None, token: str | None = None
    ) -> None:
        self.type = auth_type
        self.parameters: dict[str, str] = data or {}
        self.token = token

    @property
    def username(self) -> str | None:
        """The Basic user name."""
        return self.parameters.get("username")

    @property
    def password(self) -> str | None:
        """The Basic password."""
        return self.parameters.get("password")

    def get(self, key: str, default: str | None = None) -> str | None:
        """A parameter by name, as Werkzeug's dict-like object."""
        return self.parameters.get(key, default)

    def __getitem__(self, key: str) -> str | None:
        return self.parameters.get(key)

    @classmethod
    def from_header(cls, value: str | None) -> Authorization | None:
        """Parse a header value; None when absent or malformed (never raises)."""
        if not value:
            return None
        scheme, _, rest = value.strip().partition(" ")
        scheme = scheme.lower()
        rest = rest.strip()
        if scheme == "basic":
            try:
                raw = base64.b64decode(rest, validate=True)
            except (binascii.Error, ValueError):
                return None
            username, sep, password = raw.decode("utf-8", "replace").partition(":")
            if not sep:
                return None
            return cls("basic", {"username": username, "password": password})
        if not rest:
            return None
        # As Werkzeug: an "=" before trailing padding means auth-params, else token68.
        if "=" in rest.rstrip("="):
            return cls(scheme, _parse_params(rest))
        return cls(scheme, None, rest)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.type}>"


def _parse_params(value: str) -> dict[str, str]:
    params: dict[str, str] = {}
    for item in value.split(","):
        key, sep, val = item.partition("=")
        if sep:
            params[key.strip().lower()] = val.strip().strip('"')
    return params
