"""Server-side sessions: the data in Redis under a random id, only the id in the cookie.

``RedisSessionInterface`` and its ``ServerSideSession``, importable from
``kettle.sessions`` as in earlier releases.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from kettle.json.tag import TaggedJSONSerializer
from kettle.sessions import SecureCookieSession, SessionInterface, SessionMixin, cookie_arguments

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.wrappers import Request, Response


class ServerSideSession(SecureCookieSession):
    """A session whose data lives on the server; the cookie holds only ``sid``."""

    def __init__(self, initial: Any = None, sid: str | None = None) -> None:
        super().__init__(initial)
        self.new = sid is None
        self.sid = sid or _new_session_id()
        #: Ids made obsolete by ``regenerate``: deleted from the store on save.
        self.obsolete_sids: list[str] = []

    def regenerate(self) -> None:
        """Give the session a new id (call at login: it defeats session fixation).

        The old id's data is deleted from the store when the session is saved,
        so a copy of the old cookie opens an empty session.
        """
        self.obsolete_sids.append(self.sid)
        self.sid = _new_session_id()
        self.accessed = self.modified = True

    def clear(self) -> None:
        """Empty the session and give it a new id (logout, or a login that starts afresh).

        What is stored next (a flash message after logout, the next user)
        lives under an id nobody held before.
        """
        super().clear()
        if not self.new or self.obsolete_sids:
            self.regenerate()


def _new_session_id() -> str:
    # 256 random bits: guessing a live id is out of reach, so the id needs no signature.
    return secrets.token_urlsafe(32)


class RedisSessionInterface(SessionInterface):
    """Server-side sessions in Redis: ``app.session_interface = RedisSessionInterface(url)``.

    ``redis`` is a URL (``redis://127.0.0.1:6379/0``) or a redis-py client.
    Entries expire after PERMANENT_SESSION_LIFETIME; the data is tagged JSON
    (never pickle). Needs the ``kettle[redis]`` extra.
    """

    serializer = TaggedJSONSerializer()
    session_class = ServerSideSession

    def __init__(
        self, redis: Any = "redis://127.0.0.1:6379/0", key_prefix: str = "session:"
    ) -> None:
        if isinstance(redis, str):
            import redis as redis_module

            redis = redis_module.Redis.from_url(redis)
        self.redis = redis
        self.key_prefix = key_prefix

    def make_null_session(self, app: Kettle) -> SecureCookieSession:
        """No secret key is needed server-side: an empty new session."""
        return self.session_class()

    def open_session(self, app: Kettle, request: Request) -> ServerSideSession:
        """Load the data for the cookie's id; an unknown or malformed id starts afresh."""
        sid = request.cookies.get(self.get_cookie_name(app))
        if not sid or len(sid) > 128 or not sid.replace("-", "").replace("_", "").isalnum():
            return self.session_class()
        raw = self.redis.get(self.key_prefix + sid)
        if raw is None:
            return self.session_class()
        try:
            data = self.serializer.loads(raw)
        except ValueError:
            return self.session_class()
        return self.session_class(data if isinstance(data, dict) else None, sid=sid)

    def save_session(self, app: Kettle, session: SessionMixin, response: Response) -> None:
        """Store or delete the data and set or expire the cookie."""
        if not isinstance(session, ServerSideSession):
            raise TypeError("RedisSessionInterface saves ServerSideSession objects only.")
        name, options = cookie_arguments(self._cookie_options(app))
        for old in session.obsolete_sids:
            self.redis.delete(self.key_prefix + old)
        session.obsolete_sids.clear()
        if session.accessed:
            response.vary.add("Cookie")
        if not session:
            if session.modified:
                self.redis.delete(self.key_prefix + session.sid)
                response.delete_cookie(name, **options)
                response.vary.add("Cookie")
            return
        if not self.should_set_cookie(app, session):
            return
        lifetime = max(int(app.permanent_session_lifetime.total_seconds()), 1)
        self.redis.set(
            self.key_prefix + session.sid, self.serializer.dumps(dict(session)), ex=lifetime
        )
        response.set_cookie(
            name, session.sid, expires=self.get_expiration_time(app, session), **options
        )
        response.vary.add("Cookie")
