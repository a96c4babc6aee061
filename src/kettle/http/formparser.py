"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Theory of operation: a urlencoded body is read whole (it is bounded by
``max_form_memory_size``) and split by ``kettle.http.urls.query_multidict``
(one loop for a short body without escapes, the common one, else ``iter_qsl``). A multipart body is
read in ``MULTIPART_CHUNK_SIZE`` pieces and fed to the incremental decoder of
``kettle.http.multipart``, so memory stays flat whatever the body size:
field values are collected in memory up to ``max_form_memory_size`` each,
file parts are written to a ``BytesIO`` that moves to a temporary file past
``FILE_SPOOL_SIZE`` (or to the parser's own ``stream_factory`` if given
one). Every buffer has a named bound; crossing one is a 413, malformed
input a 400, and nothing else escapes.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Callable
from typing import IO, Any

from kettle.http.datastructures import ImmutableMultiDict
from kettle.http.exceptions import BadRequest, RequestEntityTooLarge
from kettle.http.files import FileStorage
from kettle.http.headers import Headers
from kettle.http.multipart import DATA, PART, PART_END, MultipartDecoder, parse_header_params
from kettle.http.stream import CHUNK_SIZE, BytesIO
from kettle.http.urls import query_multidict

#: Bytes of a multipart body read at a time: a 100 KiB upload in one read (fewer
#: buffers to allocate and fill: 6 µs of 85 measured), and still a small part of the
#: 1 MiB a 10 MiB upload may peak at (benchmarks/upload_memory.py).
MULTIPART_CHUNK_SIZE = 2 * CHUNK_SIZE
#: File parts stay in memory up to this size, then go to disk (as Werkzeug's 500 kB).
FILE_SPOOL_SIZE = 500 * 1024
#: The charsets a part's Content-Type may give a text field (as Werkzeug); others read as UTF-8.
_PART_CHARSETS = frozenset({"utf-8", "ascii", "us-ascii", "iso-8859-1"})
#: RFC 2046 5.1.1: a boundary is 1 to 70 characters from this set.
_BOUNDARY = re.compile(rb"^[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]$")

StreamFactory = Callable[[], IO[bytes]]


def default_stream_factory() -> IO[bytes]:
    """Return the temporary file an uploaded file is written to."""
    return tempfile.SpooledTemporaryFile(max_size=FILE_SPOOL_SIZE)


Form = ImmutableMultiDict[str, str]
Files = ImmutableMultiDict[str, FileStorage]


class FormDataParser:
    """Parse a form body from a file-like stream under the given limits."""

    def __init__(
        self,
        max_form_memory_size: int | None = None,
        max_form_parts: int | None = None,
        stream_factory: StreamFactory = default_stream_factory,
    ) -> None:
        self.max_form_memory_size = max_form_memory_size
        self.max_form_parts = max_form_parts
        self.stream_factory = stream_factory

    def parse(
        self,
        stream: IO[bytes],
        mimetype: str,
        content_length: int | None,
        options: dict[str, str],
    ) -> tuple[Form, Files]:
        """Return (form, files); both empty for a mimetype that is not a form."""
        if mimetype == "application/x-www-form-urlencoded":
            return self.parse_urlencoded(stream, content_length), ImmutableMultiDict()
        if mimetype == "multipart/form-data":
            boundary = options.get("boundary", "")
            return self.parse_multipart(stream, boundary.encode("latin-1", "replace"))
        return ImmutableMultiDict(), ImmutableMultiDict()

    def parse_urlencoded(self, stream: IO[bytes], content_length: int | None) -> Form:
        """Parse ``a=1&b=2``; the whole body counts against max_form_memory_size."""
        limit = self.max_form_memory_size
        if limit is not None and content_length is not None and content_length > limit:
            raise RequestEntityTooLarge()
        data = stream.read() if limit is None else stream.read(limit + 1)
        return query_multidict(data, self.max_form_parts, limit)

    def parse_multipart(self, stream: IO[bytes], boundary: bytes) -> tuple[Form, Files]:
        """Parse a multipart body incrementally; file parts are spooled."""
        if not _BOUNDARY.match(boundary):
            raise BadRequest("Invalid or missing multipart boundary.")
        decoder = MultipartDecoder(boundary)
        collector = _PartCollector(self)
        read = stream.read
        try:
            while not decoder.done:
                chunk = read(MULTIPART_CHUNK_SIZE)
                for kind, value in decoder.feed(chunk) if chunk else decoder.close():
                    if kind == DATA:
                        collector.data(value)
                    elif kind == PART:
                        collector.start(value)
                    elif kind == PART_END:
                        collector.end()
        except BaseException:
            collector.close_files()
            raise
        finally:
            # A bound method of the collector, kept on it, is a reference cycle: the parser,
            # the collector and every file part (a 100 KiB upload's buffer) would wait for
            # the garbage collector instead of going with the request.
            collector.data = _drop
        return ImmutableMultiDict(collector.fields), ImmutableMultiDict(collector.files)


