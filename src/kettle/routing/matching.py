"""Matching a request against a Map, from plain values: its subdomain, its redirects.

The rules of a map with subdomains are matched, and their URLs built,
against the part of the request's host in front of SERVER_NAME
(``request_subdomain``). The pipeline matches without the host when routing
does not depend on it (the common case, nothing to parse); a strict-slash
redirect, which needs the absolute URL, is matched again with the host,
scheme, root path and query string (``match_redirect``), asked for only then.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kettle.routing.map import Map

#: The module the server-name warning is attributed to (None: the caller's);
#: Flask compatibility mode sets "flask.app", where Flask's comes from.
WARNING_MODULE: str | None = None


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
    message = f"Current server name {host!r} doesn't match configured server name {server_name!r}"
    if WARNING_MODULE is None:
        warnings.warn(message, stacklevel=3)
    else:
        warnings.warn_explicit(message, UserWarning, __file__, 0, module=WARNING_MODULE)
    return "<invalid>"


def match_redirect(
    url_map: Map,
    path: str,
    method: str,
    *,
    host: str,
    scheme: str,
    script_name: str,
    query_string: str,
    subdomain: str | None,
    websocket: bool,
) -> None:
    """Match again a request whose first match (without its host) was a redirect.

    The first match leaves the host out when routing does not depend on it
    (nothing to parse on the common path); a strict-slash redirect needs the
    absolute URL, so it is matched again with every part of it: this raises
    the ``RequestRedirect`` to send.
    """
    url_map.match(
        path,
        method,
        host=host,
        scheme=scheme,
        script_name=script_name,
        query_string=query_string,
        subdomain=subdomain,
        websocket=websocket,
    )
