"""Event ids and the in-process retention window (a ring buffer per channel).

An event id is ``"<milliseconds>-<sequence>"``, the format of Redis Stream
ids, for both brokers: ids of one channel grow with every publish (also
across a process restart, since the milliseconds come from the clock), so
"every event after id X" has one meaning everywhere. ``event_key`` turns an
id into a comparable tuple; an id that is not of this form has no key.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

#: A message inside the push package: (comparable key, id text, data).
Message = tuple[tuple[int, int], str, Any]


def event_key(event_id: str | None) -> tuple[int, int] | None:
    """Return ``(milliseconds, sequence)`` for an event id, None when it is not one."""
    if not event_id or len(event_id) > 41:
        return None
    ms, dash, seq = event_id.partition("-")
    if not ms.isdigit() or not ms.isascii() or (dash and not (seq.isdigit() and seq.isascii())):
        return None
    return int(ms), int(seq) if dash else 0


def clock_id() -> str:
    """An id for "now" by this host's clock (the resume point of a fresh subscriber)."""
    return f"{int(time.time() * 1000)}-0"


class _Ring:
    """The retained events of one channel, oldest first."""

    __slots__ = ("events", "last")

    def __init__(self, size: int) -> None:
        self.events: deque[tuple[Message, float]] = deque(maxlen=size)
        self.last: tuple[int, int] = (0, 0)


class Retention:
    """Keep the last ``events`` events of every channel, each for ``seconds`` at most."""

    def __init__(self, events: int = 1000, seconds: float | None = 3600.0) -> None:
        if events < 0:
            raise ValueError("The retention must keep zero or more events.")
        self.events = events
        self.seconds = seconds
        self._lock = threading.Lock()
        self._rings: dict[str, _Ring] = {}
        self._records = 0

    def record(self, channel: str, data: Any) -> Message:
        """Give the next event of ``channel`` its id and keep it; return the message."""
        now = time.time()
        with self._lock:
            ring = self._rings.get(channel)
            if ring is None:
                ring = self._rings[channel] = _Ring(self.events)
            ms = int(now * 1000)
            key = (ms, 0) if ms > ring.last[0] else (ring.last[0], ring.last[1] + 1)
            ring.last = key
            message: Message = (key, f"{key[0]}-{key[1]}", data)
            if self.events:
                ring.events.append((message, now))
            self._records += 1
            if self._records % 1024 == 0:
                self._sweep(now)
        return message

    def _sweep(self, now: float) -> None:
        """Forget channels whose newest event left the window (lock held)."""
        if self.seconds is None:
            return
        horizon = now - self.seconds
        for name in [
            n for n, r in self._rings.items() if not r.events or r.events[-1][1] < horizon
        ]:
            if name in self._rings and self._rings[name].last[0] < horizon * 1000:
                del self._rings[name]

    def after(self, channel: str, key: tuple[int, int]) -> list[Message]:
        """The retained events of ``channel`` published after ``key``, oldest first."""
        horizon = None if self.seconds is None else time.time() - self.seconds
        with self._lock:
            ring = self._rings.get(channel)
            if ring is None:
                return []
            return [
                message
                for message, at in ring.events
                if message[0] > key and (horizon is None or at >= horizon)
            ]
