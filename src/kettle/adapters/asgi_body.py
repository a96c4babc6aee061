"""The request body under ASGI: received whole before the view, or as it reads.

``receive_spooled`` gathers a body that came in several messages, in
memory up to ``SPOOL_THRESHOLD`` and in a temporary file past it;
``ReceiveStream`` is the body of a ``stream_body=True`` route, received as
the view reads it. Both are bounded by the request's limit (413) and turn
a client that leaves mid-body into a 400.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from collections.abc import AsyncIterator, Callable
from typing import IO, TYPE_CHECKING, Any

from kettle.http.exceptions import ClientDisconnected, RequestEntityTooLarge
from kettle.http.stream import CHUNK_SIZE, BoundedStream

if TYPE_CHECKING:
    from kettle.typing import Receive
    from kettle.wrappers import Request

#: Bodies up to this size stay in memory; larger ones go to a temporary file.
SPOOL_THRESHOLD = 1024 * 1024


def limit_of(request: Request) -> Callable[[], int | None]:
    """The body limit, read when the view reads (a before_request hook may set it)."""
    return lambda: request.max_content_length


class TooLargeBody(io.RawIOBase):
    """A body that was over the limit: reading it raises 413, as under WSGI."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        raise RequestEntityTooLarge()


class ReceiveStream(BoundedStream):
    """The body of a ``stream_body=True`` route, received as the view reads it.

    Sync views (in the thread pool) call ``read()``, which waits on the loop;
    async views iterate ``async for chunk in request.stream``. Bounded as
    ``LimitedStream``: past the limit 413, a short body or disconnect 400.
    """

    def __init__(
        self,
        receive: Receive,
        loop: asyncio.AbstractEventLoop,
        length: int | None,
        limit: Callable[[], int | None],
    ) -> None:
        self._receive = receive
        self._loop = loop
        self._length = length
        self._limit = limit
        self._size = 0
        self._buffer = b""
        self._done = False
        #: The rest of the body once ``receive_all`` ran (then nothing waits).
        self._spool: IO[bytes] | None = None

    async def receive_all(self) -> None:
        """Receive the rest of the body now, spooled, so that reading it never waits.

        For code on the loop that needs the whole body before the view (the
        CSRF check reading the token from a form): bounded as ``read``.
        """
        if self._spool is not None:
            return
        # Closed with the stream, which the request closes.
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_THRESHOLD)  # noqa: SIM115
        spool.write(self._buffer)
        self._buffer = b""
        try:
            while not self._done:
                spool.write(await self._next(self._limit()))
        except BaseException:
            spool.close()
            raise
        spool.seek(0)
        self._spool = spool

    def close(self) -> None:
        """Close the spooled rest of the body, if any."""
        if self._spool is not None:
            self._spool.close()
        super().close()

    async def _next(self, limit: int | None) -> bytes:
        # ``limit`` is read by the caller, in the request's context.
        if self._done:
            return b""
        if limit is not None and self._length is not None and self._length > limit:
            raise RequestEntityTooLarge()
        message = await self._receive()
        if message["type"] == "http.disconnect":
            self._done = True
            raise ClientDisconnected("The client disconnected while sending the body.")
        body: bytes = message.get("body", b"")
        self._size += len(body)
        if limit is not None and self._size > limit:
            self._done = True
            raise RequestEntityTooLarge()
        if not message.get("more_body", False):
            self._done = True
            if self._length is not None and self._size < self._length:
                raise ClientDisconnected(
                    "The client sent fewer bytes than its Content-Length announced."
                )
        return body

    def _next_sync(self) -> bytes:
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            raise TypeError(
                "This route streams its body: in an async view read it with"
                " 'async for chunk in request.stream'."
            )
        coroutine = self._next(self._limit())
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all when negative), waiting for the client."""
        if self._spool is not None:
            return self._spool.read(-1 if size is None else size)
        if size is None or size < 0:
            parts = [self._buffer]
            self._buffer = b""
            while not self._done:
                parts.append(self._next_sync())
            return b"".join(parts)
        while not self._buffer and not self._done:
            self._buffer = self._next_sync()
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def __iter__(self) -> Any:
        while True:
            chunk = self.read(CHUNK_SIZE)
            if not chunk:
                return
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self._spool is not None:
            while chunk := self._spool.read(CHUNK_SIZE):
                yield chunk
            return
        if self._buffer:
            chunk, self._buffer = self._buffer, b""
            yield chunk
        while not self._done:
            chunk = await self._next(self._limit())
            if chunk:
                yield chunk


class BodyDisconnected(Exception):
    """The client went away while the body was being received."""


async def receive_spooled(
    message: Any, length: int | None, limit: int | None, receive: Receive
) -> IO[bytes]:
    """Receive the rest of a body from ``message`` on, in memory or spooled to disk.

    Past ``SPOOL_THRESHOLD`` it goes to a temporary file; past ``limit`` the
    stream returned answers 413 when read.
    """
    chunks: list[bytes] = []
    # A body announced past the threshold goes to disk as it comes: a 10 MiB upload
    # then peaks at a message's size, not at the threshold's (issue 16: 0.1x).
    spool: IO[bytes] | None = (
        tempfile.TemporaryFile() if length is not None and length > SPOOL_THRESHOLD else None  # noqa: SIM115
    )
    size = 0
    try:
        while True:
            if message is None:
                message = await receive()
            if message["type"] == "http.disconnect":
                raise BodyDisconnected()
            body = message.get("body", b"")
            size += len(body)
            if limit is not None and size > limit:
                if spool is not None:
                    spool.close()
                return io.BufferedReader(TooLargeBody())
            if spool is not None:
                spool.write(body)
            elif size > SPOOL_THRESHOLD:
                # Closed with the request (the stream outlives this function). Past the
                # threshold already: straight to disk, not a second copy in memory first.
                spool = tempfile.TemporaryFile()  # noqa: SIM115
                spool.writelines(chunks)
                spool.write(body)
                chunks = []
            elif body:
                chunks.append(body)
            if not message.get("more_body", False):
                break
            message = None
    except BaseException:
        if spool is not None:
            spool.close()
        raise
    if spool is not None:
        spool.seek(0)
        return spool
    return io.BytesIO(chunks[0] if len(chunks) == 1 else b"".join(chunks))
