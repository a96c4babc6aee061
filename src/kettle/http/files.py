"""FileStorage: one uploaded file of a multipart form, as Werkzeug shapes it."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import IO, Any

from kettle.http.headers import Headers
from kettle.http.preconditions import ascii_int


class FileStorage:
    """An uploaded file: its form field name, client filename, headers and body stream."""

    def __init__(
        self,
        stream: IO[bytes] | None = None,
        filename: str | None = None,
        name: str | None = None,
        content_type: str | None = None,
        content_length: int | None = None,
        headers: Headers | None = None,
    ) -> None:
        if stream is None:
            import io

            stream = io.BytesIO()
        self.stream = stream
        if filename is None:
            # As Werkzeug: a named file's name, unless it is a pseudo-name like "<stdin>".
            named = getattr(stream, "name", None)
            if isinstance(named, bytes):
                named = named.decode("utf-8", "replace")
            if isinstance(named, str) and not (named.startswith("<") and named.endswith(">")):
                filename = named
        self.filename = filename
        self.name = name
        if headers is None:
            headers = Headers()
        if content_type is not None and "content-type" not in headers:
            headers.set("Content-Type", content_type)
        if content_length is not None and "content-length" not in headers:
            headers.set("Content-Length", str(content_length))
        self.headers = headers

    @property
    def content_type(self) -> str | None:
        """The Content-Type the client sent for this part."""
        return self.headers.get("content-type")

    @property
    def content_length(self) -> int:
        """The part's Content-Length header, or 0 (browsers do not send one)."""
        return ascii_int(self.headers.get("content-length", "").strip(" \t")) or 0

    @property
    def mimetype(self) -> str:
        """The content type without parameters, lower-cased."""
        from kettle.http.request import split_mimetype

        return split_mimetype(self.content_type or "")[0]

    @property
    def mimetype_params(self) -> dict[str, str]:
        """The content type parameters, e.g. ``{"charset": "utf-8"}``."""
        from kettle.http.request import split_mimetype

        return split_mimetype(self.content_type or "")[1]

    def save(self, dst: str | os.PathLike[str] | IO[bytes], buffer_size: int = 16384) -> None:
        """Copy the file to a path or an open binary file, in chunks."""
        if isinstance(dst, str | os.PathLike):
            with open(dst, "wb") as out:
                shutil.copyfileobj(self.stream, out, buffer_size)
        else:
            shutil.copyfileobj(self.stream, dst, buffer_size)

    def read(self, size: int = -1) -> bytes:
        """Read from the file's stream."""
        return self.stream.read(size)

    def close(self) -> None:
        """Close the underlying stream (its temporary file, if any)."""
        try:
            self.stream.close()
        except Exception:  # Closing twice or a foreign stream must not fail a request.
            pass

    def __bool__(self) -> bool:
        return bool(self.filename)

    def __getattr__(self, name: str) -> Any:
        # Anything else (seek, tell, readline...) is the stream's, as in Werkzeug.
        if name == "stream":
            raise AttributeError(name)
        return getattr(self.stream, name)

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.stream)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.filename!r} ({self.content_type!r})>"
