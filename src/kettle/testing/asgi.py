"""Drive an ASGI app without a server: one connection, and HTTP bodies read lazily.

The ASGI app runs as a task on this thread's kept event loop; the test's
synchronous calls run that loop only while they wait for the next message,
so a streamed body (server-sent events, say) is produced lazily, chunk by
chunk, as the test reads it, and several WebSocket sessions
(``kettle.testing.websocket``) can talk to each other on one thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from kettle import _loops

if TYPE_CHECKING:
    from kettle.typing import ASGIApplication, Message, Scope

#: How long a test waits for the app's next message before failing.
DEFAULT_TIMEOUT = 5.0


class Connection:
    """One ASGI connection: the app as a task, its sent messages in a queue."""

    def __init__(self, app: ASGIApplication, scope: Scope, first: list[Message]) -> None:
        self.loop = _loops.thread_loop()
        self.inbound: asyncio.Queue[Message] = asyncio.Queue()
        self.outbound: asyncio.Queue[Message] = asyncio.Queue()
        for message in first:
            self.inbound.put_nowait(message)
        self.task: asyncio.Future[None] = asyncio.ensure_future(
            app(scope, self.inbound.get, self.outbound.put), loop=self.loop
        )

    def next(self, timeout: float | None = DEFAULT_TIMEOUT) -> Message | None:
        """Run the loop until the app sends a message; None when the app has finished."""
        if not self.outbound.empty():
            return self.outbound.get_nowait()
        if self.task.done():
            self.task.result()  # Re-raise what the app raised.
            return None
        getter = self.loop.create_task(self.outbound.get())
        waiting: set[asyncio.Future[Any]] = {getter, self.task}
        done, _ = self.loop.run_until_complete(
            asyncio.wait(waiting, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        )
        if getter in done:
            return getter.result()
        getter.cancel()
        self.loop.run_until_complete(asyncio.wait({getter}))
        if self.task in done:
            self.task.result()
            return None
        raise TimeoutError(f"The app sent nothing within {timeout} seconds.")

    def finish(self) -> None:
        """Run the app to its end (background tasks included)."""
        if not self.task.done():
            self.loop.run_until_complete(asyncio.wait({self.task}))
        self.task.result()


class LazyASGIBody:
    """A streamed ASGI body, produced as it is iterated; ``close()`` disconnects."""

    def __init__(self, driver: Connection, first: bytes) -> None:
        self._driver = driver
        self._first: bytes | None = first
        self._finished = False

    def __iter__(self) -> Iterator[bytes]:
        if self._first is not None:
            first, self._first = self._first, None
            if first:
                yield first
        while not self._finished:
            message = self._driver.next(timeout=None)
            if message is None or message["type"] != "http.response.body":
                break
            data = message.get("body", b"")
            if not message.get("more_body", False):
                self._finished = True
            if data:
                yield data
        self._finished = True
        self._driver.finish()

    def close(self) -> None:
        """Tell the app the client went away and let it clean up."""
        if not self._finished:
            self._finished = True
            self._driver.inbound.put_nowait({"type": "http.disconnect"})
            self._driver.finish()


def run_asgi_http(
    app: ASGIApplication, scope: Scope, body: bytes, buffered: bool
) -> tuple[int, list[tuple[str, str]], bytes | LazyASGIBody]:
    """Run one request; return status, headers and the body (lazy when streamed)."""
    driver = Connection(app, scope, [{"type": "http.request", "body": body, "more_body": False}])
    start = driver.next(timeout=None)
    if start is None or start["type"] != "http.response.start":
        raise RuntimeError("The ASGI app finished without starting a response.")
    headers = [(n.decode("latin-1"), v.decode("latin-1")) for n, v in start.get("headers", ())]
    first = driver.next(timeout=None)
    chunk = b"" if first is None else first.get("body", b"")
    if first is not None and first.get("more_body", False):
        lazy = LazyASGIBody(driver, chunk)
        if not buffered:
            return start["status"], headers, lazy
        return start["status"], headers, b"".join(lazy)
    # The response is complete: the app may still run background tasks.
    driver.inbound.put_nowait({"type": "http.disconnect"})
    driver.finish()
    return start["status"], headers, chunk
