"""What the signed-cookie session reads from the config, read once per config state.

Opening and saving the default session reads about a dozen config keys and
the interface's signer settings, through ``app.secret_key``,
``app.permanent_session_lifetime`` and the seven ``get_cookie_*`` hooks:
some twenty Python calls a request. ``session_settings`` keeps the
settings it made last with the config's version (``Config`` numbers every
change made through its methods), the fallback keys' values and the
interface's signer settings, and returns them while those compare equal:
one comparison instead of reading eleven config keys. Otherwise it reads
the raw values in one call and keys a small cache with them, so a changed
config (a new SECRET_KEY, a fallback appended in place, another cookie
path) takes effect on the next request, as in Flask; a config value that
can change in place (a bytearray key) keeps it on this slower path. The
cached ``SessionSettings`` holds the signer, the cookie's name and
attributes (checked and formatted once) and the lifetime.

Used only while nothing the cache would hide is overridden: the hooks of
``SecureCookieSessionInterface`` (by a subclass or on the instance) and the
app's ``secret_key`` / ``permanent_session_lifetime``; otherwise the caller
calls them, as Flask does.
"""

from __future__ import annotations

from datetime import timedelta
from operator import attrgetter, itemgetter
from typing import TYPE_CHECKING, Any
from weakref import ref

from kettle.ctx import _cv_get
from kettle.http.cookies import cookie_attributes, format_cookie

if TYPE_CHECKING:
    from kettle._signing import SignedSerializer
    from kettle.app import Kettle
    from kettle.sessions import SecureCookieSessionInterface

#: The hooks Flask calls to open and save a signed-cookie session; while none
#: is overridden, ``SecureCookieSessionInterface`` reads the config itself.
HOOKS = frozenset(
    {
        "get_cookie_name",
        "get_cookie_domain",
        "get_cookie_path",
        "get_cookie_secure",
        "get_cookie_httponly",
        "get_cookie_samesite",
        "get_cookie_partitioned",
        "get_signing_serializer",
        "should_set_cookie",
        "get_expiration_time",
    }
)

#: True when a mapping (the interface's ``__dict__``) holds none of the ``HOOKS``.
_no_hooks = HOOKS.isdisjoint

#: Every other config value the settings are made from, read in one C call.
_read_config = itemgetter(
    "SECRET_KEY",
    "PERMANENT_SESSION_LIFETIME",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_DOMAIN",
    "SESSION_COOKIE_PATH",
    "APPLICATION_ROOT",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "SESSION_COOKIE_PARTITIONED",
    "SESSION_REFRESH_EACH_REQUEST",
)

#: The interface's own signer settings, read in one C call.
_read_interface = attrgetter("salt", "digest_method", "key_derivation", "serializer")

#: Settings kept per interface (apps, key sets and cookie options it serves at once).
MAX_SETTINGS = 8


class SessionSettings:
    """The signer and cookie options of one config state (what the hooks would return)."""

    __slots__ = (
        "domain",
        "httponly",
        "lifetime",
        "made_affixes",
        "made_attributes",
        "max_age",
        "name",
        "partitioned",
        "path",
        "refresh",
        "samesite",
        "secure",
        "signer",
    )

    def __init__(self, interface: SecureCookieSessionInterface, app: Kettle) -> None:
        config = app.config
        #: The one-pass signer; None without a secret key or for settings it cannot do.
        self.signer: SignedSerializer | None = (
            interface._make_signer(app) if app.secret_key else None
        )
        self.name = str(config["SESSION_COOKIE_NAME"])
        self.domain: str | None = config["SESSION_COOKIE_DOMAIN"] or None
        self.path = str(config["SESSION_COOKIE_PATH"] or config["APPLICATION_ROOT"])
        #: SESSION_COOKIE_SECURE (an https request makes the cookie Secure too).
        self.secure = bool(config["SESSION_COOKIE_SECURE"])
        self.httponly = bool(config["SESSION_COOKIE_HTTPONLY"])
        self.samesite: str | None = config["SESSION_COOKIE_SAMESITE"]
        self.partitioned = bool(config["SESSION_COOKIE_PARTITIONED"])
        self.refresh = bool(config["SESSION_REFRESH_EACH_REQUEST"])
        self.lifetime: timedelta = app.permanent_session_lifetime
        self.max_age = int(self.lifetime.total_seconds())
        #: ``attributes`` made so far, by Secure flag.
        self.made_attributes: dict[bool, tuple[str, str, str]] = {}
        #: ``affixes`` made so far, by Secure flag.
        self.made_affixes: dict[bool, tuple[str, str]] = {}

    def options(self) -> tuple[str, str | None, str, bool, bool, str | None, bool]:
        """The seven ``get_cookie_*`` answers for this request, in ``_cookie_options`` order."""
        return (
            self.name,
            self.domain,
            self.path,
            self.secure or request_is_secure(),
            self.httponly,
            self.samesite,
            self.partitioned,
        )

    def attributes(self, secure: bool) -> tuple[str, str, str]:
        """The Set-Cookie parts around the value (``cookie_attributes``), made once each.

        Made on first use, so a bad option (a domain, a SameSite value) raises
        when a cookie is set, as ``set_cookie`` would, not when a session opens.
        """
        try:
            return self.made_attributes[secure]
        except KeyError:
            parts = self.made_attributes[secure] = cookie_attributes(
                self.name,
                self.domain,
                None,
                secure,
                self.httponly,
                self.path,
                self.samesite,
                self.partitioned,
            )
            return parts

    def affixes(self, secure: bool) -> tuple[str, str]:
        """What goes before and after the value in a Set-Cookie header without Expires.

        ``format_cookie`` of the ``attributes``, split around the value once,
        so writing a browser-session cookie is one concatenation.
        """
        try:
            return self.made_affixes[secure]
        except KeyError:
            start, domain_part, tail = self.attributes(secure)
            affixes = self.made_affixes[secure] = (
                start,
                format_cookie(("", domain_part, tail), "", None),
            )
            return affixes


