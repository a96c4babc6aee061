"""Matching a request against a Map, from plain values: its subdomain, its redirects.

The rules of a map with subdomains are matched, and their URLs built,
against the part of the request's host in front of SERVER_NAME
(``request_subdomain``). ``match_request`` matches without the host when
routing does not depend on it (the common case, nothing to parse); a
strict-slash redirect, which needs the absolute URL, is matched again with
the host, scheme, root path and query string, asked for only then.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from kettle.routing.exceptions import RequestRedirect

if TYPE_CHECKING:
    from kettle.routing.map import Map
    from kettle.routing.rules import Rule

#: ``(host, scheme, script_name, query_string)`` of a request, for a redirect's URL.
RedirectBase = tuple[str, str, str, str]


def request_subdomain(
    url_map: Map,
    host: str,
    *,
    server_name: str | None,
    secure: bool,
    subdomain_matching: bool,
) -> str | None:
    """Return the subdomain of ``host`` under ``server_name`` for matching ``url_map``.

    None under host matching (the whole host is matched); the map's default
    subdomain without subdomain matching or without a SERVER_NAME; ``""`` for
    the server name itself; ``"<invalid>"`` (which no rule matches: a 404,
    with Werkzeug's warning) for a host outside it, often a request by IP.
    """
    if url_map.host_matching:
        return None
    if not subdomain_matching or not server_name:
        return url_map.default_subdomain or ""
    host = host.lower()
    # As request.host, without the scheme's default port ("example.com:443" on https).
    server_name = server_name.lower().removesuffix(":443" if secure else ":80")
    if host == server_name:
        return ""
    if host.endswith("." + server_name):
        return host[: -len(server_name) - 1]
    warnings.warn(
        f"Current server name {host!r} doesn't match configured server name {server_name!r}",
        stacklevel=3,
    )
    return "<invalid>"


def match_request(
    url_map: Map,
    path: str,
    method: str,
    *,
    host: str,
    subdomain: str | None,
    websocket: bool,
    redirect_base: Callable[[], RedirectBase],
) -> tuple[Rule, dict[str, Any]]:
    """Return ``(rule, view_args)``; raise the routing error (404, 405, a redirect...).

    ``redirect_base`` is called only for a redirect, to write its absolute URL.
    """
    try:
        return url_map.match(path, method, host, subdomain=subdomain, websocket=websocket)
    except RequestRedirect:
        full_host, scheme, script_name, query_string = redirect_base()
        return url_map.match(
            path,
            method,
            host=full_host,
            scheme=scheme,
            script_name=script_name,
            query_string=query_string,
            subdomain=subdomain,
            websocket=websocket,
        )
