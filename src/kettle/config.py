"""``app.config``: a dict with Flask's keys and defaults, and its loaders."""

from __future__ import annotations

import errno
import itertools
import json
import os
import types
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import IO, Any

#: Flask's default configuration, with Kettle's safer choices where marked.
DEFAULT_CONFIG: dict[str, Any] = {
    "DEBUG": None,
    "TESTING": False,
    "PROPAGATE_EXCEPTIONS": None,
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": None,
    "PERMANENT_SESSION_LIFETIME": timedelta(days=31),
    "USE_X_SENDFILE": False,
    "TRUSTED_HOSTS": None,
    "SERVER_NAME": None,
    "APPLICATION_ROOT": "/",
    "SESSION_COOKIE_NAME": "session",
    "SESSION_COOKIE_DOMAIN": None,
    "SESSION_COOKIE_PATH": None,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_PARTITIONED": False,
    # Kettle: Lax by default (Flask: None), a CSRF defence that costs nothing.
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_REFRESH_EACH_REQUEST": True,
    # Kettle: a finite body limit by default (Flask: None). 16 MiB holds any
    # form or JSON body a typical app takes; set None to lift it.
    "MAX_CONTENT_LENGTH": 16 * 1024 * 1024,
    "MAX_FORM_MEMORY_SIZE": 500_000,
    "MAX_FORM_PARTS": 1_000,
    "SEND_FILE_MAX_AGE_DEFAULT": None,
    # send_from_directory and the static route refuse a symlink leading outside
    # their folder (404) unless this is True.
    "SEND_FILE_FOLLOW_SYMLINKS": False,
    "TRAP_BAD_REQUEST_ERRORS": None,
    "TRAP_HTTP_EXCEPTIONS": False,
    "EXPLAIN_TEMPLATE_LOADING": False,
    "PREFERRED_URL_SCHEME": "http",
    "TEMPLATES_AUTO_RELOAD": None,
    "MAX_COOKIE_SIZE": 4093,
    "PROVIDE_AUTOMATIC_OPTIONS": True,
    # Kettle: extra hosts redirect_back() may send users to.
    "REDIRECT_ALLOWED_HOSTS": (),
    # Kettle: threads that run sync views under ASGI.
    "ASGI_THREADS": 40,
    # Kettle: of those, how many may run sync views of stream_body routes at once
    # (a client that trickles its body holds its thread); None: a quarter.
    "ASGI_STREAM_BODY_THREADS": None,
    # Kettle: run every sync view (and its sync hooks) on the event loop instead of
    # the thread pool, for apps whose views never block; a route's inline=False
    # keeps that one in the pool. Off: a blocking call must never stall the loop.
    "ASGI_INLINE_SYNC_VIEWS": False,
    # Kettle: origins besides the request's own that may open a WebSocket
    # ("https://example.com", "https://*.example.com", or "*" for any).
    "WEBSOCKET_ALLOWED_ORIGINS": (),
    # Kettle: origins besides the request's own whose unsafe requests pass CSRF.
    "CSRF_TRUSTED_ORIGINS": (),
}


class ConfigAttribute:
    """Forward an app attribute (``app.secret_key``) to a config key."""

    def __init__(self, name: str, get_converter: Callable[[Any], Any] | None = None) -> None:
        self.__name__ = name
        self.get_converter = get_converter

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        value = obj.config[self.__name__]
        if self.get_converter is not None:
            value = self.get_converter(value)
        return value

    def __set__(self, obj: Any, value: Any) -> None:
        obj.config[self.__name__] = value


#: Config versions: every change takes the next number, never used before by any config.
_versions = itertools.count(1)