def session_settings(
    interface: SecureCookieSessionInterface, app: Kettle
) -> SessionSettings | None:
    """Return the settings for the app's current config, or None when a hook must be called.

    None while the interface's class or the instance overrides one of the
    ``HOOKS``, or the app's class its ``secret_key`` or
    ``permanent_session_lifetime``.
    """
    config = app.config
    fallback_keys: tuple[Any, ...] | None
    try:
        fallbacks = config["SECRET_KEY_FALLBACKS"]  # a list may change in place: copied
    except KeyError:  # raised below, once no hook is overridden (which might not read it)
        fallback_keys = None
    else:
        fallback_keys = tuple(fallbacks) if fallbacks else ()
    try:
        version = config._version
    except AttributeError:  # not a Config (replaced by a plain dict): no version to compare
        version = None
    # Everything the settings made last are kept with, in one tuple compared at once:
    # the config's version, the values it cannot number (the fallback keys), the
    # interface's signer settings and the app's class.
    key = (version, fallback_keys, _read_interface(interface), type(app))
    # The settings made last for this interface, while the key is equal, the config
    # is the same object and no hook was set on the interface since.
    current: Current | None = interface._current_settings
    if (
        current is not None
        and current[0] == key
        and current[1]() is config
        and _no_hooks(interface.__dict__)
    ):
        return current[2]
    if not interface._default_hooks or not _no_hooks(interface.__dict__):
        return None
    plain = _PLAIN_APPS.get(type(app))
    if not plain:
        if plain is None:
            plain = _PLAIN_APPS[type(app)] = _reads_config(type(app))
        if not plain:
            return None
    if fallback_keys is None:
        fallback_keys = config["SECRET_KEY_FALLBACKS"]  # the KeyError
    return _made_settings(interface, app, config, key)


def _made_settings(
    interface: SecureCookieSessionInterface, app: Kettle, config: Any, key: Key
) -> SessionSettings:
    """The settings from the value-keyed cache (made on a miss), kept while they can be."""
    version, fallback_keys, signing, _ = key
    values = _read_config(config)
    cache_key = (values, fallback_keys, signing)
    cache = interface._settings_cache
    try:
        settings = cache[cache_key]
    except KeyError:
        settings = SessionSettings(interface, app)
        if len(cache) >= MAX_SETTINGS:
            cache.clear()  # settings that keep changing: start over, stay bounded
        cache[cache_key] = settings
    except TypeError:  # an unhashable value: read afresh each time
        return SessionSettings(interface, app)
    if version is not None and all(type(value) in _FIXED for value in (*values, *fallback_keys)):
        # Values that cannot change in place: the config's version covers them.
        try:
            config_ref = ref(config)
        except TypeError:  # a mapping of another kind that cannot be referred to weakly
            return settings
        interface._current_settings = (key, config_ref, settings)
    return settings


#: What the settings are kept with: the config's version, SECRET_KEY_FALLBACKS'
#: values, the interface's signer settings (``_read_interface``) and the app's class
#: (one that keeps Kettle's ``secret_key`` and ``permanent_session_lifetime``).
Key = tuple[Any, Any, tuple[Any, ...], type]

#: The settings made last by an interface: their ``Key``, a weak reference to the
#: config they were made from, and the settings. Only an interface whose class
#: overrides none of the ``HOOKS`` keeps it.
Current = tuple[Key, "ref[Any]", SessionSettings]

#: The types of config values that cannot change in place (a list, a bytearray can).
_FIXED = frozenset({str, bytes, bool, int, float, type(None), timedelta})


def request_is_secure() -> bool:
    """Whether the current request came over https (the session cookie is Secure then)."""
    ctx = _cv_get(None)
    request = ctx.request if ctx is not None else None
    return bool(request is not None and request.is_secure)


#: App classes that keep Kettle's ``secret_key`` and ``permanent_session_lifetime``.
_PLAIN_APPS: dict[type, bool] = {}


def _reads_config(cls: type) -> bool:
    from kettle.app import Kettle

    return all(
        getattr(cls, name) is getattr(Kettle, name)
        for name in ("secret_key", "permanent_session_lifetime")
    )
