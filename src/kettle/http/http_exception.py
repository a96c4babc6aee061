"""``HTTPException``, the base of every HTTP error: a code, a description, its own page.

The tree of its subclasses, and ``abort``, are in ``kettle.http.exceptions``,
which is where every class of the tree is imported from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from markupsafe import escape

from kettle.http.status import reason_phrase, status_line

if TYPE_CHECKING:
    from kettle.http.response import Response

#: Each class's default page, rendered once: (build, body, code, status line, headers).
_Page = tuple[Callable[..., "Response"], bytes, int, str, list[tuple[str, str]]]
_PAGES: dict[type[HTTPException], _Page] = {}


class HTTPException(Exception):
    """Base class of every HTTP error: carries ``code`` and ``description``.

    ``response`` may hold a ready response to send instead of the error page
    (``abort(response)`` uses it).
    """

    code: int | None = None
    description: str | None = None

    def __init__(self, description: str | None = None, response: Response | None = None) -> None:
        super().__init__()
        if description is not None:
            self.description = description
        self.response = response

    @property
    def name(self) -> str:
        """The status name, e.g. ``"Not Found"``."""
        return reason_phrase(self.code) if self.code is not None else "Unknown Error"

    def get_description(self) -> str:
        """Return the description as HTML: escaped, newlines as ``<br>``."""
        text = escape(self.description or "").replace("\n", "<br>")
        return f"<p>{text}</p>"

    def get_body(self) -> str:
        """Return the HTML error page."""
        return (
            "<!doctype html>\n<html lang=en>\n"
            f"<title>{self.code} {escape(self.name)}</title>\n"
            f"<h1>{escape(self.name)}</h1>\n"
            f"{self.get_description()}\n"
        )

    def get_headers(self) -> list[tuple[str, str]]:
        """Return the headers of the error page."""
        return [("Content-Type", "text/html; charset=utf-8")]

    def get_response(self, request: object = None, /, **server_values: object) -> Response:
        """Return the response to send for this error (``self.response`` if set).

        The arguments are Werkzeug's signature (a request, or the server's
        environ/scope as keywords) and are not used: the answer depends on the
        error alone.
        """
        if self.response is not None:
            return self.response
        cls = type(self)
        if (
            "description" not in self.__dict__
            and cls.description.__class__ is str
            and cls.get_body is HTTPException.get_body
            and cls.get_headers is HTTPException.get_headers
        ):
            # The page for a class's default description never changes: render it once.
            page = _PAGES.get(cls) or _PAGES.setdefault(cls, self._render_page())
            return page[0](page[1], page[2], page[3], list(page[4]))
        from kettle.http.headers import Headers
        from kettle.http.response import Response

        headers = self.get_headers()
        if cls.get_headers is HTTPException.get_headers:
            return Response(self.get_body(), self.code or 500, Headers._trusted(headers))
        return Response(self.get_body(), self.code or 500, headers)

    def _render_page(self) -> _Page:
        from kettle.http.response import Response

        body = self.get_body().encode()
        headers = [*self.get_headers(), ("Content-Length", str(len(body)))]
        code = self.code or 500
        return Response._ready, body, code, status_line(code), headers

    def __str__(self) -> str:
        return f"{self.code or '???'} {self.name}: {self.description}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '{self}'>"
