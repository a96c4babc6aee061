"""Sending files: ``send_file``, ``send_from_directory`` and the ``safe_join`` under them.

Files are streamed through ``FileWrapper`` (never read into memory) and
answered conditionally: ETag / Last-Modified give 304, Range gives 206 or 416.
"""

from __future__ import annotations

import functools
import io
import mimetypes
import os
import posixpath
import time
import unicodedata
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import quote

from kettle.http.exceptions import NotFound
from kettle.http.stream import CHUNK_SIZE

if TYPE_CHECKING:
    from kettle.wrappers import Response


# Names Windows treats as devices in any folder, with any extension.
_WINDOWS_DEVICES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"COM{i}" for i in range(1, 10)}
    | {f"LPT{i}" for i in range(1, 10)}
)


class FileWrapper:
    """Iterate a binary file in chunks, optionally a byte range, and close it at the end."""

    def __init__(self, file: IO[bytes], chunk_size: int = CHUNK_SIZE) -> None:
        self.file = file
        self.chunk_size = chunk_size
        self._remaining: int | None = None

    def set_range(self, start: int, length: int) -> None:
        """Limit the output to ``length`` bytes from ``start`` (for a 206)."""
        self.file.seek(start)
        self._remaining = length

    def __iter__(self) -> Iterator[bytes]:
        try:
            while self._remaining is None or self._remaining > 0:
                size = (
                    self.chunk_size
                    if self._remaining is None
                    else min(self.chunk_size, self._remaining)
                )
                chunk = self.file.read(size)
                if not chunk:
                    break
                if self._remaining is not None:
                    self._remaining -= len(chunk)
                yield chunk
        finally:
            self.close()

    def close(self) -> None:
        """Close the file."""
        self.file.close()


def safe_join(directory: str, *pathnames: str) -> str | None:
    """Join untrusted ``pathnames`` under ``directory``; None if the result could escape it.

    Refused: absolute paths, ``..`` segments, backslashes, NUL and other
    control characters, drive letters and Windows device names.
    """
    if not directory:
        directory = "."
    parts = [directory]
    for name in pathnames:
        if name != "":
            name = posixpath.normpath(name)
        if (
            name.startswith("/")
            or name == ".."
            or name.startswith("../")
            or "\\" in name
            or ":" in name
            or any(ord(c) < 32 or c == "\x7f" for c in name)
        ):
            return None
        for segment in name.split("/"):
            stem = segment.split(".", 1)[0].rstrip(" ").upper()
            if stem in _WINDOWS_DEVICES:
                return None
        parts.append(name)
    return posixpath.join(*parts)


def _content_disposition(response: Response, download_name: str, as_attachment: bool) -> None:
    try:
        download_name.encode("ascii")
    except UnicodeEncodeError:
        simple = (
            unicodedata.normalize("NFKD", download_name).encode("ascii", "ignore").decode("ascii")
        )
        # RFC 2231 / 6266: filename* carries the UTF-8 name, filename an ASCII fallback.
        names = {
            "filename": simple,
            "filename*": "UTF-8''" + quote(download_name, safe="!#$&+^`|~"),
        }
    else:
        names = {"filename": download_name}
    response.headers.set(
        "Content-Disposition", "attachment" if as_attachment else "inline", **names
    )


def send_file(
    path_or_file: os.PathLike[str] | str | IO[bytes],
    mimetype: str | None = None,
    as_attachment: bool = False,
    download_name: str | None = None,
    conditional: bool = True,
    etag: bool | str = True,
    last_modified: datetime | int | float | None = None,
    max_age: int | Callable[[str | None], int | None] | None = None,
) -> Response:
    """Send a file (a path or a binary file object) to the client, as Flask's send_file.

    The mimetype is guessed from ``download_name`` or the path; ``max_age``
    defaults to SEND_FILE_MAX_AGE_DEFAULT (None: ``Cache-Control: no-cache``).
    """
    from kettle.ctx import _cv_get

    ctx = _cv_get(None)
    if ctx is None or ctx.request is None:
        raise RuntimeError("send_file() needs an active request context.")
    app, request = ctx.app, ctx.request
    path, file, size, mtime = _open(path_or_file, app.root_path)
    if download_name is None and path is not None:
        download_name = os.path.basename(path)
    if mimetype is None:
        if download_name is None:
            file.close()
            raise TypeError(
                "Unable to detect the MIME type because a file name is not available. Either set"
                " 'download_name', pass a path instead of a file, or set 'mimetype'."
            )
        mimetype = mimetypes.guess_type(download_name)[0] or "application/octet-stream"
    response = app.response_class(FileWrapper(file), mimetype=mimetype, direct_passthrough=True)
    if download_name is not None:
        _content_disposition(response, download_name, as_attachment)
    elif as_attachment:
        raise TypeError("No name provided for attachment.")
    if size is not None:
        response.content_length = size
    if last_modified is not None:
        response.last_modified = last_modified
    elif mtime is not None:
        response.last_modified = mtime
    _set_cache(response, _resolve_max_age(app, path, max_age))
    if isinstance(etag, str):
        response.set_etag(etag)
    elif etag and path is not None:
        check = zlib.adler32(path.encode()) & 0xFFFFFFFF
        response.set_etag(f"{mtime}-{size}-{check}")
    if conditional:
        response.make_conditional(request, accept_ranges=True, complete_length=size)
    return response


