"""A bounded view of a request body: never reads past the end, never hangs.

Theory of operation: a body with a Content-Length is read up to that length;
fewer bytes than promised means the client went away, which is a 400
(``ClientDisconnected``) instead of a silently short body. A body without a
length (chunked, or a server that marks its end) is read up to the
``max_content_length`` limit; one byte more is a 413, never a truncation.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import IO, Any

from kettle.http.exceptions import ClientDisconnected, RequestEntityTooLarge

#: ``io.BytesIO``, bound once for Kettle's modules: on 3.11 the ``io`` module has a
#: ``__getattr__``, so no read of an attribute of it is specialized (about 200
#: instructions each time; a body, a form, a file part read it per request).
BytesIO = io.BytesIO

#: Bytes read per call from a body or a sent file: large enough for few system calls,
#: small enough to keep memory flat while parsing, draining or streaming.
CHUNK_SIZE = 64 * 1024


class BodyStream(io.RawIOBase):
    """A readable body stream: subclasses write ``read()``, the rest follows from it."""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def readall(self) -> bytes:
        return self.read(-1)


class BoundedStream(BodyStream):
    """A body stream that enforces its own limits (an adapter's streaming body)."""

    async def receive_all(self) -> None:
        """Receive the rest of the body now, so that reading it later never waits.

        The ASGI adapter's stream does the work; a stream that never waits
        has nothing to do.
        """


class LimitedStream(BodyStream):
    """Read at most ``limit`` bytes of ``stream``.

    With ``is_max`` the limit is a maximum (413 past it); without, it is the
    exact length promised by the client (400 when the stream ends early).
    """

    def __init__(self, stream: IO[bytes], limit: int | None, is_max: bool = False) -> None:
        self._stream = stream
        self.limit = limit
        self.is_max = is_max
        self._pos = 0

    @property
    def is_exhausted(self) -> bool:
        """True when every byte the limit allows has been read."""
        return self.limit is not None and self._pos >= self.limit

    def tell(self) -> int:
        return self._pos

    def read(self, size: int | None = -1) -> bytes:
        """Read up to ``size`` bytes (all that remain when negative or None)."""
        if size is None or size < 0:
            parts: list[bytes] = []
            while True:
                chunk = self.read(CHUNK_SIZE)
                if not chunk:
                    return b"".join(parts)
                parts.append(chunk)
        if self.limit is None:
            data = self._read_raw(size)
            self._pos += len(data)
            return data
        remaining = self.limit - self._pos
        if remaining <= 0 and not self.is_max:
            return b""
        # A maximum is checked by asking for one byte more than allowed.
        wanted = min(size, remaining + 1 if self.is_max else remaining)
        if wanted <= 0:
            return b""
        data = self._read_raw(wanted)
        self._pos += len(data)
        if self.is_max and self._pos > self.limit:
            raise RequestEntityTooLarge()
        if not data and not self.is_max and size > 0:
            raise ClientDisconnected(SHORT_BODY)
        return data

    def _read_raw(self, size: int) -> bytes:
        return read_raw(self._stream, size)

    def readline(self, size: int | None = -1) -> bytes:
        """Read one line, bounded by ``size`` and by the limit."""
        line = bytearray()
        while size is None or size < 0 or len(line) < size:
            byte = self.read(1)
            if not byte:
                break
            line += byte
            if byte == b"\n":
                break
        return bytes(line)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        # ``async for chunk in request.stream`` (the ASGI idiom) works under WSGI too.
        while chunk := self.read(CHUNK_SIZE):
            yield chunk

    def exhaust(self) -> None:
        """Read and drop the rest of the body, so the connection can be reused."""
        while self.read(CHUNK_SIZE):
            pass


#: The 400's words when fewer bytes come than the Content-Length announced.
SHORT_BODY = "The client sent fewer bytes than its Content-Length announced."


def read_raw(stream: IO[bytes], size: int) -> bytes:
    """``stream.read(size)``; an OSError (the client went away) is a 400 ``ClientDisconnected``."""
    # A reset connection (ConnectionResetError, a TLS error, gunicorn's
    # NoMoreData: all OSError) is the client going away, as a short body is.
    try:
        return stream.read(size)
    except OSError as error:
        raise ClientDisconnected("The client disconnected while sending the body.") from error


def check_length(content_length: int, max_content_length: int | None) -> None:
    """413 when ``content_length`` is past ``max_content_length`` (None: no limit)."""
    if max_content_length is not None and content_length > max_content_length:
        raise RequestEntityTooLarge()


def bound_stream(
    stream: IO[bytes] | None,
    content_length: int | None,
    max_content_length: int | None,
    input_terminated: bool,
) -> IO[bytes]:
    """Wrap a raw body in the limits the request announces.

    A Content-Length over ``max_content_length`` is refused with 413 before a
    byte is read. Without a length and without a server that marks the end of
    the body, there is nothing that can be read without blocking: empty.
    """
    if stream is None:
        return BytesIO()
    # The MRO, not ``isinstance``: against an ``io`` class that goes through the
    # Python-level ``ABCMeta.__instancecheck__`` (nothing registers virtual subclasses).
    if BoundedStream in type(stream).__mro__:
        return stream
    if content_length is not None:
        check_length(content_length, max_content_length)
        return LimitedStream(stream, content_length)  # type: ignore[return-value]
    if not input_terminated:
        return BytesIO()
    return LimitedStream(stream, max_content_length, is_max=True)  # type: ignore[return-value]
