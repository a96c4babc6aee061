"""Streaming ``multipart/form-data`` decoding (RFC 7578 over RFC 2046), sans-IO.

Theory of operation: body bytes go in with ``feed`` in chunks of any size,
events come out: ``PART`` with a part's header lines, ``DATA`` with a piece
of its body, ``PART_END``, and ``END`` at the close delimiter; ``close``
says the body ended. A part's body runs up to the next delimiter,
``CRLF--boundary``, found with ``bytes.find`` (C speed, linear); data pieces
are zero-copy memoryviews of the chunk fed whenever the chunk is not
carried over. Between two feeds the decoder carries only what it cannot
decide yet: a possible start of a delimiter (shorter than the delimiter,
since only a CR can start one and RFC 2046 boundaries hold none), or one
incomplete header line (at most ``MAX_PART_HEADER_SIZE``). So memory is
bounded whatever the body, and no byte is scanned more than a bounded
number of times: the decoder is linear in its input.

The grammar, as browsers and curl send it and as RFC 2046 5.1.1 allows:
a preamble (skipped), ``--boundary``, transport padding (spaces and tabs)
and CRLF, header lines ending in CRLF, an empty line, the body; then
``CRLF--boundary`` and either CRLF (the next part) or ``--`` (the end; the
epilogue is not read). ``CRLF--boundary`` followed by anything else is part
of the body, as the RFC's "must not appear inside" leaves it.
"""

from __future__ import annotations

import re
from typing import Any

from kettle.http.exceptions import BadRequest, RequestEntityTooLarge

#: One part header line; browsers send lines of a few hundred bytes.
MAX_PART_HEADER_SIZE = 8 * 1024
#: Header lines per part; browsers send two (Content-Disposition, Content-Type).
MAX_PART_HEADER_COUNT = 16

#: Event kinds: ``(PART, [(name, value), ...])``, ``(DATA, bytes-like)``, ``(PART_END, None)``,
#: ``(END, None)``.
PART, DATA, PART_END, END = range(4)

_PREAMBLE, _HEADERS, _BODY = range(3)
_PART_END: tuple[int, None] = (PART_END, None)
_END: tuple[int, None] = (END, None)

#: The part header names clients send, as ``_header_block`` writes them (latin-1,
#: title-cased): one lookup instead of a decode and ``title()`` (about 100 ns a line).
_TITLED = {
    spelled: base.title()
    for base in ("content-disposition", "content-type", "content-transfer-encoding")
    for spelled in (base.encode(), base.title().encode(), base.upper().encode())
}
#: RFC 9110 5.6.2 token characters: what a header name may hold.
_TOKEN = b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

Event = tuple[int, Any]

#: Line breaks before the first boundary (skipped; a flood of them is matched in C).
_LINE_BREAKS = re.compile(rb"[\r\n]*")


