"""Form bodies: ``application/x-www-form-urlencoded`` and ``multipart/form-data``.

Theory of operation: the body is read in ``CHUNK_SIZE`` pieces and fed to an
incremental parser (python-multipart's ``MultipartParser`` for multipart),
so memory stays flat whatever the body size: field values are collected in
memory up to ``max_form_memory_size`` each, file parts are written to a
``SpooledTemporaryFile`` that moves to disk past ``FILE_SPOOL_SIZE``. Every
buffer has a named bound; crossing one is a 413, malformed input a 400, and
nothing else escapes.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable
from typing import IO, Any

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from kettle.http.datastructures import ImmutableMultiDict
from kettle.http.exceptions import BadRequest, RequestEntityTooLarge
from kettle.http.files import FileStorage
from kettle.http.headers import Headers
from kettle.http.stream import CHUNK_SIZE
from kettle.http.urls import parse_qsl

#: File parts stay in memory up to this size, then go to disk (as Werkzeug's 500 kB).
FILE_SPOOL_SIZE = 500 * 1024
#: One part header line; browsers send lines of a few hundred bytes.
MAX_PART_HEADER_SIZE = 8 * 1024
#: Header lines per part; browsers send two (Content-Disposition, Content-Type).
MAX_PART_HEADER_COUNT = 16
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
        if limit is not None and len(data) > limit:
            raise RequestEntityTooLarge()
        try:
            pairs = parse_qsl(data, max_fields=self.max_form_parts)
        except ValueError:
            raise RequestEntityTooLarge("The form has too many fields.") from None
        return ImmutableMultiDict(pairs)

    def parse_multipart(self, stream: IO[bytes], boundary: bytes) -> tuple[Form, Files]:
        """Parse a multipart body incrementally; file parts are spooled."""
        if not _BOUNDARY.match(boundary):
            raise BadRequest("Invalid or missing multipart boundary.")
        collector = _PartCollector(self)
        parser = MultipartParser(
            boundary,
            collector.callbacks(),  # type: ignore[arg-type]
            max_header_count=MAX_PART_HEADER_COUNT,
            max_header_size=MAX_PART_HEADER_SIZE,
        )
        try:
            while True:
                chunk = stream.read(CHUNK_SIZE)
                if not chunk:
                    break
                parser.write(chunk)
                if collector.ended:
                    break
            parser.finalize()
        except MultipartParseError as error:
            collector.close_files()
            if str(error).startswith("Maximum header"):
                raise RequestEntityTooLarge(f"Multipart part headers too large: {error}") from None
            raise BadRequest(f"Malformed multipart body: {error}") from None
        except Exception:
            collector.close_files()
            raise
        if not collector.ended:
            collector.close_files()
            raise BadRequest("Unexpected end of the multipart body.")
        return ImmutableMultiDict(collector.fields), ImmutableMultiDict(collector.files)


class _PartCollector:
    """Turn python-multipart callbacks into fields and FileStorage objects."""

    def __init__(self, owner: FormDataParser) -> None:
        self.owner = owner
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self.ended = False
        self.parts = 0
        self._header_pairs: list[tuple[bytes, bytes]] = []
        self._name_buf = bytearray()
        self._value_buf = bytearray()
        self._field_name: str | None = None
        self._field: bytearray | None = None
        self._file: FileStorage | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": self.on_header_field,
            "on_header_value": self.on_header_value,
            "on_header_end": self.on_header_end,
            "on_headers_finished": self.on_headers_finished,
            "on_part_data": self.on_part_data,
            "on_part_end": self.on_part_end,
            "on_end": self.on_end,
        }

    def on_part_begin(self) -> None:
        self.parts += 1
        limit = self.owner.max_form_parts
        if limit is not None and self.parts > limit:
            raise RequestEntityTooLarge("The form has too many parts.")
        self._header_pairs = []
        self._field_name = None
        self._field = None
        self._file = None

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._name_buf += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value_buf += data[start:end]

    def on_header_end(self) -> None:
        self._header_pairs.append((bytes(self._name_buf), bytes(self._value_buf)))
        self._name_buf.clear()
        self._value_buf.clear()

    def on_headers_finished(self) -> None:
        headers = Headers._trusted(
            [
                (name.decode("latin-1").strip().title(), value.decode("utf-8", "replace").strip())
                for name, value in self._header_pairs
            ]
        )
        disposition = headers.get("content-disposition")
        if disposition is None:
            raise BadRequest("A multipart part has no Content-Disposition header.")
        _, params = parse_options_header(disposition.encode("utf-8"))
        name = params.get(b"name")
        if name is None:
            raise BadRequest("A multipart part has no field name.")
        self._field_name = name.decode("utf-8", "replace")
        filename = params.get(b"filename")
        if filename is None:
            self._field = bytearray()
            return
        self._file = FileStorage(
            self.owner.stream_factory(),
            filename=filename.decode("utf-8", "replace"),
            name=self._field_name,
            headers=headers,
        )
        self.files.append((self._field_name, self._file))

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file.stream.write(data[start:end])
        elif self._field is not None:
            self._field += data[start:end]
            limit = self.owner.max_form_memory_size
            if limit is not None and len(self._field) > limit:
                raise RequestEntityTooLarge("A form field is larger than MAX_FORM_MEMORY_SIZE.")

    def on_part_end(self) -> None:
        if self._file is not None:
            self._file.stream.seek(0)
        elif self._field is not None and self._field_name is not None:
            self.fields.append((self._field_name, self._field.decode("utf-8", "replace")))

    def on_end(self) -> None:
        self.ended = True

    def close_files(self) -> None:
        for _, storage in self.files:
            storage.close()
