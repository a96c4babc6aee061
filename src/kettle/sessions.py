"""Sessions: the ``SessionInterface``, the signed-cookie default and a Redis backend.

The default session is a dict in Flask's tagged JSON, signed with
itsdangerous (salt ``cookie-session``, HMAC-SHA1) and stored in a cookie, so
any worker can read it and a Flask app with the same SECRET_KEY reads it too.
The signature is checked before anything else is done with the payload
(itsdangerous verifies before it decompresses or parses), and a bad, expired
or forged cookie gives an empty session, never an error.
``RedisSessionInterface`` keeps the data server-side under a random id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, MutableMapping
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from itsdangerous import URLSafeTimedSerializer

from kettle._session_cookie import cookie_arguments as cookie_arguments
from kettle._session_cookie import (
    delete_cookie,
    expiration,
    load_cookie,
    save_signed,
    set_cookie,
    vary_cookie,
)
from kettle._session_settings import HOOKS as _HOOKS
from kettle._session_settings import (
    Current,
    SessionSettings,
    request_is_secure,
    session_settings,
)
from kettle._signing import SignedSerializer
from kettle.json.tag import TaggedJSONSerializer

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.wrappers import Request, Response


class SessionMixin(MutableMapping[str, Any]):
    """The extra attributes every session has: permanent, new, modified, accessed."""

    new = False
    modified = True
    accessed = True

    @property
    def permanent(self) -> bool:
        """Whether the cookie outlives the browser session (``_permanent`` key).

        Reading it does not mark the session accessed (saving the session reads
        it; only the app's own use of the session adds ``Vary: Cookie``).
        """
        if isinstance(self, dict):
            return bool(dict.get(self, "_permanent", False))
        return bool(self.get("_permanent", False))

    @permanent.setter
    def permanent(self, value: bool) -> None:
        self["_permanent"] = bool(value)

    def regenerate(self) -> None:
        """Give the session a new identity: call it at login, before storing the user.

        A server-side session gets a new id (the old one is deleted), which
        defeats session fixation. A signed-cookie session has no id to steal
        ahead of time (the cookie is the data, re-signed when it changes), so
        here it is only marked modified: the login recipe is the same for both.
        """
        self.accessed = self.modified = True


class SecureCookieSession(dict[str, Any], SessionMixin):
    """A dict that records whether it was read (``accessed``) or changed (``modified``)."""

    modified = False
    accessed = False
    #: The signer and the encoded payload of the cookie the session came from.
    _signed_payload: tuple[SignedSerializer, bytes] | None = None

    def __init__(self, initial: Any = None) -> None:
        dict.__init__(self, initial or ())

    def __getitem__(self, key: str) -> Any:
        self.accessed = True
        return dict.__getitem__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """Return ``session[key]`` or ``default``, marking the session accessed."""
        self.accessed = True
        return dict.get(self, key, default)

    def setdefault(self, key: str, default: Any = None) -> Any:
        """Return ``session[key]``, setting it to ``default`` first if absent (modified then)."""
        self.accessed = True
        if not dict.__contains__(self, key):
            self.modified = True
        return dict.setdefault(self, key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        self.accessed = self.modified = True
        dict.__setitem__(self, key, value)

    def __delitem__(self, key: str) -> None:
        self.accessed = self.modified = True
        dict.__delitem__(self, key)

    def pop(self, key: str, *args: Any) -> Any:
        """Remove ``key`` and return its value; modified only if ``key`` was there.

        ``session.pop("missing", None)`` (Flask-Login does it on every request)
        changes nothing, so the response does not re-send the cookie.
        """
        if dict.__contains__(self, key):
            self.accessed = self.modified = True
        return dict.pop(self, key, *args)

    def popitem(self) -> tuple[str, Any]:
        """Remove an item, marking the session modified."""
        self.accessed = self.modified = True
        return dict.popitem(self)

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Update, marking the session modified."""
        self.accessed = self.modified = True
        dict.update(self, *args, **kwargs)

    def clear(self) -> None:
        """Empty the session, marking it modified."""
        self.accessed = self.modified = True
        dict.clear(self)

    def __contains__(self, key: object) -> bool:
        self.accessed = True
        return dict.__contains__(self, key)


class NullSession(SecureCookieSession):
    """The session used when no secret key is set: reading works, writing explains."""

    def _fail(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(
            "The session is unavailable because no secret key was set. Set the secret_key"
            " on the application to something unique and secret, e.g."
            " app.secret_key = secrets.token_hex() or the SECRET_KEY config value"
            " (KETTLE_SECRET_KEY in the environment)."
        )

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _fail


_CookieOptions = tuple[str, "str | None", str, bool, bool, "str | None", bool]


def _cookie_path(config: Mapping[str, Any]) -> str:
    return str(config["SESSION_COOKIE_PATH"] or config["APPLICATION_ROOT"])


def _cookie_secure(config: Mapping[str, Any]) -> bool:
    return bool(config["SESSION_COOKIE_SECURE"]) or request_is_secure()


class SessionInterface:
    """The interface a session backend implements: open_session and save_session."""

    null_session_class: type[SecureCookieSession] = NullSession
    pickle_based = False

    def make_null_session(self, app: Kettle) -> SecureCookieSession:
        """Return the session used when the real one cannot be loaded."""
        return self.null_session_class()

    def is_null_session(self, obj: object) -> bool:
        """Return True for a null session."""
        cls = self.null_session_class
        if obj.__class__ is SecureCookieSession and cls is NullSession:
            return False  # the common case, without ABCMeta's isinstance (a Python call)
        return isinstance(obj, cls)

    def get_cookie_name(self, app: Kettle) -> str:
        """The cookie name (SESSION_COOKIE_NAME)."""
        return str(app.config["SESSION_COOKIE_NAME"])

    def get_cookie_domain(self, app: Kettle) -> str | None:
        """The cookie domain (SESSION_COOKIE_DOMAIN), or None."""
        return app.config["SESSION_COOKIE_DOMAIN"] or None

    def get_cookie_path(self, app: Kettle) -> str:
        """The cookie path (SESSION_COOKIE_PATH or APPLICATION_ROOT)."""
        return _cookie_path(app.config)

    def get_cookie_httponly(self, app: Kettle) -> bool:
        """Whether the cookie is HttpOnly."""
        return bool(app.config["SESSION_COOKIE_HTTPONLY"])

    def get_cookie_secure(self, app: Kettle) -> bool:
        """Whether the cookie is Secure: SESSION_COOKIE_SECURE, or the request is https.

        Kettle adds the https rule (Flask only reads the config): a session
        set over https should never travel over plain http.
        """
        return _cookie_secure(app.config)

    def get_cookie_samesite(self, app: Kettle) -> str | None:
        """The SameSite attribute (Lax by default in Kettle)."""
        return app.config["SESSION_COOKIE_SAMESITE"]  # type: ignore[no-any-return]

    def get_cookie_partitioned(self, app: Kettle) -> bool:
        """Whether the cookie is Partitioned (CHIPS)."""
        return bool(app.config["SESSION_COOKIE_PARTITIONED"])

    def get_expiration_time(self, app: Kettle, session: SessionMixin) -> datetime | None:
        """When a permanent session's cookie expires; None for a browser-session cookie."""
        if session.permanent:
            return expiration(app.permanent_session_lifetime)
        return None

    def should_set_cookie(self, app: Kettle, session: SessionMixin) -> bool:
        """Whether to send the cookie: when modified, or permanent with refresh on."""
        return session.modified or (
            session.permanent and bool(app.config["SESSION_REFRESH_EACH_REQUEST"])
        )

    def _cookie_options(self, app: Kettle) -> _CookieOptions:
        """Return the seven ``get_cookie_*`` answers in one tuple.

        In order: name, domain, path, secure, httponly, samesite, partitioned.
        """
        return (
            self.get_cookie_name(app),
            self.get_cookie_domain(app),
            self.get_cookie_path(app),
            self.get_cookie_secure(app),
            self.get_cookie_httponly(app),
            self.get_cookie_samesite(app),
            self.get_cookie_partitioned(app),
        )

    def open_session(self, app: Kettle, request: Request) -> SessionMixin | None:
        """Load the session for ``request`` (None: use a null session)."""
        raise NotImplementedError

    def save_session(self, app: Kettle, session: SessionMixin, response: Response) -> None:
        """Store the session on ``response``."""
        raise NotImplementedError


class SecureCookieSessionInterface(SessionInterface):
    """The default: the session as signed JSON in a cookie (itsdangerous' format).

    The signer is built once per key set and settings (SECRET_KEY,
    SECRET_KEY_FALLBACKS, ``salt``, ``digest_method``, ``key_derivation``,
    ``serializer``), compared by value on each request, so a changed config
    takes effect on the next request as in Flask. A subclass that overrides
    ``get_signing_serializer`` gets its serializer called, as Flask calls it.
    """

    salt = "cookie-session"
    digest_method = staticmethod(hashlib.sha1)
    key_derivation = "hmac"
    serializer: Any = TaggedJSONSerializer()
    session_class = SecureCookieSession
    #: False in a subclass that overrides one of the ``_HOOKS``.
    _default_hooks = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._default_hooks = all(
            getattr(cls, name) is getattr(SecureCookieSessionInterface, name) for name in _HOOKS
        )

    #: The settings ``session_settings`` made last, with what they were made from.
    _current_settings: Current | None = None

    @cached_property
    def _settings_cache(self) -> dict[tuple[Any, ...], SessionSettings]:
        # ``session_settings``' cache: settings per config state, as ``_signers``.
        return {}

    def get_signing_serializer(self, app: Kettle) -> URLSafeTimedSerializer | None:
        """Return the serializer for the app's keys, or None without a secret key."""
        if not app.secret_key:
            return None
        return URLSafeTimedSerializer(
            self._secret_keys(app),  # type: ignore[arg-type]
            salt=self.salt,
            serializer=self.serializer,
            signer_kwargs={
                "key_derivation": self.key_derivation,
                "digest_method": self.digest_method,
            },
        )

    def _secret_keys(self, app: Kettle) -> list[str | bytes]:
        keys: list[str | bytes] = list(app.config["SECRET_KEY_FALLBACKS"] or ())
        keys.append(app.secret_key)  # itsdangerous signs with the last key
        return keys

    def _signer(self, app: Kettle) -> SignedSerializer | URLSafeTimedSerializer | None:
        """The signer for this request: cached for the current settings, or the public hook's."""
        if (
            type(self).get_signing_serializer is not _DEFAULT_GET_SIGNING_SERIALIZER
            or "get_signing_serializer" in self.__dict__
        ):
            return self.get_signing_serializer(app)
        secret = app.secret_key
        if not secret:
            return None
        fallbacks = app.config["SECRET_KEY_FALLBACKS"]
        settings = (
            secret,
            tuple(fallbacks) if fallbacks else (),
            self.salt,
            self.digest_method,
            self.key_derivation,
            self.serializer,
        )
        signers = self._signers
        try:
            signer = signers[settings]
        except KeyError:
            signer = self._make_signer(app)
            if len(signers) >= _MAX_SIGNERS:
                signers.clear()  # settings that keep changing: start over, stay bounded
            signers[settings] = signer
        except TypeError:  # an unhashable setting (a custom serializer): no cache
            signer = self._make_signer(app)
        # A serializer or derivation the one-pass signer does not handle: itsdangerous'.
        return signer if signer is not None else self.get_signing_serializer(app)

    @cached_property
    def _signers(self) -> dict[tuple[Any, ...], SignedSerializer | None]:
        # One per key set and settings: several apps may share one interface (the
        # default is a class attribute of Kettle, as in Flask).
        return {}

    def _make_signer(self, app: Kettle) -> SignedSerializer | None:
        if not SignedSerializer.supports(self.serializer, self.key_derivation, self.digest_method):
            return None
        return SignedSerializer(
            self._secret_keys(app),
            self.salt,
            self.serializer,
            self.key_derivation,
            self.digest_method,
        )

    def open_session(self, app: Kettle, request: Request) -> SecureCookieSession | None:
        """Read and verify the cookie; a bad or expired one gives an empty session."""
        settings = session_settings(self, app)
        serializer: SignedSerializer | URLSafeTimedSerializer | None
        if settings is not None and settings.signer is not None:
            serializer, name, max_age = settings.signer, settings.name, settings.max_age
        else:
            serializer = self._signer(app)
            if serializer is None:
                return None
            name = self.get_cookie_name(app)
            max_age = int(app.permanent_session_lifetime.total_seconds())
        loaded = load_cookie(request, name, serializer, max_age)
        cls = self.session_class
        if loaded is None:
            return cls()
        data, signed = loaded
        if cls is SecureCookieSession:
            # What ``SecureCookieSession(data)`` makes, without its Python ``__init__``.
            session = dict.__new__(cls)
            dict.update(session, data)
        else:
            session = cls(data)
            if not isinstance(session, SecureCookieSession):
                return session
        if signed is not None:
            session._signed_payload = signed
        return session

    def save_session(self, app: Kettle, session: SessionMixin, response: Response) -> None:
        """Write, refresh or delete the cookie; add ``Vary: Cookie`` when read.

        While a hook is overridden every hook is called, as Flask calls them;
        otherwise their answers come from the settings cached for the config.
        """
        settings = session_settings(self, app)
        if settings is not None:
            save_signed(self, app, settings, session, response, SecureCookieSession)
            return
        # The get_cookie_* hooks first, as Flask calls them.
        options = SessionInterface._cookie_options(self, app)
        # ``Vary: Cookie`` once: when read, or (below) when the cookie is written.
        vary = session.accessed
        if vary:
            vary_cookie(response)
        if not session:
            if session.modified:
                delete_cookie(response, options, vary)
            return
        if not self.should_set_cookie(app, session):
            return
        expires = self.get_expiration_time(app, session)  # before the signer, as Flask
        serializer = self._signer(app)
        if serializer is not None:
            set_cookie(response, options, serializer.dumps(dict(session)), expires, vary)


_DEFAULT_GET_SIGNING_SERIALIZER = SecureCookieSessionInterface.get_signing_serializer
#: Signers kept per interface (apps and key sets it serves at once).
_MAX_SIGNERS = 8


# The server-side backend lives in its own module; its names stay importable from here.
from kettle._redis_sessions import RedisSessionInterface as RedisSessionInterface  # noqa: E402
from kettle._redis_sessions import ServerSideSession as ServerSideSession  # noqa: E402