def _open(source: Any, root_path: str) -> tuple[str | None, IO[bytes], int | None, float | None]:
    """Return ``(path, open binary file, size, mtime)`` for a path or a file object."""
    if isinstance(source, str | os.PathLike):
        path = os.path.join(root_path, os.fspath(source))
        stat = os.stat(path)
        return path, open(path, "rb"), stat.st_size, stat.st_mtime  # FileWrapper closes it
    if isinstance(source, io.TextIOBase):
        raise ValueError("Files must be opened in binary mode or use BytesIO.")
    if isinstance(source, io.BytesIO):
        return None, source, source.getbuffer().nbytes - source.tell(), None
    try:
        size: int | None = os.fstat(source.fileno()).st_size - source.tell()
    except (OSError, AttributeError, ValueError):
        size = None
    return None, source, size, None


def _resolve_max_age(app: Any, path: str | None, max_age: Any) -> int | None:
    if callable(max_age):
        return max_age(path)  # type: ignore[no-any-return]
    if max_age is not None:
        return int(max_age)
    return app.get_send_file_max_age(path)  # type: ignore[no-any-return]


def _set_cache(response: Response, max_age: int | None) -> None:
    """Apply Werkzeug's caching rule: no-cache, or public with max-age and Expires."""
    cache_control = response.cache_control
    cache_control.no_cache = True
    if max_age is not None:
        if max_age > 0:
            cache_control.no_cache = None
            cache_control.public = True
        cache_control.max_age = max_age
        response.expires = int(time.time() + max_age)


def _default_max_age(value: Any) -> int | None:
    if value is None:
        return None
    if hasattr(value, "total_seconds"):
        return int(value.total_seconds())
    return int(value)


def send_from_directory(
    directory: os.PathLike[str] | str,
    path: os.PathLike[str] | str,
    *,
    follow_symlinks: bool | None = None,
    **kwargs: Any,
) -> Response:
    """Send ``path`` from inside ``directory``; 404 when it is missing or would escape it.

    A symlink that leads outside ``directory`` is refused (404) unless
    ``follow_symlinks`` is True; None takes the app's
    ``SEND_FILE_FOLLOW_SYMLINKS`` config (False by default). Symlinks that
    stay inside the directory are always followed.
    """
    from kettle.ctx import _cv_get

    ctx = _cv_get(None)
    root = ctx.app.root_path if ctx is not None else os.getcwd()
    joined = safe_join(os.fspath(directory), os.fspath(path))
    if joined is None:
        raise NotFound()
    joined = os.path.join(root, joined)
    if not os.path.isfile(joined):
        raise NotFound()
    if follow_symlinks is None:
        follow_symlinks = bool(ctx is not None and ctx.app.config["SEND_FILE_FOLLOW_SYMLINKS"])
    if not follow_symlinks:
        folder = os.path.join(root, os.fspath(directory))
        # Resolve the whole path only when a link is on it (realpath: an lstat per component).
        if _symlink_below(folder, joined) and not os.path.realpath(joined).startswith(
            _real_directory(folder)
        ):
            raise NotFound()
    return send_file(joined, **kwargs)


def _symlink_below(folder: str, path: str) -> bool:
    """Whether a component of ``path`` below ``folder`` is a symlink (one lstat each).

    ``path`` is ``folder`` joined with a safe relative path, so the components
    to look at are the ones after ``folder``; the folder itself may be a link
    (its resolved form is what "inside" means).
    """
    relative = path[len(folder) :].lstrip(os.sep)
    current = folder
    for part in relative.split(os.sep):
        current = os.path.join(current, part)
        if os.path.islink(current):
            return True
    return False


@functools.lru_cache(maxsize=64)
def _real_directory(directory: str) -> str:
    """The resolved directory with a trailing separator (the app's folders: few, fixed)."""
    return os.path.join(os.path.realpath(directory), "")