class Config(dict[str, Any]):
    """A dict of settings with loaders for objects, files, mappings and the environment.

    Only UPPERCASE keys are taken from objects, files and mappings.
    """

    #: A number that changes whenever the config changes through its methods
    #: (``config[key] = ...``, ``del``, ``update``, ``setdefault``, ``pop``,
    #: ``popitem``, ``clear``, ``|=``), unique across configs. What Kettle works
    #: out from the config (the signed session's settings) is kept with it and
    #: made again when it differs. A value changed in place (a list appended to)
    #: does not change it: such values are compared by whoever keeps them.
    _version = 0

    def __init__(
        self, root_path: str | os.PathLike[str] = ".", defaults: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(defaults or {})
        self.root_path = os.fspath(root_path)
        self._version = next(_versions)

    # Each change is made first, then numbered: a reader that saw the new number
    # also sees the change.
    def __setitem__(self, key: str, value: Any) -> None:
        dict.__setitem__(self, key, value)
        self._version = next(_versions)

    def __delitem__(self, key: str) -> None:
        dict.__delitem__(self, key)
        self._version = next(_versions)

    def __ior__(self, other: Any) -> Config:  # type: ignore[override,misc]
        dict.update(self, other)
        self._version = next(_versions)
        return self

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update from a mapping or pairs and keywords, as ``dict.update``."""
        dict.update(self, *args, **kwargs)
        self._version = next(_versions)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Return ``config[key]``, setting it to ``default`` first if absent."""
        value = dict.setdefault(self, key, default)
        self._version = next(_versions)
        return value

    def pop(self, key: str, *default: Any) -> Any:
        """Remove ``key`` and return its value (or ``default``), as ``dict.pop``."""
        value = dict.pop(self, key, *default)
        self._version = next(_versions)
        return value

    def popitem(self) -> tuple[str, Any]:
        """Remove and return the last pair, as ``dict.popitem``."""
        pair = dict.popitem(self)
        self._version = next(_versions)
        return pair

    def clear(self) -> None:
        """Remove every key."""
        dict.clear(self)
        self._version = next(_versions)

    def from_envvar(self, variable_name: str, silent: bool = False) -> bool:
        """Load the file named by environment variable ``variable_name``."""
        filename = os.environ.get(variable_name)
        if not filename:
            if silent:
                return False
            raise RuntimeError(
                f"The environment variable {variable_name!r} is not set and as such"
                " configuration could not be loaded. Set this variable and make it"
                " point to a configuration file"
            )
        return self.from_pyfile(filename, silent=silent)

    def from_prefixed_env(
        self, prefix: str = "KETTLE", *, loads: Callable[[str], Any] = json.loads
    ) -> bool:
        """Load ``PREFIX_*`` environment variables; values are parsed as JSON when they can be.

        ``PREFIX_A__B`` sets ``config["A"]["B"]``. With the default prefix,
        ``FLASK_*`` variables are read too (KETTLE_ ones win), for migration.
        """
        prefixes = [f"{prefix}_"]
        if prefix == "KETTLE":
            prefixes.insert(0, "FLASK_")
        for current in prefixes:
            for key in sorted(os.environ):
                if not key.startswith(current):
                    continue
                value: Any = os.environ[key]
                key = key.removeprefix(current)
                try:
                    value = loads(value)
                except Exception:
                    pass  # Not JSON: keep the string, as Flask does.
                if "__" not in key:
                    self[key] = value
                    continue
                current_dict: dict[str, Any] = self
                *parts, tail = key.split("__")
                for part in parts:
                    current_dict = current_dict.setdefault(part, {})
                current_dict[tail] = value
        return True

    def from_pyfile(self, filename: str | os.PathLike[str], silent: bool = False) -> bool:
        """Execute a Python file and load its UPPERCASE names."""
        filename = os.path.join(self.root_path, filename)
        module = types.ModuleType("config")
        module.__file__ = filename
        try:
            with open(filename, mode="rb") as config_file:
                exec(compile(config_file.read(), filename, "exec"), module.__dict__)
        except OSError as e:
            if silent and e.errno in (errno.ENOENT, errno.EISDIR, errno.ENOTDIR):
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        self.from_object(module)
        return True

    def from_object(self, obj: object | str) -> None:
        """Load the UPPERCASE attributes of an object or an import path."""
        if isinstance(obj, str):
            from kettle.utils import import_string

            obj = import_string(obj)
        for key in dir(obj):
            if key.isupper():
                self[key] = getattr(obj, key)

    def from_file(
        self,
        filename: str | os.PathLike[str],
        load: Callable[[IO[Any]], Mapping[str, Any]],
        silent: bool = False,
        text: bool = True,
    ) -> bool:
        """Load a file with ``load`` (``json.load``, ``tomllib.load`` with ``text=False``)."""
        filename = os.path.join(self.root_path, filename)
        try:
            with open(filename, "r" if text else "rb") as f:
                obj = load(f)
        except OSError as e:
            if silent and e.errno in (errno.ENOENT, errno.EISDIR):
                return False
            e.strerror = f"Unable to load configuration file ({e.strerror})"
            raise
        return self.from_mapping(obj)

    def from_mapping(self, mapping: Mapping[str, Any] | None = None, **kwargs: Any) -> bool:
        """Load the UPPERCASE keys of a mapping and keyword arguments."""
        mappings: dict[str, Any] = {}
        if mapping is not None:
            mappings.update(mapping)
        mappings.update(kwargs)
        for key, value in mappings.items():
            if key.isupper():
                self[key] = value
        return True

    def get_namespace(
        self, namespace: str, lowercase: bool = True, trim_namespace: bool = True
    ) -> dict[str, Any]:
        """Return the keys starting with ``namespace`` (e.g. ``"IMAGE_STORE_"``)."""
        rv = {}
        for key, value in self.items():
            if not key.startswith(namespace):
                continue
            key = key[len(namespace) :] if trim_namespace else key
            rv[key.lower() if lowercase else key] = value
        return rv

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {dict.__repr__(self)}>"
