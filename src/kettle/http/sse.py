"""Server-sent events, sans-IO: encode events to bytes, parse bytes to events.

The wire format is the WHATWG HTML "server-sent events" section: lines of
``field: value`` ended by a blank line. ``data`` spanning several lines is
sent as several ``data:`` lines and joined with "\\n" by the reader. A line
starting with ":" is a comment (used as a keep-alive).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "EventParser",
    "ServerSentEvent",
    "encode_comment",
    "encode_event",
    "split_lines",
    "to_event",
]

#: A parser refuses a single line longer than this: a peer that never sends a
#: newline must not make us buffer without bound.
MAX_LINE = 1024 * 1024


@dataclass
class ServerSentEvent:
    """One event: ``data`` (str or a JSON value), ``event``, ``id``, ``retry`` (ms), ``comment``."""

    data: Any = None
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    comment: str | None = None

    def encode(self) -> bytes:
        """Return the event as it is written on the wire (UTF-8, blank-line terminated)."""
        return encode_event(self)


def split_lines(text: str) -> list[str]:
    """Split ``text`` on CRLF, CR and LF only: the three line ends SSE knows.

    ``str.splitlines`` also splits on \\x1c-\\x1e, \\x85, U+2028 and more,
    which SSE carries as ordinary characters. A trailing line end gives a
    final empty line, so the reader gets the same text back.
    """
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _check(name: str, value: str) -> str:
    # A CR or LF inside event/id would end the field early and inject others.
    if "\n" in value or "\r" in value:
        raise ValueError(f"The SSE {name} must not contain a line break: {value!r}")
    return value


def encode_event(event: ServerSentEvent) -> bytes:
    """Encode ``event``; multi-line data becomes several ``data:`` lines."""
    lines: list[str] = []
    if event.comment is not None:
        lines.extend(f": {line}" for line in split_lines(event.comment))
    if event.id is not None:
        if "\0" in event.id:
            raise ValueError("The SSE id must not contain NUL.")
        lines.append(f"id: {_check('id', event.id)}")
    if event.event is not None:
        lines.append(f"event: {_check('event', event.event)}")
    if event.retry is not None:
        if not isinstance(event.retry, int) or event.retry < 0:
            raise ValueError("The SSE retry must be a non-negative int (milliseconds).")
        lines.append(f"retry: {event.retry}")
    if event.data is not None:
        data = event.data
        if not isinstance(data, str):
            data = json.dumps(data, separators=(",", ":"))
        lines.extend(f"data: {line}" for line in split_lines(data))
    if not lines:
        raise ValueError("An SSE event needs data, an event name, an id, retry or a comment.")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def encode_comment(text: str = "") -> bytes:
    """Encode a comment line (a keep-alive the browser ignores)."""
    return encode_event(ServerSentEvent(comment=text))


def to_event(item: Any) -> ServerSentEvent:
    """Turn what a stream yields (event, dict of fields, str, bytes) into an event."""
    if isinstance(item, ServerSentEvent):
        return item
    if isinstance(item, Mapping):
        unknown = set(item) - {"data", "event", "id", "retry", "comment"}
        if unknown:
            raise ValueError(f"Unknown SSE field(s): {', '.join(sorted(unknown))}")
        return ServerSentEvent(**item)
    if isinstance(item, bytes):
        return ServerSentEvent(data=item.decode("utf-8"))
    if isinstance(item, str):
        return ServerSentEvent(data=item)
    raise TypeError(
        f"An event stream yields ServerSentEvent, dict, str or bytes, not {type(item).__name__}."
    )


class EventParser:
    """Incremental parser: ``feed(bytes)`` returns the events completed so far.

    Follows the WHATWG algorithm: ``data`` lines are joined with "\\n",
    unknown fields and comments are ignored, a non-integer ``retry`` is
    ignored, an event with no data is not dispatched unless it has other
    fields set (so tests can see ``event``/``id`` only frames too).
    """

    def __init__(self) -> None:
        self._buffer = ""
        self._pending = b""
        self._reset()
        self.last_event_id: str | None = None

    def _reset(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._comment: list[str] = []

    def feed(self, data: bytes) -> list[ServerSentEvent]:
        """Consume ``data`` and return the complete events in it."""
        raw = self._pending + data
        # Keep an incomplete UTF-8 sequence for the next feed.
        try:
            text = raw.decode("utf-8")
            self._pending = b""
        except UnicodeDecodeError as error:
            if error.start < len(raw) - 3:
                raise ValueError("The event stream is not valid UTF-8.") from None
            text = raw[: error.start].decode("utf-8")
            self._pending = raw[error.start :]
        self._buffer += text
        return list(self._lines())

    def _lines(self) -> Iterator[ServerSentEvent]:
        buffer = self._buffer
        start = 0
        while True:
            cut = min(
                (i for i in (buffer.find("\n", start), buffer.find("\r", start)) if i >= 0),
                default=-1,
            )
            if cut < 0:
                break
            # A lone CR at the very end may be the first half of CRLF.
            if buffer[cut] == "\r" and cut + 1 == len(buffer):
                break
            line = buffer[start:cut]
            start = cut + (2 if buffer[cut : cut + 2] == "\r\n" else 1)
            event = self._line(line)
            if event is not None:
                yield event
        self._buffer = buffer[start:]
        if len(self._buffer) > MAX_LINE:
            raise ValueError("An event stream line is longer than the limit.")

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line[0] == ":":
            self._comment.append(line[1:].lstrip(" "))
            return None
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        if not (
            self._data
            or self._event
            or self._id is not None
            or self._retry is not None
            or self._comment
        ):
            return None
        if self._id is not None:
            self.last_event_id = self._id
        event = ServerSentEvent(
            data="\n".join(self._data) if self._data else None,
            event=self._event,
            id=self._id,
            retry=self._retry,
            comment="\n".join(self._comment) if self._comment else None,
        )
        self._reset()
        return event