class _PartCollector:
    """Turn decoder events into form fields (bounded in memory) and spooled FileStorage."""

    def __init__(self, owner: FormDataParser) -> None:
        self.owner = owner
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self.parts = 0
        self._name = ""
        self._charset = "utf-8"
        self._field: bytearray | None = None
        self._file: FileStorage | None = None
        # The open file part's memory buffer (default stream factory, not yet spooled).
        self._buffer: io.BytesIO | None = None
        # The open file part's write method, or a field's bounded append (``_drop``
        # between parts: a bound method of this object kept on it would be a cycle).
        self.data: Callable[[Any], object] = _drop

    def start(self, header_lines: list[tuple[str, str]]) -> None:
        """Begin a part: a field, or a file written to the parser's stream factory."""
        owner = self.owner
        self.parts += 1
        if owner.max_form_parts is not None and self.parts > owner.max_form_parts:
            raise RequestEntityTooLarge("The form has too many parts.")
        # Header names come title-cased from the decoder; the first of a name counts.
        disposition = content_type = None
        for header, value in header_lines:
            if header == "Content-Disposition" and disposition is None:
                disposition = value
            elif header == "Content-Type" and content_type is None:
                content_type = value
        if disposition is None:
            raise BadRequest("A multipart part has no Content-Disposition header.")
        params = parse_header_params(disposition)
        name = params.get("name")
        if name is None:
            raise BadRequest("A multipart part has no field name.")
        self._name = name
        filename = params.get("filename")
        if filename is None:
            self._charset = _part_charset(content_type)
            self._field = bytearray()
            self.data = self._add_to_field
            return
        # The default factory's spooling is done here: a BytesIO, moved to a temporary
        # file past FILE_SPOOL_SIZE, whose whole read at the end costs no copy.
        buffer = BytesIO() if owner.stream_factory is default_stream_factory else None
        storage = FileStorage(
            owner.stream_factory() if buffer is None else buffer,
            filename=filename,
            name=name,
            headers=Headers._trusted(header_lines),
        )
        self.files.append((name, storage))
        self._file = storage
        if buffer is not None:
            self._buffer = buffer
            self.data = self._add_to_buffer
        else:
            self.data = storage.stream.write

    def _add_to_buffer(self, data: Any) -> None:
        buffer, storage = self._buffer, self._file
        if buffer is None or storage is None:  # Never: set only while a buffered part is open.
            raise RuntimeError("No buffered file part is open.")
        buffer.write(data)
        if buffer.tell() > FILE_SPOOL_SIZE:
            # Closed with the FileStorage (``request.close``), as the spooled files were.
            spool = tempfile.TemporaryFile()  # noqa: SIM115
            with buffer.getbuffer() as view:
                spool.write(view)
            storage.stream = spool
            self._buffer = None
            self.data = spool.write

    def _add_to_field(self, data: Any) -> None:
        field = self._field
        if field is None:
            return
        field += data
        limit = self.owner.max_form_memory_size
        if limit is not None and len(field) > limit:
            raise RequestEntityTooLarge("A form field is larger than MAX_FORM_MEMORY_SIZE.")

    def end(self) -> None:
        """End a part: a field's value is decoded, a file rewound for the view."""
        if self._field is not None:
            self.fields.append((self._name, self._field.decode(self._charset, "replace")))
        elif self._file is not None:
            if self._buffer is not None:
                # Trims the buffer to its size in place: the view's read() then returns
                # it without a copy (CPython's BytesIO hands out an exact buffer whole).
                self._buffer.getvalue()
            self._file.stream.seek(0)
        self._field = self._file = self._buffer = None
        self.data = _drop

    def close_files(self) -> None:
        """Close every file part (a failed parse)."""
        for _, storage in self.files:
            storage.close()


def _drop(data: Any) -> None:
    """Drop a piece of a part nobody keeps (before a part starts, after it ends)."""


def _part_charset(content_type: str | None) -> str:
    """The charset of a text field: its part's Content-Type charset if one Werkzeug honours."""
    if content_type is None:
        return "utf-8"
    charset = parse_header_params(content_type).get("charset", "").lower()
    return charset if charset in _PART_CHARSETS else "utf-8"
