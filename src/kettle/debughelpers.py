"""Errors that explain common mistakes in debug mode, as Flask's ``debughelpers``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kettle.http.exceptions import BadRequestKeyError
from kettle.routing import RequestRedirect

if TYPE_CHECKING:
    from kettle.wrappers import Request


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Raised in places where Kettle wants bytes but was given text, to explain why."""


class DebugFilesKeyError(KeyError, AssertionError):
    """Raised in debug mode when ``request.files`` has no such key because the
    form was not sent as ``multipart/form-data``: the message says what to fix.
    """

    def __init__(self, request: Request, key: str) -> None:
        form_matches = request.form.getlist(key)
        buf = [
            f"You tried to access the file {key!r} in the request.files dictionary "
            "but it does not exist. The mimetype for the request is "
            f"{request.mimetype!r} instead of 'multipart/form-data' which means that "
            "no file contents were transmitted. To fix this error you should provide "
            'enctype="multipart/form-data" in your form.'
        ]
        if form_matches:
            names = ", ".join(repr(x) for x in form_matches)
            buf.append(
                f"\n\nThe browser instead transmitted some file names. This was submitted: {names}"
            )
        self.msg = "".join(buf)

    def __str__(self) -> str:
        return self.msg


class FormDataRoutingRedirect(AssertionError):
    """Raised in debug mode when routing redirected a POST (the body would be lost),
    because the URL lacked its trailing slash; the message names both URLs.
    """

    def __init__(self, request: Request) -> None:
        exc = request.routing_exception
        assert isinstance(exc, RequestRedirect)
        buf = [
            f"A request was sent to '{request.url}', but routing issued"
            f" a redirect to the canonical URL '{exc.new_url}'."
        ]
        if f"{request.base_url}/" == exc.new_url.partition("?")[0]:
            buf.append(
                " The URL was defined with a trailing slash. Kettle"
                " will redirect to the URL with a trailing slash if it"
                " was accessed without one."
            )
        buf.append(
            " Send requests to the canonical URL, or use 307 or 308 for"
            " routing redirects. Otherwise, browsers will drop form"
            " data.\n\nThis exception is only raised in debug mode."
        )
        super().__init__("".join(buf))


def attach_enctype_error_multidict(request: Request) -> None:
    """Make ``request.files[key]`` raise :class:`DebugFilesKeyError` for a missing key."""
    files = request.files
    original = files.__class__

    class _Files(original):  # type: ignore[valid-type, misc]
        def __getitem__(self, key: Any) -> Any:
            try:
                return super().__getitem__(key)
            except KeyError as e:
                if key not in request.form:
                    raise
                raise DebugFilesKeyError(request, key).with_traceback(e.__traceback__) from None

    _Files.__name__ = original.__name__
    _Files.__qualname__ = original.__qualname__
    files.__class__ = _Files


__all__ = [
    "DebugFilesKeyError",
    "FormDataRoutingRedirect",
    "UnexpectedUnicodeError",
    "BadRequestKeyError",
    "attach_enctype_error_multidict",
]
