"""The request's JSON body (``is_json``, ``json``, ``get_json``): a part of ``Request``."""

from __future__ import annotations

import json as _json
from typing import TYPE_CHECKING, Any

from kettle.http._lazy import store
from kettle.http.exceptions import BadRequest, UnsupportedMediaType

_unset: Any = object()


class JSONBody:
    """The JSON methods of :class:`kettle.http.request.Request`, parsed on first use."""

    #: What ``get_json`` parsed: (the value, the value with ``silent``), once cached.
    _cached_json: Any = _unset
    #: The body ``get_data`` read, once cached (``Request.get_data``; forms test it too).
    _cached_data: bytes | None = None

    if TYPE_CHECKING:

        @property
        def mimetype(self) -> str: ...

        def get_data(
            self, cache: bool = True, as_text: bool = False, parse_form_data: bool = False
        ) -> Any: ...

    @property
    def is_json(self) -> bool:
        """True when the mimetype is ``application/json`` or ``application/*+json``."""
        mt = self.mimetype
        return mt == "application/json" or (mt.startswith("application/") and mt.endswith("+json"))

    @property
    def json(self) -> Any:
        """The parsed JSON body; 415 when the Content-Type is not JSON, 400 when malformed."""
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        """Parse the body as JSON.

        Without ``force`` the Content-Type must be JSON, else 415. Malformed
        JSON gives a 400 (or None with ``silent``).
        """
        cached = self._cached_json
        if cached is not _unset and cached[silent] is not _unset:
            return cached[silent]
        if not (force or self.is_json):
            if not silent:
                return self.on_json_loading_failed(None)
            return None
        try:
            value = self.load_json(self.get_data(cache=cache))
        except ValueError as error:
            if silent:
                value = None
                if cache:
                    store(self, "_cached_json", (_unset, None))
                return value
            return self.on_json_loading_failed(error)
        if cache:
            store(self, "_cached_json", (value, value))
        return value

    def load_json(self, data: bytes) -> Any:
        """Decode JSON bytes; raise ValueError when they are not JSON."""
        try:
            return self._json_loads(data)
        except RecursionError:
            raise ValueError("JSON nesting is too deep") from None

    #: The JSON decoder (the app's ``app.json.loads`` in an app's requests).
    _json_loads = staticmethod(_json.loads)

    def on_json_loading_failed(self, error: ValueError | None) -> Any:
        """Raise 400 for a decoding error, or 415 when the body is not JSON at all."""
        if error is not None:
            raise BadRequest(f"Failed to decode JSON object: {error}")
        raise UnsupportedMediaType(
            "Did not attempt to load JSON data because the request Content-Type was not"
            " 'application/json'."
        )