class MultipartDecoder:
    """Decode one multipart body fed in chunks; see the module's theory of operation."""

    def __init__(self, boundary: bytes) -> None:
        self.boundary = boundary
        self._dash_boundary = b"--" + boundary
        self._delimiter = b"\r\n--" + boundary
        self._state = _PREAMBLE
        #: True once the close delimiter was seen (the rest of the body is not needed): the
        #: state after the last part, kept as an attribute the reading loop asks after every
        #: read (a property was a frame each time).
        self.done = False
        self._at_start = True
        self._carry = bytearray()
        self._headers: list[tuple[str, str]] = []
        # Where the search for the end of the current header line resumes, from its start.
        self._scan = 0

    def feed(self, chunk: bytes) -> list[Event]:
        """Decode ``chunk``; return the events it completes (data pieces are valid until used)."""
        events: list[Event] = []
        if self.done or not chunk:
            return events
        carry = self._carry
        if carry and self._state == _BODY and self._carry_is_body(chunk):
            # The carried bytes cannot start a delimiter after all: body bytes, and
            # the new chunk is decoded where it is, not copied after them.
            events.append((DATA, bytes(carry)))
            carry.clear()
        if carry:
            carry += chunk
            used = self._run(carry, events)
            del carry[:used]
        else:
            used = self._run(chunk, events)
            if used < len(chunk):
                carry += memoryview(chunk)[used:]
        return events

    def _carry_is_body(self, chunk: bytes) -> bool:
        """True when no delimiter starts in the carried bytes, given the next chunk."""
        delimiter = self._delimiter
        if len(chunk) < len(delimiter):
            return False
        probe = bytes(self._carry) + chunk[: len(delimiter)]
        index = probe.find(delimiter)
        return index < 0 or index >= len(self._carry)

    def close(self) -> list[Event]:
        """Say the body ended: 400 unless the close delimiter was seen."""
        if not self.done:
            raise BadRequest("Unexpected end of the multipart body.")
        return []

    # -- the scanner ---------------------------------------------------------------------
    def _run(self, data: bytes | bytearray, events: list[Event]) -> int:
        """Decode as much of ``data`` as can be decided; return how many bytes were used.

        A part costs a few C calls (two finds, its header lines), never a
        Python step per byte.
        """
        pos = self._start(data, events) if self._at_start else 0
        size = len(data)
        while 0 <= pos < size:
            if self._state == _HEADERS:
                pos = self._header_block(data, pos, events)
                if self._state == _HEADERS:
                    return pos  # An incomplete line: carried.
            else:
                pos = self._to_delimiter(data, pos, events)
        return pos if pos >= 0 else -pos - 1

    def _start(self, data: bytes | bytearray, events: list[Event]) -> int:
        """Take the first delimiter when the body starts with it (no CRLF before it).

        CR and LF bytes before it are skipped, as python-multipart and
        Werkzeug skip them. Return where decoding goes on, or ``-(used + 1)``
        to wait for more bytes.
        """
        size = len(data)
        breaks = _LINE_BREAKS.match(data)
        skip = breaks.end() if breaks else 0
        if skip == size:
            return size  # Only line breaks so far: still at the start.
        dash = self._dash_boundary
        if size - skip < len(dash) + 2 and dash.startswith(bytes(data[skip : skip + len(dash)])):
            return -(skip + 1)  # Too short to tell: wait.
        if data.startswith(dash, skip):
            after = self._line_after(data, skip + len(dash))
            if after == -1:
                return -(skip + 1)  # Padding without its CRLF yet: still at the start.
            self._at_start = False
            if after > 0:
                self._state = _HEADERS
                return after
            if after == 0:
                self.done = True
                events.append(_END)
                return size
        self._at_start = False
        return skip

    def _header_block(self, data: bytes | bytearray, pos: int, events: list[Event]) -> int:
        """Read header lines from ``pos``; at the empty line emit PART. Return the position used."""
        headers = self._headers
        scan = pos + self._scan
        while True:
            line_end = data.find(b"\r\n", scan)
            if line_end < 0:
                if len(data) - pos > MAX_PART_HEADER_SIZE:
                    raise RequestEntityTooLarge("A multipart part header line is too long.")
                # Resume there (the CR of a CRLF may be the last byte), counted from the line.
                self._scan = max(pos, len(data) - 1) - pos
                return pos
            if line_end == pos:
                events.append((PART, headers))
                self._state = _BODY
                self._scan = 0
                return pos + 2
            if line_end - pos > MAX_PART_HEADER_SIZE:
                raise RequestEntityTooLarge("A multipart part header line is too long.")
            if len(headers) == MAX_PART_HEADER_COUNT:
                raise RequestEntityTooLarge("A multipart part has too many header lines.")
            # ``Name: value`` (RFC 9110 5.1, 5.5), anything else a 400; split here, not in
            # a function of its own: a frame per header line.
            line = bytes(data[pos:line_end])
            name, colon, value = line.partition(b":")
            title = _TITLED.get(name)  # A known name is a token: no ``translate`` for it.
            if title is None:
                if not name or name.translate(None, _TOKEN):
                    raise BadRequest("Malformed multipart part header.")
                title = name.decode("latin-1").title()
            # 13 and 10: a bare CR or LF (ints: a byte test is a memchr, a bytes one is not).
            if not colon or 13 in line or 10 in line:
                raise BadRequest("Malformed multipart part header.")
            headers.append((title, value.strip(b" \t").decode("utf-8", "replace")))
            pos = scan = line_end + 2

    def _to_delimiter(self, data: bytes | bytearray, pos: int, events: list[Event]) -> int:
        """Scan a body (or the preamble) from ``pos`` to the next delimiter line.

        Return the position after that line, or ``-(used + 1)`` when more
        bytes are needed, having emitted the body bytes that are certain.
        """
        append = events.append
        in_body = self._state == _BODY
        delimiter = self._delimiter
        search = pos
        while True:
            index = data.find(delimiter, search)
            if index < 0:
                # Keep a possible start of a delimiter: only a CR can start one.
                size = len(data)
                keep = data.rfind(b"\r", max(search, size - len(delimiter) + 1))
                if keep < 0 or not delimiter.startswith(bytes(data[keep:])):
                    keep = size
                if in_body and keep > pos:
                    append((DATA, _piece(data, pos, keep)))
                return -(keep + 1)
            at = index + len(delimiter)
            # ``_line_after``'s two common answers first, without its frame.
            if data.startswith(b"\r\n", at):
                after = at + 2
                break
            after = 0 if data.startswith(b"--", at) else self._line_after(data, at)
            if after != -2:
                break
            search = index + 1  # Not a delimiter line: body bytes after all.
        if in_body and index > pos:
            append((DATA, _piece(data, pos, index)))
        if after == -1:
            return -(index + 1)  # Wait for what follows the boundary.
        if in_body:
            append(_PART_END)
        if after == 0:
            append(_END)
            self.done = True
            return len(data)
        self._state = _HEADERS
        self._headers = []
        return after

    def _line_after(self, data: bytes | bytearray, at: int) -> int:
        """Read what follows a ``--boundary`` at ``at``.

        The position after its CRLF (a part follows); 0 for ``--`` (the end);
        -1 to wait for more bytes; -2 when it is no delimiter line.
        """
        if len(data) - at < 2:
            return -1
        if data.startswith(b"\r\n", at):
            return at + 2
        if data.startswith(b"--", at):
            return 0
        if data[at] not in b" \t":
            return -2
        # Transport padding (RFC 2046): spaces and tabs, then CRLF.
        line_end = data.find(b"\r\n", at, at + MAX_PART_HEADER_SIZE + 2)
        if line_end < 0:
            if len(data) - at > MAX_PART_HEADER_SIZE:
                raise BadRequest("Malformed multipart boundary line.")
            return -1
        if bytes(data[at:line_end]).strip(b" \t"):
            raise BadRequest("Malformed multipart boundary line.")
        return line_end + 2


