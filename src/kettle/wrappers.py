"""The Request and Response classes an app uses, with Flask's app-aware additions.

``kettle.http`` holds the protocol-free classes; these add what depends on
the application (the matched rule, the endpoint and blueprint, limits read
from the config) and what depends on the server: the raw WSGI ``environ`` or
ASGI ``scope`` the adapter built the request from, kept here, outside the
sans-IO core, because Flask's API exposes ``request.environ``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, cast

from kettle.adapters.environ import environ_from_scope
from kettle.ctx import _cv_get
from kettle.http._layout import REQUEST_ATTRIBUTES
from kettle.http._lazy import cached_property
from kettle.http.exceptions import BadRequest, HTTPException
from kettle.http.headervalues import join_content_length
from kettle.http.request import Request as _HTTPRequest
from kettle.http.request import parse_content_length
from kettle.http.response import Response as _HTTPResponse

if TYPE_CHECKING:
    from kettle.http.headers import Headers
    from kettle.routing import Rule
    from kettle.typing import Scope, WSGIEnvironment

_URLENCODED = "application/x-www-form-urlencoded"
_URLENCODED_BYTES = _URLENCODED.encode()
_LENGTH = b"content-length"

#: The form limits outside an app context: Werkzeug's defaults, as Flask's request.
_OUTSIDE_APP = {
    "MAX_CONTENT_LENGTH": None,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
}
_Limits = tuple[int | None, int | None, int | None]
#: ``_form_limits`` outside an app context.
_OUTSIDE_APP_LIMITS: _Limits = (None, 500_000, 1_000)
#: The form limits last read from a config, with that config's version (one entry, replaced
#: whole: a reader sees an old pair or a new one, never half of each).
_kept_limits: list[tuple[int, _Limits]] = [(-1, _OUTSIDE_APP_LIMITS)]


def environ_of_scope(request: Request) -> WSGIEnvironment:
    """``request.environ`` for a request without one: built from its ASGI scope, else empty."""
    scope = request.scope
    if scope is None:
        return {}
    return environ_from_scope(
        scope,
        request.method,
        request.scheme,
        request.root_path,
        request.path,
        request.query_string,
    )


class Request(_HTTPRequest):
    """The request object of a Kettle app (``kettle.request``)."""

    #: The rule that matched, or None before matching or when nothing matched.
    url_rule: Rule | None = None
    #: The URL values of the matched rule.
    view_args: dict[str, Any] | None = None
    #: The routing error (404, 405, redirect) raised when the view is dispatched.
    routing_exception: HTTPException | None = None
    _max_content_length: int | None = None
    _max_form_memory_size: int | None = None
    _max_form_parts: int | None = None
    #: The limit properties below and ``_form_limits`` read the same values.
    _keeps_form_hooks = True

    #: The ASGI scope the request came from (None under WSGI); set by the ASGI adapter.
    scope: Scope | None = None
    #: The Cookie field(s) of ``scope`` (joined by ``"; "``), as the ASGI adapter read
    #: them when it set ``scope``; False when it found none (``cookie_header`` then
    #: scans the scope, which finds none, or finds those of a scope set by hand).
    scope_cookie_header: str | Literal[False] = False
    #: The first Content-Type field of ``scope`` (its bytes, decoded when read), as the ASGI
    #: adapter read it when it set ``scope``; False when it found none (``content_type``
    #: then scans the scope, which finds none, or finds that of a scope set by hand).
    scope_content_type: bytes | Literal[False] = False
    #: The Content-Length the ASGI adapter read from ``scope`` (``set_content_length``);
    #: False when it handed none over (``content_length`` then scans the scope).
    scope_content_length: int | Literal[False] | None = False
    #: The names ``settle_layout`` puts in the instances' layout: the core's, and these.
    _layout_attributes = (
        *REQUEST_ATTRIBUTES,
        *("environ", "scope", "scope_content_type", "scope_content_length"),
        "scope_cookie_header",
    )

    @cached_property
    def environ(self) -> WSGIEnvironment:
        """The WSGI environ the request came from, as Flask's.

        The WSGI adapter sets it. Under ASGI it is built on first read, as a WSGI
        server would have given it (``kettle.adapters.environ.environ_from_scope``:
        no ``wsgi.input``); a request made without either is given an empty dict.
        """
        return environ_of_scope(self)

    @property
    def cookie_header(self) -> str | None:
        """The raw Cookie header (several joined by ``"; "``), read without building ``headers``.

        One dict lookup under WSGI; under ASGI the value the adapter handed over
        (``scope_cookie_header``), else a scan of the scope's byte pairs; once
        the headers are built, from them (the same join).
        """
        state = self.__dict__  # One read: a generic attribute lookup on Python 3.11.
        if "headers" not in state:
            # The scope first: under ASGI ``environ`` is an empty dict once something read it.
            if self.scope is not None:
                raw = self.scope_cookie_header
                if raw is not False:
                    return raw
                found: str | None = None  # None came, or the scope was set by hand.
                for name, value in self.scope["headers"]:
                    if name == b"cookie":
                        text = value.decode("latin-1")
                        found = text if found is None else f"{found}; {text}"
                return found
            environ = state.get("environ")
            if environ is not None:
                return environ.get("HTTP_COOKIE")  # type: ignore[no-any-return]
        return super().cookie_header

    @property
    def content_type(self) -> str | None:
        """The Content-Type header, read without building ``headers`` while they are not.

        A form needs it (and the Content-Length) and nothing else of the
        headers: one dict lookup under WSGI, a scan of the scope's byte pairs
        under ASGI, as ``cookie_header``.
        """
        if "headers" not in self.__dict__:
            if self.scope is not None:
                kind = self.scope_content_type
                if kind is not False:
                    return kind.decode("latin-1")
                return _scope_header(self.scope, b"content-type")
            environ = self.__dict__.get("environ")
            if environ is not None:
                return environ.get("CONTENT_TYPE") or None
        return super().content_type

    @cached_property
    def content_length(self) -> int | None:
        """The Content-Length as an int (None when absent or invalid), read as ``content_type``."""
        if "headers" not in self.__dict__:
            if self.scope is not None:
                handed = self.scope_content_length
                if handed is not False:  # The adapter read it.
                    return handed
                # Every field (a repeated one may differ: a 400), not the first.
                raw = [v.decode("latin-1") for k, v in self.scope["headers"] if k == _LENGTH]
                return parse_content_length(join_content_length(raw))
            environ = self.__dict__.get("environ")
            if environ is not None:
                return parse_content_length(environ.get("CONTENT_LENGTH") or None)
        return super().content_length

    def set_content_length(self, length: int | None) -> None:
        """Give the request the Content-Length its adapter read (for adapters), not read again.

        Kept as ``scope_content_length``, which ``content_length`` and the form
        read: a class with another ``content_length`` (one assigned on it later
        too) never sees it, with no test of the class here.
        """
        self.scope_content_length = length

    def _urlencoded_length(self) -> int | None:
        """``request.form``'s question, Content-Type and Content-Length in one scan (or lookup).

        The same answer as the properties above give, read without building
        ``headers`` and without the two property calls: one pass over the
        scope's byte pairs under ASGI (the first Content-Type, as
        ``_scope_header``, and every Content-Length), two dict lookups under
        WSGI. The properties answer once ``headers`` was read; under ASGI the
        Content-Type and Content-Length the adapter handed over
        (``scope_content_type``, ``set_content_length``) are the ones kept, and
        no scan is made when it handed over both. ``form`` calls it only while the
        class keeps both properties (``kettle.http._request_params.form_hooks``).
        """
        cached = self.__dict__
        if "headers" not in cached:
            length: int | None = None
            scope = self.scope
            if scope is not None:
                given = cached.get("content_length", self.scope_content_length)
                known = given is not False
                handed = self.scope_content_type
                if handed is not False and known:  # The ASGI adapter read both: no scan.
                    return given if handed == _URLENCODED_BYTES else None
                # A scope the adapter did not read (set by hand): one pass for the first
                # Content-Type and, unless the adapter handed it over, every Content-Length.
                kind = raw = None
                for name, value in scope["headers"]:
                    if name == b"content-type":
                        kind = value if kind is None else kind
                    elif name == _LENGTH and not known:  # Every field, joined: they may differ.
                        text = value.decode("latin-1")
                        raw = text if raw is None else f"{raw}, {text}"
                if kind == _URLENCODED_BYTES:
                    if known:
                        return given
                    length = cached["content_length"] = parse_content_length(raw)
                return length
            environ = cached.get("environ")
            if environ is not None and "content_length" not in cached:
                if environ.get("CONTENT_TYPE") == _URLENCODED:
                    raw = environ.get("CONTENT_LENGTH") or None
                    length = cached["content_length"] = parse_content_length(raw)
                return length
        return super()._urlencoded_length()

    @property
    def server(self) -> tuple[str, int | None] | None:
        """The address the server listens on, ``(host, port)``, or None if unknown.

        As Werkzeug's: from the ASGI scope, or from the WSGI environ's
        ``SERVER_NAME`` / ``SERVER_PORT`` (read on first use).
        """
        server = self._server
        if server is None:
            scope = self.scope
            if scope is not None:
                address = scope.get("server")
                if address:
                    server = self._server = (address[0], address[1])
            elif "environ" in self.__dict__:
                from kettle.adapters.wsgi import server_from_environ

                server = self._server = server_from_environ(self.__dict__["environ"])
        return server

    @server.setter
    def server(self, value: tuple[str, int | None] | None) -> None:
        self._server = value

    #: The adapters pass no headers factory and no address: ``_build_headers`` and
    #: ``remote_addr`` read the scope or the environ the request keeps.
    reads_kept_source = True

    @cached_property
    def remote_addr(self) -> str | None:
        """The client's address: the ASGI scope's ``client`` host or the environ's ``REMOTE_ADDR``.

        Read on first use, as ``server`` (most requests never ask); assigning it
        overrides it, as before.
        """
        scope = self.scope
        if scope is not None:
            client = scope.get("client")
            return client[0] if client else None
        address: str | None = self.environ.get("REMOTE_ADDR")
        return address

    def _build_headers(self) -> Headers:
        """The headers from the ASGI scope or WSGI environ the request keeps (else none)."""
        scope = self.scope
        if scope is not None:
            from kettle.adapters.asgi_request import headers_from_scope

            return headers_from_scope(scope)
        environ = self.__dict__.get("environ")
        if environ is None:
            return super()._build_headers()
        from kettle.adapters.wsgi import headers_from_environ

        return headers_from_environ(environ)

    @classmethod
    def from_values(cls, *args: Any, **kwargs: Any) -> Request:
        """A request built from :class:`~kettle.adapters.environ.EnvironBuilder` arguments.

        Werkzeug's ``Request.from_values``: ``Request.from_values("/p?x=1", method="POST",
        data={"a": "b"})``; the first argument is the path, as in Werkzeug.
        """
        from kettle.adapters.environ import EnvironBuilder

        builder = EnvironBuilder(None, *args, **kwargs)
        try:
            return cast(Request, builder.get_request(cls))
        finally:
            builder.close()

    @property
    def endpoint(self) -> str | None:
        """The endpoint of the matched rule."""
        return self.url_rule.endpoint if self.url_rule is not None else None

    @property
    def blueprint(self) -> str | None:
        """The dotted name of the blueprint of the matched endpoint, if any."""
        endpoint = self.endpoint
        if endpoint is not None and "." in endpoint:
            return endpoint.rpartition(".")[0]
        return None

    @property
    def blueprints(self) -> list[str]:
        """The blueprint and its parents, innermost first."""
        name = self.blueprint
        if name is None:
            return []
        parts = name.split(".")
        return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]

    def _config(self, key: str) -> Any:
        ctx = _cv_get(None)
        return ctx.app.config[key] if ctx is not None else _OUTSIDE_APP.get(key)

    @property
    def max_content_length(self) -> int | None:
        """The body limit in bytes: set per request, else MAX_CONTENT_LENGTH."""
        if self._max_content_length is not None:
            return self._max_content_length
        return self._config("MAX_CONTENT_LENGTH")  # type: ignore[no-any-return]

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    def _form_limits(self) -> tuple[int | None, int | None, int | None]:
        """The three body limits of a form, as the properties below give them, in one call.

        The config's three values are kept with the config's version (unique
        across configs, changed by every write: ``kettle.config.Config``), so
        a form reads them once per config change, not three dict lookups per
        request; a config that is not a ``Config`` (no version) is read each time.
        Called only while the class keeps the limit properties and ``_config``
        (``kettle.http._request_params.form_hooks``).
        """
        ctx = _cv_get(None)
        if ctx is None:
            limits = _OUTSIDE_APP_LIMITS
        else:
            config: Mapping[str, Any] = ctx.app.config
            try:
                version: int | None = config._version  # type: ignore[attr-defined]
            except AttributeError:  # A plain dict put in place of the Config.
                version = None
            kept = _kept_limits[0]
            if kept[0] == version:
                limits = kept[1]
            else:
                limits = (
                    config["MAX_CONTENT_LENGTH"],
                    config["MAX_FORM_MEMORY_SIZE"],
                    config["MAX_FORM_PARTS"],
                )
                if version is not None:
                    _kept_limits[0] = (version, limits)
        content = self._max_content_length
        memory = self._max_form_memory_size
        parts = self._max_form_parts
        if content is None and memory is None and parts is None:
            return limits
        return (
            limits[0] if content is None else content,
            limits[1] if memory is None else memory,
            limits[2] if parts is None else parts,
        )

    def _load_form_data(self) -> None:
        super()._load_form_data()
        ctx = _cv_get(None)
        if ctx is None or not ctx.app.debug:
            return
        files = self.__dict__["files"]
        if files or self.mimetype == "multipart/form-data":
            return
        # Debug mode only, as Flask: say why a file is missing from a form without enctype.
        from kettle.debug import _EnctypeErrorFiles

        if type(files) is not _EnctypeErrorFiles:
            self.__dict__["files"] = _EnctypeErrorFiles(self)

    @property
    def max_form_memory_size(self) -> int | None:
        """The limit for non-file form data: per request, else MAX_FORM_MEMORY_SIZE."""
        if self._max_form_memory_size is not None:
            return self._max_form_memory_size
        return self._config("MAX_FORM_MEMORY_SIZE")  # type: ignore[no-any-return]

    @max_form_memory_size.setter
    def max_form_memory_size(self, value: int | None) -> None:
        self._max_form_memory_size = value

    @property
    def max_form_parts(self) -> int | None:
        """The limit on multipart parts: per request, else MAX_FORM_PARTS."""
        if self._max_form_parts is not None:
            return self._max_form_parts
        return self._config("MAX_FORM_PARTS")  # type: ignore[no-any-return]

    @max_form_parts.setter
    def max_form_parts(self, value: int | None) -> None:
        self._max_form_parts = value

    def _json_loads(self, data: bytes) -> Any:  # type: ignore[override]
        # As Flask, request JSON is decoded by the app's provider, ``app.json``.
        ctx = _cv_get(None)
        if ctx is None:
            return _HTTPRequest._json_loads(data)
        return ctx.app.json.loads(data)

    def on_json_loading_failed(self, error: ValueError | None) -> Any:
        """Raise 400 (415 when the body is not JSON); the decoder's message only in debug.

        As Flask: outside debug mode the 400 is a plain Bad Request, so parser
        details do not leak to clients. Override to change either.
        """
        try:
            return super().on_json_loading_failed(error)
        except BadRequest as exc:
            ctx = _cv_get(None)
            if ctx is not None and ctx.app.debug:
                raise
            raise BadRequest() from exc


class Response(_HTTPResponse):
    """The response object of a Kettle app: HTML by default, UTF-8."""

    default_mimetype = "text/html"

    def make_conditional(
        self,
        request_or_environ: _HTTPRequest | WSGIEnvironment,
        accept_ranges: bool | str = False,
        complete_length: int | None = None,
    ) -> Response:
        """Answer a GET/HEAD conditionally (304/412, 206/416), as Flask's.

        Takes a request or, as Flask does, a WSGI environ, which is turned into
        a request here so the core only ever sees requests.
        """
        request = request_or_environ
        if isinstance(request, Mapping):
            from kettle.adapters.wsgi import build_request

            request = build_request(_HTTPRequest, request)
        super().make_conditional(request, accept_ranges, complete_length)
        return self

    def __enter__(self) -> Response:
        """``with client.get(url) as response:`` closes the response (its file) at the end."""
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def max_cookie_size(self) -> int:
        """MAX_COOKIE_SIZE of the current app (4093 outside one)."""
        ctx = _cv_get(None)
        return int(ctx.app.config["MAX_COOKIE_SIZE"]) if ctx is not None else 4093


def _scope_header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower-case bytes) in an ASGI scope, or None."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None
