"""The URL map: holds the rules, matches requests, builds URLs.

Two ways in:

* ``Map.match`` / ``Map.build`` / ``Map.allowed_methods``: the fast calls the
  app makes per request, with plain values (path, method, host, scheme, ...).
* ``Map.bind(...)`` returns a ``MapAdapter``, Werkzeug's API, for users and
  tests; the fast calls fall back to an adapter for the rare redirect cases.

The map compiles itself once (``update()``, also called ``freeze()``) on the
first match or build after a rule was added: a table of static paths and a
state machine for the rest (``matcher.py``). Compiling builds new objects and
swaps them in, so a concurrent first request sees the old or the new matcher,
never half of one.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from pprint import pformat
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlencode, urljoin

from kettle.http.exceptions import HTTPException, MethodNotAllowed, NotFound
from kettle.routing.converters import DEFAULT_CONVERTERS, PATH_SAFE, BaseConverter
from kettle.routing.exceptions import (
    BuildError,
    NoMatch,
    RequestAliasRedirect,
    RequestPath,
    RequestRedirect,
    RoutingException,
    WebsocketMismatch,
)
from kettle.routing.matcher import StateMachine, StaticTable
from kettle.routing.matcher import normalize_path as _normalize_path
from kettle.routing.rules import QUERY_SAFE, Rule, RuleFactory, _query_items
from kettle.routing.shapes import plain_resolver

__all__ = ["Map", "MapAdapter"]

_PLACEHOLDER_RE = re.compile(r"<([^>]+)>")

QueryArgs = Mapping[str, Any] | str


#: Kettle's converter classes: matching with them runs no user code.
_BUILTIN_CONVERTERS = frozenset(DEFAULT_CONVERTERS.values())


def no_match_error(error: NoMatch) -> HTTPException:
    """The HTTP error ``match`` raises for a NoMatch: 405 with the methods, 400/426, or 404."""
    if error.have_match_for:
        return MethodNotAllowed(valid_methods=sorted(error.have_match_for))
    if error.websocket_mismatch:
        return WebsocketMismatch()
    return NotFound()


def _clean_values(values: Mapping[str, Any] | None) -> dict[str, Any]:
    """Drop None values; a MultiDict gives single values, or lists when repeated."""
    if not values:
        return {}
    if type(values) is dict:
        return {key: value for key, value in values.items() if value is not None}
    getlist = getattr(values, "getlist", None)
    if callable(getlist):
        cleaned: dict[str, Any] = {}
        for key in values:
            items = getlist(key)
            if items:
                cleaned[key] = items[0] if len(items) == 1 else items
        return cleaned
    return {key: value for key, value in values.items() if value is not None}


def _server_name(host: str, subdomain: str | None) -> str:
    if subdomain and host.startswith(f"{subdomain}."):
        return host[len(subdomain) + 1 :]
    return host


def _plain_static(static: StaticTable) -> dict[str, dict[str, Rule]]:
    """``Map.plain_static`` from the static table: what ``Map.match`` answers without work."""
    table: dict[str, dict[str, Rule]] = {}
    for path, by_method in static.http.get("", {}).items():
        plain = {
            method: rule
            for method, rule in by_method.items()
            if method != "*" and rule._plain and not rule.defaults
        }
        if plain:
            table[path] = plain
    return table


class Map:
    """The rules of an app and the settings shared by all of them.

    Arguments are Werkzeug's ``Map``'s. ``converters`` adds to (or overrides)
    ``default_converters``; the dict stays editable as ``map.converters``.
    """

    default_converters: Mapping[str, type[BaseConverter]] = MappingProxyType(
        dict(DEFAULT_CONVERTERS)
    )
    #: True while every rule added uses Kettle's own converters: no user code runs
    #: in a match (the pipeline may then match before it pushes the context).
    #: False here, so a subclass that skips ``__init__`` is never taken for one.
    only_builtin_converters = False
    #: The answers of ``match`` that need no work, for a lookup without a call (the
    #: app's match reads it): by path and method, in the domain ``""`` (no subdomain),
    #: the rule of a static HTTP path that the method names, when it is plain (no
    #: redirect) and has no defaults, so that ``match`` would return it with empty
    #: values. Made by ``update()``, emptied by ``add()`` (a miss goes to ``match``,
    #: which compiles first).
    plain_static: Mapping[str, Mapping[str, Rule]] = MappingProxyType({})
    #: The matcher's ``resolve``, asked ``(path, method)`` (HTTP, domain ``""``; no plain rule
    #: is a redirecting alias) when ``match`` is Map's and every rule is plain, so that ``match``
    #: would pass its answer on: ``(rule, view_args)``, a NoMatch for ``no_match_error``, or a
    #: RoutingException (a redirect ``match`` writes). Set by ``update()``, None after ``add()``.
    plain_resolve: Callable[..., tuple[Rule, dict[str, Any]] | NoMatch] | None = None

    def __init__(
        self,
        rules: Iterable[RuleFactory] | None = None,
        default_subdomain: str = "",
        strict_slashes: bool = True,
        merge_slashes: bool = True,
        redirect_defaults: bool = True,
        converters: Mapping[str, type[BaseConverter]] | None = None,
        sort_parameters: bool = False,
        sort_key: Callable[[Any], Any] | None = None,
        host_matching: bool = False,
    ) -> None:
        self.default_subdomain = default_subdomain
        self.strict_slashes = strict_slashes
        self.merge_slashes = merge_slashes
        self.redirect_defaults = redirect_defaults
        self.host_matching = host_matching
        self.sort_parameters = sort_parameters
        self.sort_key = sort_key
        self.converters: dict[str, type[BaseConverter]] = dict(self.default_converters)
        if converters:
            self.converters.update(converters)
        self._rules: list[Rule] = []
        self._rules_by_endpoint: dict[Any, list[Rule]] = {}
        self._machine = StateMachine(merge_slashes)
        self._static = StaticTable(())
        self.plain_static: dict[str, dict[str, Rule]] = {}
        self.only_builtin_converters = True  # (See the class attribute.)
        self._dirty = True
        for rulefactory in rules or ():
            self.add(rulefactory)

    # -- the rules ---------------------------------------------------------

    def add(self, rulefactory: RuleFactory) -> None:
        """Bind and add a rule (or each rule of a factory)."""
        for rule in rulefactory.get_rules(self):
            rule.bind(self)
            if self.only_builtin_converters and any(
                type(conv) not in _BUILTIN_CONVERTERS for conv in rule._converters.values()
            ):
                self.only_builtin_converters = False
            self._rules.append(rule)
            self._rules_by_endpoint.setdefault(rule.endpoint, []).append(rule)
        self.plain_static = {}  # Until ``update()``: every lookup misses, ``match`` compiles.
        self.plain_resolve = None
        self._dirty = True

    def iter_rules(self, endpoint: Any | None = None) -> Iterator[Rule]:
        """Iterate over all rules (grouped by endpoint), or the rules of one endpoint."""
        self.update()
        if endpoint is not None:
            return iter(self._rules_by_endpoint[endpoint])
        return iter([rule for rules in self._rules_by_endpoint.values() for rule in rules])

    def is_endpoint_expecting(self, endpoint: Any, *arguments: str) -> bool:
        """Tell if some rule of the endpoint takes all these arguments."""
        self.update()
        wanted = set(arguments)
        return any(wanted.issubset(rule.arguments) for rule in self._rules_by_endpoint[endpoint])

    def update(self) -> None:
        """Compile the matcher if rules were added since the last time."""
        if not self._dirty:
            return
        for rules in self._rules_by_endpoint.values():
            if len(rules) > 1:
                rules.sort(key=Rule.build_compare_key)
        machine = StateMachine(self.merge_slashes)
        for rule in self._rules:
            if not rule.build_only:
                machine.add(rule)
        machine.finish()
        for rule in self._rules:
            self._prepare(rule)
        static = StaticTable(self._rules)
        self._machine, self._static = machine, static
        # (A subclass with its own ``match`` is asked every time: no table, no resolve.)
        own = type(self).match is Map.match
        self.plain_static = _plain_static(static) if own else {}
        plain = own and all(r._plain for r in self._rules)
        self.plain_resolve = plain_resolver(machine) if plain else None
        self._dirty = False

    freeze = update

    def _prepare(self, rule: Rule) -> None:
        """Precompute what a match of this rule needs, so the common case skips it."""
        rule._prepare_values()
        sources: list[Rule] = []
        if self.redirect_defaults:
            for other in self._rules_by_endpoint[rule.endpoint]:
                if other is rule:
                    break
                if other.provides_defaults_for(rule):
                    sources.append(other)
        rule._redirect_sources = tuple(sources)
        rule._plain = not (
            (rule.alias and self.redirect_defaults) or rule.redirect_to is not None or sources
        )

    # -- matching ------------------------------------------------------------

    def _resolve(
        self, domain: str, path: str, method: str, websocket: bool
    ) -> tuple[Rule, dict[str, Any]] | NoMatch:
        """Match and convert, or return the NoMatch; raise RequestPath or RequestAliasRedirect."""
        return self._machine.resolve(path, method, domain, websocket, self.redirect_defaults)

    def match(
        self,
        path: str,
        method: str,
        host: str = "",
        scheme: str = "http",
        script_name: str = "",
        query_string: str = "",
        subdomain: str | None = None,
        websocket: bool = False,
    ) -> tuple[Rule, dict[str, Any]]:
        """Return ``(rule, view_args)`` for a request; raise an HTTPException otherwise.

        ``path`` is the decoded path, ``method`` upper case, ``host`` the
        request's host (with port), ``script_name`` the mount point without a
        trailing slash. Raises ``NotFound``, ``MethodNotAllowed`` (with the
        sorted allowed methods), ``WebsocketMismatch`` or ``RequestRedirect``
        (absolute URL) for slashes, defaults, aliases and ``redirect_to``.
        """
        if self._dirty:
            self.update()
        if self.host_matching:
            domain = host.lower()
        else:
            domain = self.default_subdomain if subdomain is None else subdomain
        # The table's paths are normalized (see StaticTable): a hit needs no more.
        by_path = (self._static.websocket if websocket else self._static.http).get(domain)
        if by_path is not None:
            by_method = by_path.get(path)
            if by_method is not None:
                rule = by_method.get(method) or by_method.get("*")
                if rule is not None and rule._plain:
                    return rule, dict(rule.defaults) if rule.defaults else {}
        try:
            found = self._machine.resolve(path, method, domain, websocket, self.redirect_defaults)
        except RoutingException:
            pass  # a redirect: the adapter knows how to write its URL
        else:
            if found.__class__ is NoMatch:
                raise no_match_error(found)
            if found[0]._plain:  # type: ignore[index]
                return found  # type: ignore[return-value]
        adapter = self._adapter(host, script_name, subdomain, scheme, query_string)
        return adapter.match(path, method, return_rule=True, websocket=websocket)

    def allowed_methods(
        self, path: str, host: str = "", subdomain: str | None = None, websocket: bool = False
    ) -> list[str]:
        """Return the sorted methods some rule accepts for this path (for ``Allow``)."""
        try:
            self.match(path, "--", host=host, subdomain=subdomain, websocket=websocket)
        except MethodNotAllowed as error:
            return list(error.valid_methods or ())
        except HTTPException:
            pass
        return []

    # -- building ------------------------------------------------------------

    def _partial_build(
        self,
        endpoint: Any,
        values: Mapping[str, Any],
        method: str | None,
        append_unknown: bool,
        default_method: str,
        server_name: str,
    ) -> tuple[str, str, bool] | None:
        """Return ``(domain, path, websocket)`` of the first rule that builds, or None."""
        if method is None:
            found = self._partial_build(
                endpoint, values, default_method, append_unknown, default_method, server_name
            )
            if found is not None:
                return found
        first: tuple[str, str, bool] | None = None
        for rule in self._rules_by_endpoint.get(endpoint, ()):
            if not rule.suitable_for(values, method):
                continue
            built = rule.build(values, append_unknown)
            if built is None:
                continue
            if not self.host_matching or built[0] == server_name:
                return built[0], built[1], rule.websocket
            if first is None:
                # Under host matching prefer a rule for the current host.
                first = built[0], built[1], rule.websocket
        return first

    def build(
        self,
        endpoint: Any,
        values: Mapping[str, Any] | None = None,
        method: str | None = None,
        *,
        url_scheme: str = "http",
        host: str = "",
        script_name: str = "",
        force_external: bool = False,
        append_unknown: bool = True,
        subdomain: str | None = None,
    ) -> str:
        """Build the URL of an endpoint: ``/script/path?query``, or absolute when needed.

        The URL is absolute with ``force_external``, for WebSocket rules, and
        when the rule's host or subdomain is not the current one. Raises
        ``BuildError`` when no rule of the endpoint fits the values.
        """
        if self._dirty:
            self.update()
        cleaned = _clean_values(values)
        if self.host_matching:
            subdomain = None
            current = host.lower()
        else:
            current = subdomain = self.default_subdomain if subdomain is None else subdomain
        found = self._partial_build(endpoint, cleaned, method, append_unknown, "GET", current)
        if found is None:
            adapter = self._adapter(host, script_name, subdomain, url_scheme, None)
            raise BuildError(endpoint, cleaned, method, adapter)
        domain_part, path, websocket = found
        if not (force_external or websocket) and (
            domain_part == current or (self.host_matching and not domain_part)
        ):
            if path[1:2] == "/":
                # "//evil.test" would be a scheme-relative URL (another host):
                # one leading slash, as Werkzeug builds it.
                path = "/" + path.lstrip("/")
            return f"{script_name.rstrip('/')}{path}"
        adapter = self._adapter(host, script_name, subdomain, url_scheme, None)
        return adapter.build(endpoint, cleaned, method, force_external, append_unknown, url_scheme)

    # -- adapters --------------------------------------------------------------

    def bind(
        self,
        server_name: str,
        script_name: str | None = None,
        subdomain: str | None = None,
        url_scheme: str = "http",
        default_method: str = "GET",
        path_info: str | None = None,
        query_args: QueryArgs | None = None,
    ) -> MapAdapter:
        """Return a ``MapAdapter`` for one server name, script name and subdomain."""
        server_name = server_name.lower()
        if self.host_matching:
            if subdomain is not None:
                raise RuntimeError("host matching enabled and a subdomain was provided")
        elif subdomain is None:
            subdomain = self.default_subdomain
        name, separator, port = server_name.partition(":")
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            from kettle.http.exceptions import BadHost

            raise BadHost() from None
        return MapAdapter(
            self,
            f"{name}{separator}{port}",
            "/" if script_name is None else script_name,
            subdomain,
            url_scheme,
            "/" if path_info is None else path_info,
            default_method,
            query_args,
        )

    def _adapter(
        self,
        host: str,
        script_name: str,
        subdomain: str | None,
        scheme: str,
        query_string: str | None,
    ) -> MapAdapter:
        if not self.host_matching and subdomain is None:
            subdomain = self.default_subdomain
        server_name = host.lower() if self.host_matching else _server_name(host, subdomain)
        return MapAdapter(
            self, server_name, script_name, subdomain, scheme, "/", "GET", query_string or None
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}({pformat(list(self.iter_rules()))})"


class MapAdapter:
    """A map bound to one server: Werkzeug's ``match`` / ``build`` API."""

    def __init__(
        self,
        map: Map,
        server_name: str,
        script_name: str,
        subdomain: str | None,
        url_scheme: str,
        path_info: str,
        default_method: str,
        query_args: QueryArgs | None = None,
    ) -> None:
        self.map = map
        self.server_name = server_name
        self.script_name = script_name if script_name.endswith("/") else f"{script_name}/"
        self.subdomain = subdomain
        self.url_scheme = url_scheme
        self.path_info = path_info
        self.default_method = default_method
        self.query_args = query_args
        self.websocket = url_scheme in {"ws", "wss"}

    def match(
        self,
        path_info: str | None = None,
        method: str | None = None,
        return_rule: bool = False,
        query_args: QueryArgs | None = None,
        websocket: bool | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        """Return ``(endpoint, values)`` (``(rule, values)`` with ``return_rule``).

        Raises ``NotFound``, ``MethodNotAllowed``, ``WebsocketMismatch`` or
        ``RequestRedirect`` as Werkzeug's does.
        """
        self.map.update()
        path = _normalize_path(self.path_info if path_info is None else path_info)
        if query_args is None:
            query_args = self.query_args or {}
        method = (method or self.default_method).upper()
        if websocket is None:
            websocket = self.websocket
        if self.map.host_matching or self.subdomain is None:
            domain = self.server_name
        else:
            domain = self.subdomain
        try:
            found = self.map._resolve(domain, path, method, websocket)
        except RequestPath as request:
            new_path = quote(request.path_info, safe=PATH_SAFE, errors="replace")
            raise RequestRedirect(self.make_redirect_url(new_path, query_args)) from None
        except RequestAliasRedirect as alias:
            url = self.build(
                alias.endpoint, alias.matched_values, method, True, append_unknown=False
            )
            if query_args:
                url = f"{url}?{self.encode_query_args(query_args)}"
            raise RequestRedirect(url) from None
        if isinstance(found, NoMatch):
            raise no_match_error(found)
        rule, args = found
        if self.map.redirect_defaults:
            redirect_url = self.get_default_redirect(rule, method, args, query_args)
            if redirect_url is not None:
                raise RequestRedirect(redirect_url)
        if rule.redirect_to is not None:
            raise RequestRedirect(self._redirect_to(rule, args))
        return (rule if return_rule else rule.endpoint), args

    def _redirect_to(self, rule: Rule, args: dict[str, Any]) -> str:
        target = rule.redirect_to
        if isinstance(target, str):

            def fill(placeholder: re.Match[str]) -> str:
                name = placeholder.group(1)
                return rule._converters[name].to_url(args[name])

            url = _PLACEHOLDER_RE.sub(fill, target)
        else:
            url = target(self, **args)  # type: ignore[misc]
        netloc = f"{self.subdomain}.{self.server_name}" if self.subdomain else self.server_name
        return urljoin(f"{self.url_scheme or 'http'}://{netloc}{self.script_name}", url)

    def test(self, path_info: str | None = None, method: str | None = None) -> bool:
        """Tell if the path matches (a redirect counts as a match)."""
        try:
            self.match(path_info, method)
        except RequestRedirect:
            pass
        except HTTPException:
            return False
        return True

    def allowed_methods(self, path_info: str | None = None) -> list[str]:
        """Return the sorted methods some rule accepts for the path."""
        try:
            self.match(path_info, method="--")
        except MethodNotAllowed as error:
            return list(error.valid_methods or ())
        except HTTPException:
            pass
        return []

    def get_host(self, domain_part: str | None) -> str:
        """Return the host for a rule's domain part (its subdomain, or its host)."""
        if self.map.host_matching:
            return domain_part or self.server_name
        subdomain = self.subdomain if domain_part is None else domain_part
        return f"{subdomain}.{self.server_name}" if subdomain else self.server_name

    def get_default_redirect(
        self, rule: Rule, method: str, values: dict[str, Any], query_args: QueryArgs
    ) -> str | None:
        """Return the canonical URL when a rule with defaults covers these values."""
        for source in rule._redirect_sources:
            if source.suitable_for(values, method):
                values.update(source.defaults or {})
                built = source.build(values)
                if built is None:
                    continue
                domain_part, path = built
                return self.make_redirect_url(path, query_args, domain_part=domain_part)
        return None

    def encode_query_args(self, query_args: QueryArgs) -> str:
        """Return the query string: a str as it is, a mapping URL-encoded."""
        if isinstance(query_args, str):
            return query_args
        return urlencode(_query_items(query_args, set()), safe=QUERY_SAFE)

    def make_redirect_url(
        self, path_info: str, query_args: QueryArgs | None = None, domain_part: str | None = None
    ) -> str:
        """Return the absolute URL of a path on this server, with the query."""
        if query_args is None:
            query_args = self.query_args
        query = f"?{self.encode_query_args(query_args)}" if query_args else ""
        scheme = self.url_scheme or "http"
        path = "/".join((self.script_name.strip("/"), path_info.lstrip("/"))).lstrip("/")
        return f"{scheme}://{self.get_host(domain_part)}/{path}{query}"

    def build(
        self,
        endpoint: Any,
        values: Mapping[str, Any] | None = None,
        method: str | None = None,
        force_external: bool = False,
        append_unknown: bool = True,
        url_scheme: str | None = None,
    ) -> str:
        """Build the URL of an endpoint; unknown values become the query string."""
        self.map.update()
        cleaned = _clean_values(values)
        found = self.map._partial_build(
            endpoint, cleaned, method, append_unknown, self.default_method, self.server_name
        )
        if found is None:
            raise BuildError(endpoint, cleaned, method, self)
        domain_part, path, websocket = found
        host = self.get_host(domain_part)
        if url_scheme is None:
            url_scheme = self.url_scheme
        secure = url_scheme in {"https", "wss"}
        if websocket:
            # Browsers need an absolute ws:// URL for a WebSocket.
            force_external = True
            url_scheme = "wss" if secure else "ws"
        elif url_scheme:
            url_scheme = "https" if secure else "http"
        if not force_external and (
            (self.map.host_matching and host == self.server_name)
            or (not self.map.host_matching and domain_part == (self.subdomain or ""))
        ):
            return f"{self.script_name.rstrip('/')}/{path.lstrip('/')}"
        scheme = f"{url_scheme}:" if url_scheme else ""
        return f"{scheme}//{host}{self.script_name.rstrip('/')}/{path.lstrip('/')}"
