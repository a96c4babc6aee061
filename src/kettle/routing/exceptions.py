"""Exceptions raised by routing.

The tree::

    Exception
     ├── ValueError
     │    └── ValidationError            a converter refuses a value (no match)
     └── RoutingException
          ├── RequestRedirect (308)      also an HTTPException: it renders itself
          ├── BuildError                 also a LookupError: url_for failed
          ├── RequestPath                internal: redirect to another path
          ├── RequestAliasRedirect       internal: an alias rule matched
          └── NoMatch                    internal: nothing matched
    HTTPException
     └── BadRequest
          └── WebsocketMismatch          only a rule of the other protocol matched

``NotFound`` and ``MethodNotAllowed`` come from :mod:`kettle.http.exceptions`.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from markupsafe import escape

from kettle.http.exceptions import BadRequest, HTTPException

if TYPE_CHECKING:
    from kettle.http.response import Response
    from kettle.routing.map import MapAdapter
    from kettle.routing.rules import Rule

__all__ = [
    "ValidationError",
    "RoutingException",
    "RequestRedirect",
    "BuildError",
    "WebsocketMismatch",
    "RequestPath",
    "RequestAliasRedirect",
    "NoMatch",
]


class ValidationError(ValueError):
    """Raise from a converter's ``to_python`` to refuse a value: the URL does not match."""


class RoutingException(Exception):
    """Base class of the exceptions routing raises to steer the request."""


class RequestRedirect(HTTPException, RoutingException):
    """308: the URL has a canonical form; ``new_url`` is the absolute target."""

    code = 308

    def __init__(self, new_url: str) -> None:
        super().__init__(new_url)
        self.new_url = new_url

    def get_response(self, request: object = None, /, **server_values: object) -> Response:
        """Return the redirect response, with the small HTML page Werkzeug sends.

        The arguments are Werkzeug's signature (a request, or the server's
        environ/scope as keywords) and are not used: the answer depends on the
        error alone.
        """
        from kettle.http.response import Response

        location = escape(self.new_url)
        body = (
            "<!doctype html>\n<html lang=en>\n<title>Redirecting...</title>\n"
            "<h1>Redirecting...</h1>\n"
            "<p>You should be redirected automatically to the target URL: "
            f'<a href="{location}">{location}</a>. If not, click the link.\n'
        )
        headers = [("Location", self.new_url), ("Content-Type", "text/html; charset=utf-8")]
        return Response(body, self.code, headers)


class RequestPath(RoutingException):
    """Internal: the path matches once changed (a slash added or slashes merged)."""

    def __init__(self, path_info: str) -> None:
        super().__init__(path_info)
        self.path_info = path_info


class RequestAliasRedirect(RoutingException):
    """Internal: an alias rule matched; redirect to the endpoint's canonical URL."""

    def __init__(self, matched_values: Mapping[str, Any], endpoint: Any) -> None:
        super().__init__(matched_values, endpoint)
        self.matched_values = matched_values
        self.endpoint = endpoint


class NoMatch(RoutingException):
    """Internal: no rule matched; says which methods would have, and if a protocol would."""

    def __init__(self, have_match_for: set[str], websocket_mismatch: bool) -> None:
        super().__init__(have_match_for, websocket_mismatch)
        self.have_match_for = have_match_for
        self.websocket_mismatch = websocket_mismatch


class WebsocketMismatch(BadRequest):
    """400: the only matching rule is a WebSocket rule and this is HTTP, or the reverse."""


class BuildError(RoutingException, LookupError):
    """No rule of the endpoint can be built from the values given.

    ``str()`` names the missing values or suggests the closest endpoint, as
    Werkzeug's does, so a typo in ``url_for`` is quick to find.
    """

    def __init__(
        self,
        endpoint: Any,
        values: Mapping[str, Any],
        method: str | None,
        adapter: MapAdapter | None = None,
    ) -> None:
        super().__init__(endpoint, values, method)
        self.endpoint = endpoint
        self.values = values
        self.method = method
        self.adapter = adapter
        self._suggested: tuple[Rule | None] | None = None

    @property
    def suggested(self) -> Rule | None:
        """The rule closest to what was asked for, or None."""
        if self._suggested is None:
            self._suggested = (self.closest_rule(self.adapter),)
        return self._suggested[0]

    def closest_rule(self, adapter: MapAdapter | None) -> Rule | None:
        """Return the rule whose endpoint, arguments and methods best fit the request."""
        if adapter is None:
            return None
        rules = list(adapter.map.iter_rules())
        if not rules:
            return None
        wanted = str(self.endpoint)
        given = set(self.values or ())

        def score(rule: Rule) -> float:
            # The endpoint name dominates; arguments and method only break ties.
            similarity = difflib.SequenceMatcher(None, str(rule.endpoint), wanted).ratio()
            has_values = given.issubset(rule.arguments)
            has_method = bool(rule.methods and self.method in rule.methods)
            return 0.98 * similarity + 0.01 * has_values + 0.01 * has_method

        return max(rules, key=score)

    def __str__(self) -> str:
        message = [f"Could not build url for endpoint {self.endpoint!r}"]
        if self.method:
            message.append(f" ({self.method!r})")
        if self.values:
            message.append(f" with values {sorted(self.values)!r}")
        message.append(".")
        suggested = self.suggested
        if suggested is not None:
            if suggested.endpoint == self.endpoint:
                if (
                    self.method
                    and suggested.methods is not None
                    and self.method not in suggested.methods
                ):
                    message.append(f" Did you mean to use methods {sorted(suggested.methods)!r}?")
                needed = suggested.arguments.union(suggested.defaults or ())
                missing = needed - set(self.values)
                if missing:
                    message.append(f" Did you forget to specify values {sorted(missing)!r}?")
            else:
                message.append(f" Did you mean {suggested.endpoint!r} instead?")
        return "".join(message)