def _piece(data: bytes | bytearray, start: int, stop: int) -> Any:
    """Body bytes ``data[start:stop]``: the chunk itself, a view of it, or a copy of the carry."""
    if data.__class__ is bytes:
        if start == 0 and stop == len(data):
            return data
        return memoryview(data)[start:stop]
    return bytes(memoryview(data)[start:stop])  # The carry changes after this feed: copied.


#: What browsers and curl send (``form-data; name="a"; filename="b.txt"``): quoted
#: values without a backslash, quote or ``;``, read by two linear regex scans.
#: ``parse_header_params`` gives this input the same dict as its general loop.
_SIMPLE_DISPOSITION = re.compile(r'form-data(?:; (?:name|filename)="[^"\\;]*")*')
_SIMPLE_PARAM = re.compile(r'; (name|filename)="([^"\\;]*)"')


def parse_header_params(value: str) -> dict[str, str]:
    """Return the parameters of a part's Content-Disposition or Content-Type, names lower-cased.

    ``form-data; name="a"; filename="b.txt"``: quoted values may hold ``;``
    and backslash escapes (``\\"`` and ``\\\\``); RFC 7578 4.2 forbids the
    RFC 5987 ``filename*=`` form in multipart/form-data, so starred
    parameters are ignored and ``filename`` stays authoritative (as
    python-multipart; browsers send UTF-8 in ``filename``). A Windows path
    sent as a filename (old Internet Explorer) is cut to its last component.
    Linear in the value: each byte is looked at a bounded number of times.
    """
    if _SIMPLE_DISPOSITION.fullmatch(value) is not None:
        return dict(_SIMPLE_PARAM.findall(value))
    return _parse_params(value)


def _parse_params(value: str) -> dict[str, str]:
    """``parse_header_params`` for any value: quotes, escapes, spaces, starred names."""
    params: dict[str, str] = {}
    size = len(value)
    pos = value.find(";")
    while 0 <= pos < size:
        semi = value.find(";", pos + 1)
        stop = size if semi < 0 else semi
        equals = value.find("=", pos + 1, stop)
        if equals < 0:
            pos = semi
            continue
        key = value[pos + 1 : equals].strip(" \t").lower()
        start = equals + 1
        while start < stop and value[start] in " \t":
            start += 1
        if start < size and value[start] == '"':
            close = _closing_quote(value, start + 1)
            if close < 0:
                raw = value[start:].strip(" \t")
                pos = -1
            else:
                raw = value[start + 1 : close]
                if "\\" in raw:
                    raw = raw.replace("\\\\", "\\").replace('\\"', '"')
                pos = value.find(";", close + 1)
        else:
            raw = value[start:stop].strip(" \t")
            pos = semi
        if "*" in key:
            continue
        if key == "filename" and (raw[1:3] == ":\\" or raw[:2] == "\\\\"):
            raw = raw.rsplit("\\", 1)[-1]
        params[key] = raw
    return params


def _closing_quote(value: str, start: int) -> int:
    """The index of the quote closing a quoted string opened before ``start``, or -1."""
    quote = value.find('"', start)
    while quote >= 0:
        backslash = value.find("\\", start, quote)
        if backslash < 0:
            return quote
        start = backslash + 2  # The escaped character is skipped.
        if start > quote:
            quote = value.find('"', start)
    return -1
