"""Errors that explain common mistakes in debug mode, as Flask's ``flask.debughelpers``.

:class:`DebugFilesKeyError` is raised by ``request.files[key]`` when the form
was sent without ``enctype="multipart/form-data"``; :class:`FormDataRoutingRedirect`
when routing would redirect a form POST with 301/302 (the browser would drop the body).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kettle.debug import DebugFilesKeyError
from kettle.routing import RequestRedirect

if TYPE_CHECKING:
    from kettle.wrappers import Request

__all__ = ["DebugFilesKeyError", "FormDataRoutingRedirect", "UnexpectedUnicodeError"]


class UnexpectedUnicodeError(AssertionError, UnicodeError):
    """Raised where bytes were expected but text came, to say so."""


class FormDataRoutingRedirect(AssertionError):
    """Raised in debug mode instead of a 301/302 routing redirect of a request with a body.

    The usual cause is a URL written without the trailing slash its rule has;
    the message names the URL that was asked for and the canonical one.
    """

    def __init__(self, request: Request) -> None:
        redirect = request.routing_exception
        new_url = redirect.new_url if isinstance(redirect, RequestRedirect) else ""
        parts = [
            f"A request was sent to '{request.url}', but routing issued a redirect to the"
            f" canonical URL '{new_url}'."
        ]
        if new_url.partition("?")[0] == f"{request.base_url}/":
            parts.append(
                " Its rule ends with a slash, and the URL asked for did not, so the"
                " router redirects to the URL with the slash."
            )
        parts.append(
            " A browser following a 301 or 302 drops the form data: send the request to"
            " the canonical URL, or make routing redirects use 307 or 308."
            "\n\nThis error is raised in debug mode only."
        )
        super().__init__("".join(parts))
