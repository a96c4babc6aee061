"""What an adapter sends of a response: its header pairs and body, by HTTP's body rules.

``prepare_send`` is the C ``PrepareSend`` of ``kettle.http._response`` when that
optional accelerator is built: it answers the common response itself (a list
body with its Content-Length, a class in ``PLAIN_STATUS``, not HEAD, no bodiless
status) and calls ``python_prepare_send``, its Python twin, with the same
arguments for any other.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kettle._accelerators import accelerator
from kettle.http._fast_response import PLAIN_STATUS, plain_status
from kettle.http.headers import Headers, length_value
from kettle.http.response import Response, own_headers

_NO_BODY_STATUSES = frozenset({204, 304})
#: RFC 9110 15.4.5: a 304 carries the fields a cache updates with, not the representation's
#: metadata. Removed as Werkzeug removes them (its "entity headers", Expires and
#: Content-Location kept): a Content-Encoding or Content-Type on a 304 would describe a
#: body that is not there.
_NOT_ON_304 = frozenset(
    {
        "allow",
        "content-encoding",
        "content-language",
        "content-length",
        "content-md5",
        "content-range",
        "content-type",
        "last-modified",
    }
)


def _bodiless_headers(headers: list[tuple[str, str]], code: int) -> list[tuple[str, str]]:
    """The header pairs a 304, 204 or 1xx response sends (a new list; the response keeps its own).

    A 304 sends no representation metadata (``_NOT_ON_304``); a 204 or 1xx no
    Content-Length (RFC 9110 8.6: a server MUST NOT send one).
    """
    if code == 304:
        return [pair for pair in headers if pair[0].lower() not in _NOT_ON_304]
    return [pair for pair in headers if pair[0].lower() != "content-length"]


def python_prepare_send(
    response: Response, method: str, as_code: bool = False
) -> tuple[Any, list[tuple[str, str]], Iterable[Any] | None]:
    """Return the status, the header pairs and the body to send, applying HTTP's body rules.

    The status is ``response.status`` (WSGI's line), or ``response.status_code``
    with ``as_code`` (ASGI's): the field those properties read when the class
    keeps them (``plain_status``: a property read is about 420 instructions on 3.11).
    HEAD, 1xx, 204 and 304 responses send no body: HEAD keeps every header (RFC
    9110 9.3.2), a 304 drops the representation's metadata and a 204 or 1xx its
    Content-Length (``_bodiless_headers``); a list body without Content-Length
    gets one. A None body means "send nothing".
    """
    code = response._status_code
    status: Any
    if response.__class__ in PLAIN_STATUS or plain_status(response.__class__):
        status = code if as_code else response._status
    else:
        status = response.status_code if as_code else response.status
    body: Iterable[Any] | None = response.response
    headers_object = response.headers
    if headers_object.__class__ is not Headers:  # Rare: replaced by an extension.
        headers_object = own_headers(response)
    headers = headers_object._list
    if code in _NO_BODY_STATUSES or code < 200:
        return status, _bodiless_headers(headers, code), None
    if method == "HEAD":
        return status, headers, None
    if body.__class__ is list and not response.direct_passthrough:
        if headers and headers[-1][0] == "Content-Length":
            return status, headers, body  # Where Kettle's own responses put it: no scan.
        if len(body) != 1 or body[0].__class__ is not bytes:
            body = list(response.iter_encoded())  # ``Response(["text"])``: sent as bytes.
        elif len(headers) > 1 and headers[1][0] == "Content-Length":
            # A view's text with headers added after it (a cookie, ``Vary``, a hook's):
            # the length stays where the response put it, after the Content-Type.
            return status, headers, body
        for name, _ in headers:
            if name.lower() == "content-length":
                break
        else:
            headers.append(("Content-Length", length_value(sum(map(len, body)))))
    return status, headers, body


#: The C ``prepare_send`` (``_response.c``), or None: ``python_prepare_send`` is used.
_PrepareSend = accelerator("kettle.http._response", "PrepareSend")
#: What the adapters call once per request.
prepare_send = python_prepare_send
if _PrepareSend is not None:  # The dict itself: the Python function fills it, C reads it.
    prepare_send = _PrepareSend(
        python_prepare_send, PLAIN_STATUS, Headers, "Content-Length", "HEAD"
    )
