"""The 404s nothing observes, remembered by path: the adapters answer them before a request exists.

Browsers and crawlers ask for the same missing paths over and over
(``/favicon.ico``, ``/robots.txt``, ``/apple-touch-icon.png``, ``/.env``).
When the lifecycle answered one with its bare page (the shortcut of
``lifecycle_plan.unobserved_routing_answer``: nothing would have seen it), it
tells the adapter, which notes the path the first time (``first_miss``) and,
the next time, keeps what it sends in a bounded dict, by path (``keep``),
with what else the answer depended on: the request's Host and method, as the
adapter reads them, and the app's state (``stamp``). A later request for
that path is answered from it by ``remembered`` when:

- its Host and method are the entry's, and it sends no Cookie (a session
  may be refreshed on a 404) and the test client does not keep its context
  (the adapter checks these two before it looks);
- the app would match it as it did: the same URL map with the same rules
  (``Map.plain_static`` is a new dict after every ``add`` and ``update``),
  no host or subdomain routing, the same config (``Config._version``
  numbers its changes), the same request class; the Host still trusted
  (``TRUSTED_HOSTS`` read with the config; a list changed in place is read
  again);
- nothing observes a routing error now (``lifecycle_plan.lifecycle_unobserved``:
  the registries, receivers and DEBUG read on every request, no cache that
  can go stale, so a hook, handler or receiver added since sees the next 404).

Only what cannot differ is remembered: a ``NotFound`` (never a 405, a
redirect or a bad Host), matched by Kettle's own ``Map`` with Kettle's own
converters (a custom converter runs user code), for a request class that
reads the request as Kettle's does (``plain_request_class``). A request the
memo cannot answer goes the whole way, as before. At most ``LIMIT`` paths of
at most ``LONGEST`` characters are kept (noted paths among them); a full memo
is emptied, so a client sending new paths costs a bounded amount of memory
and a note per request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kettle.http._watched import versioned_fact
from kettle.http.exceptions import NotFound
from kettle.http.hosts import host_is_trusted
from kettle.http.request import Request as _Request
from kettle.lifecycle_plan import lifecycle_unobserved
from kettle.routing.map import Map

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.ctx import RequestContext
    from kettle.http.response import Response

#: The most paths one memo keeps (each adapter of each app has its own).
LIMIT = 256
#: The longest path (and Host) kept: the common missing paths are short, and the
#: memo's size stays bounded whatever a client sends.
LONGEST = 256

#: An entry: the request's Host and method (as the adapter reads them), the stamp
#: (``stamp``) and the adapter's answer.
Entry = tuple[Any, Any, Any, int, type, Any, str, Any]

#: What building, matching and closing a request reads or calls: a request class
#: (below Kettle's ``Request``) that defines none of them reads the request's fields
#: as Kettle's does, so its match is the same for the same fields.
_REQUEST_HOOKS = frozenset(
    {
        *("method", "path", "scheme", "root_path", "query_string", "headers", "cookie_header"),
        *("host", "host_is_valid", "_check_host", "_host_header", "_checked_host", "server"),
        *("_server", "_headers_factory", "_build_headers", "_stream", "owns_stream", "close"),
        *("environ", "scope", "url_rule", "view_args", "routing_exception", "_form_loaded"),
        *("__getattribute__", "__getattr__", "__setattr__", "__del__"),
    }
)
#: Per request class: ``plain_request_class``'s answer, with the class's version.
_PLAIN_CLASSES: dict[type, tuple[int, bool]] = {}


def plain_request_class(cls: type) -> bool:
    """True when building, matching and closing a ``cls`` runs only Kettle's code."""
    return versioned_fact(_PLAIN_CLASSES, cls, _runs_kettle_code)  # type: ignore[no-any-return]


def _runs_kettle_code(cls: type) -> bool:
    plain = bool(issubclass(cls, _Request) and cls.init_directly)
    for klass in cls.__mro__:
        if klass is _Request:
            break
        if klass.__module__.startswith("kettle."):
            continue  # Kettle's own (``kettle.wrappers.Request``) reads the same fields.
        if _REQUEST_HOOKS.intersection(klass.__dict__):
            plain = False
    return plain


def stamp(ctx: RequestContext, page: Response, path: str) -> tuple[Any, ...] | None:
    """What an entry for the request's 404 is kept with; None when it may not be kept.

    ``(plain_static, config version, request class, TRUSTED_HOSTS, host)``,
    for the ``page`` the lifecycle answered a ``NotFound`` with, nothing
    observing it (``unobserved_routing_answer``), when nothing in the match
    could make the same request's answer differ (see the module).
    """
    app = ctx.app
    request = ctx.request
    url_map = app.url_map
    request_class = app.request_class
    if (
        request.routing_exception.__class__ is not NotFound
        or page.status_code != 404
        or len(path) > LONGEST
        or url_map.__class__ is not Map
        or not url_map.only_builtin_converters
        or url_map.host_matching
        or url_map.default_subdomain
        or app.subdomain_matching
        or request.__class__ is not request_class
        or not plain_request_class(request_class)
    ):
        return None
    host = request.host
    if not host or len(host) > LONGEST:
        return None
    config = app.config
    return (url_map.plain_static, config._version, request_class, config["TRUSTED_HOSTS"], host)


#: A memo: path -> its entry, or None for a path seen missing once (kept when it comes again).
Memo = dict[Any, "Entry | None"]


def new_memo() -> Memo:
    """An empty memo (a dict keeps its paths in the order they came: the oldest is first)."""
    return {}


def first_miss(memo: Memo, path: str) -> bool:
    """True, noting ``path``, the first time its 404 could be kept: it is kept the next time.

    A client sending a new path each time then costs a note, not an entry (the
    check and the page made into an answer, about 15,000 instructions).
    """
    if path in memo:
        return False
    keep(memo, path, None)
    return True


def keep(memo: Memo, path: str, entry: Entry | None) -> None:
    """Remember ``entry`` for ``path``; at ``LIMIT`` paths, forget them all first.

    Emptied rather than the oldest dropped: the first key of a dict popped at
    the front is found past every emptied slot (about 5,000 instructions for
    each new path of a client sending new ones); the paths asked for again
    are noted and kept again on their next two requests.
    """
    if path not in memo and len(memo) >= LIMIT:
        memo.clear()
    memo[path] = entry


def remembered(app: Kettle, entry: Entry | None, host: Any, method: Any) -> Any:
    """The answer ``entry`` keeps, if the Host and method are its own and it holds; else None.

    ``host`` and ``method`` as the adapter reads them (the Host field's value, the
    method as the server gave it).
    """
    if entry is None:
        return None  # (A path seen missing once.)
    kept_host, kept_method, plain_static, version, request_class, trusted, checked, answer = entry
    url_map = app.url_map
    if (
        host != kept_host
        or method != kept_method
        or url_map.plain_static is not plain_static
        or app.config._version != version
        # (A request class changed in place after its 404 was kept is not asked again here
        # until the config changes: a check per request cost 8 % of this path.)
        or app.request_class is not request_class
        or url_map.host_matching
        or url_map.default_subdomain
        or app.subdomain_matching
        or (trusted and not host_is_trusted(checked, trusted))
        or not lifecycle_unobserved(app)
    ):
        return None
    return answer
