"""``MemoryBroker``: fan-out inside one process, with a ring buffer per channel."""

from __future__ import annotations

import threading
from typing import Any

from kettle.push.retention import Message, Retention
from kettle.push.subscription import QUEUE_LIMIT, Broker, Registry, Subscription


class MemoryBroker(Broker):
    """Fan-out inside one process, across threads and event loops (the default).

    Every published event gets an id and is kept in a ring buffer of its
    channel: the last ``retention_events`` events, each for at most
    ``retention_seconds`` (None: no age limit), so a subscriber resuming
    from an id gets what it missed.
    """

    def __init__(
        self,
        retention_events: int = 1000,
        retention_seconds: float | None = 3600.0,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        super().__init__(queue_limit)
        self.retention = Retention(retention_events, retention_seconds)
        self._registry = Registry()
        # Ids and hand-over in one step: each loop gets a channel's messages in
        # id order even when threads publish at once.
        self._publishing = threading.Lock()

    def publish_now(self, channel: str, message: Any) -> int:
        """Publish without awaiting (usable from sync code); return the receiver count."""
        with self._publishing:
            return self._registry.fan_out(channel, self.retention.record(channel, message))

    async def publish(self, channel: str, message: Any) -> int:
        """Send ``message`` to every subscriber of ``channel`` in this process."""
        return self.publish_now(channel, message)

    async def _attach(self, subscription: Subscription) -> None:
        self._registry.add(subscription)

    def _release(self, subscription: Subscription) -> None:
        self._registry.remove(subscription)

    async def _history(self, channel: str, key: tuple[int, int]) -> list[Message]:
        return self.retention.after(channel, key)
