"""HTTP errors that render themselves, and ``abort``.

Theory of operation: every HTTP error is an exception carrying a ``code`` and a
``description``; raising one anywhere in a request makes the app answer with
its ``get_response()`` (unless an error handler takes it). ``abort`` looks the
class up in a table by code.

The tree::

    Exception
     └── HTTPException                 code, description, get_response()
          ├── BadRequest (400)
          │    ├── BadRequestKeyError  (also a KeyError)
          │    ├── ClientDisconnected
          │    └── SecurityError
          │         └── BadHost
          ├── Unauthorized (401) ... UnavailableForLegalReasons (451)
          ├── InternalServerError (500) ... NetworkAuthenticationFailed (511)
          └── (routing) RequestRedirect (308), in kettle.routing

Descriptions and the HTML page follow Werkzeug's wording, so error pages read
the same as a Flask app's.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NoReturn

from kettle.http.http_exception import HTTPException

if TYPE_CHECKING:
    from kettle.http.response import Response

__all__ = [
    "HTTPException",
    "BadRequest",
    "BadRequestKeyError",
    "ClientDisconnected",
    "SecurityError",
    "BadHost",
    "Unauthorized",
    "PaymentRequired",
    "Forbidden",
    "NotFound",
    "MethodNotAllowed",
    "NotAcceptable",
    "ProxyAuthenticationRequired",
    "RequestTimeout",
    "Conflict",
    "Gone",
    "LengthRequired",
    "PreconditionFailed",
    "RequestEntityTooLarge",
    "RequestURITooLarge",
    "UnsupportedMediaType",
    "RequestedRangeNotSatisfiable",
    "ExpectationFailed",
    "ImATeapot",
    "MisdirectedRequest",
    "UnprocessableEntity",
    "Locked",
    "FailedDependency",
    "TooEarly",
    "UpgradeRequired",
    "PreconditionRequired",
    "TooManyRequests",
    "RequestHeaderFieldsTooLarge",
    "UnavailableForLegalReasons",
    "InternalServerError",
    "NotImplemented",
    "BadGateway",
    "ServiceUnavailable",
    "GatewayTimeout",
    "HTTPVersionNotSupported",
    "VariantAlsoNegotiates",
    "InsufficientStorage",
    "LoopDetected",
    "NotExtended",
    "NetworkAuthenticationFailed",
    "default_exceptions",
    "Aborter",
    "abort",
]


# One home for every class of the tree: the base is defined beside, shown here.
HTTPException.__module__ = __name__


class BadRequest(HTTPException):
    """400: the client sent something the server cannot understand."""

    code = 400
    description = "The browser (or proxy) sent a request that this server could not understand."


class BadRequestKeyError(BadRequest, KeyError):
    """400 raised by a missing key in request data (``request.args["x"]``).

    It is also a KeyError, so ``except KeyError`` still works. ``show_exception``
    (set in debug) adds the key to the description.
    """

    _description = BadRequest.description
    show_exception = False

    def __init__(self, arg: object = None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.args = () if arg is None else (arg,)

    @property
    def description(self) -> str:
        """The 400 description; with ``show_exception``, the missing key too."""
        if self.show_exception:
            return f"{self._description}\n{KeyError.__name__}: {KeyError.__str__(self)}"
        return self._description

    @description.setter
    def description(self, value: str) -> None:
        self._description = value

    def __str__(self) -> str:
        return HTTPException.__str__(self)


class ClientDisconnected(BadRequest):
    """400: the client went away before the request body was complete."""


class SecurityError(BadRequest):
    """400: the request was refused for a security reason."""


class BadHost(BadRequest):
    """400: the Host header is malformed or not trusted."""


class Unauthorized(HTTPException):
    """401: authentication is required; ``www_authenticate`` fills the header."""

    code = 401
    description = (
        "The server could not verify that you are authorized to access the URL requested."
        " You either supplied the wrong credentials (e.g. a bad password), or your browser"
        " doesn't understand how to supply the credentials required."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        www_authenticate: str | Iterable[str] | None = None,
    ) -> None:
        super().__init__(description, response)
        if isinstance(www_authenticate, str):
            www_authenticate = [www_authenticate]
        self.www_authenticate = list(www_authenticate or ())

    def get_headers(self) -> list[tuple[str, str]]:
        """Add one WWW-Authenticate header per challenge."""
        headers = super().get_headers()
        headers.extend(("WWW-Authenticate", str(value)) for value in self.www_authenticate)
        return headers


class PaymentRequired(HTTPException):
    """402: reserved for future use."""

    code = 402
    description = "Payment is required to access this resource."


class Forbidden(HTTPException):
    """403: the client may not access this resource."""

    code = 403
    description = (
        "You don't have the permission to access the requested resource. It is either"
        " read-protected or not readable by the server."
    )


class NotFound(HTTPException):
    """404: nothing matches the requested URL."""

    code = 404
    description = (
        "The requested URL was not found on the server. If you entered the URL manually"
        " please check your spelling and try again."
    )


class MethodNotAllowed(HTTPException):
    """405: the URL exists but not for this method; ``valid_methods`` fills Allow."""

    code = 405
    description = "The method is not allowed for the requested URL."

    def __init__(
        self,
        valid_methods: Iterable[str] | None = None,
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.valid_methods = list(valid_methods) if valid_methods is not None else None

    def get_headers(self) -> list[tuple[str, str]]:
        """Add the Allow header listing the valid methods."""
        headers = super().get_headers()
        if self.valid_methods:
            headers.append(("Allow", ", ".join(self.valid_methods)))
        return headers


class NotAcceptable(HTTPException):
    """406: no representation matches the Accept headers."""

    code = 406
    description = (
        "The resource identified by the request is only capable of generating response"
        " entities which have content characteristics not acceptable according to the"
        " accept headers sent in the request."
    )


class ProxyAuthenticationRequired(HTTPException):
    """407: the proxy requires authentication."""

    code = 407
    description = "The client must first authenticate itself with the proxy."


class RequestTimeout(HTTPException):
    """408: the client took too long to send the request."""

    code = 408
    description = (
        "The server closed the network connection because the browser didn't finish the"
        " request within the specified time."
    )


class Conflict(HTTPException):
    """409: the request conflicts with the resource's current state."""

    code = 409
    description = (
        "A conflict happened while processing the request. The resource might have been"
        " modified while the request was being processed."
    )


class Gone(HTTPException):
    """410: the resource is gone for good."""

    code = 410
    description = (
        "The requested URL is no longer available on this server and there is no forwarding"
        " address. If you followed a link from a foreign page, please contact the author of"
        " this page."
    )


class LengthRequired(HTTPException):
    """411: a Content-Length is required."""

    code = 411
    description = "A request with this method requires a valid <code>Content-Length</code> header."


class PreconditionFailed(HTTPException):
    """412: a conditional header did not hold."""

    code = 412
    description = "The precondition on the request for the URL failed positive evaluation."


class RequestEntityTooLarge(HTTPException):
    """413: the body is larger than the configured limit."""

    code = 413
    description = "The data value transmitted exceeds the capacity limit."


class RequestURITooLarge(HTTPException):
    """414: the URL is too long."""

    code = 414
    description = (
        "The length of the requested URL exceeds the capacity limit for this server. The"
        " request cannot be processed."
    )


class UnsupportedMediaType(HTTPException):
    """415: the body's media type is not supported here."""

    code = 415
    description = "The server does not support the media type transmitted in the request."


class RequestedRangeNotSatisfiable(HTTPException):
    """416: the Range cannot be served; ``length`` fills Content-Range."""

    code = 416
    description = "The server cannot provide the requested range."

    def __init__(
        self,
        length: int | None = None,
        units: str = "bytes",
        description: str | None = None,
        response: Response | None = None,
    ) -> None:
        super().__init__(description, response)
        self.length = length
        self.units = units

    def get_headers(self) -> list[tuple[str, str]]:
        """Add ``Content-Range: bytes */length`` when the length is known."""
        headers = super().get_headers()
        if self.length is not None:
            headers.append(("Content-Range", f"{self.units} */{self.length}"))
        return headers


class ExpectationFailed(HTTPException):
    """417: the Expect header cannot be met."""

    code = 417
    description = "The server could not meet the requirements of the Expect header"


class ImATeapot(HTTPException):
    """418: the server is a teapot (RFC 2324)."""

    code = 418
    description = "This server is a teapot, not a coffee machine"


class MisdirectedRequest(HTTPException):
    """421: the request reached a server that cannot answer for this host."""

    code = 421
    description = "The server is not able to produce a response."


class UnprocessableEntity(HTTPException):
    """422: well-formed but semantically wrong."""

    code = 422
    description = (
        "The request was well-formed but was unable to be followed due to semantic errors."
    )


class Locked(HTTPException):
    """423: the resource is locked."""

    code = 423
    description = "The resource that is being accessed is locked."


class FailedDependency(HTTPException):
    """424: a request this one depended on failed."""

    code = 424
    description = (
        "The method could not be performed on the resource because the requested action"
        " depended on another action and that action failed."
    )


class TooEarly(HTTPException):
    """425: the server will not risk processing a replayed request."""

    code = 425
    description = "The server is unwilling to risk processing a request that might be replayed."


class UpgradeRequired(HTTPException):
    """426: the client must switch protocols (e.g. a WebSocket route under WSGI)."""

    code = 426
    description = "The client should switch to a different protocol."


class PreconditionRequired(HTTPException):
    """428: the request must be conditional."""

    code = 428
    description = (
        'This request is required to be conditional; try using "If-Match" or "If-Unmodified-Since".'
    )


class _RetryAfter(HTTPException):
    """Adds ``Retry-After`` when ``retry_after`` (seconds) is given."""

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description, response)
        self.retry_after = retry_after

    def get_headers(self) -> list[tuple[str, str]]:
        """Add Retry-After when set."""
        headers = super().get_headers()
        if self.retry_after is not None:
            headers.append(("Retry-After", str(int(self.retry_after))))
        return headers


class TooManyRequests(_RetryAfter):
    """429: rate limited."""

    code = 429
    description = "This user has exceeded an allotted request count. Try again later."


class RequestHeaderFieldsTooLarge(HTTPException):
    """431: the headers are too large."""

    code = 431
    description = "One or more header fields exceeds the maximum size."


class UnavailableForLegalReasons(HTTPException):
    """451: unavailable for legal reasons."""

    code = 451
    description = "Unavailable for legal reasons."


class InternalServerError(HTTPException):
    """500: an unhandled error; ``original_exception`` holds what was raised."""

    code = 500
    description = (
        "The server encountered an internal error and was unable to complete your request."
        " Either the server is overloaded or there is an error in the application."
    )

    def __init__(
        self,
        description: str | None = None,
        response: Response | None = None,
        original_exception: BaseException | None = None,
    ) -> None:
        super().__init__(description, response)
        self.original_exception = original_exception


class NotImplemented(HTTPException):
    """501: the server does not support this action."""

    code = 501
    description = "The server does not support the action requested by the browser."


class BadGateway(HTTPException):
    """502: the upstream answered badly."""

    code = 502
    description = "The proxy server received an invalid response from an upstream server."


class ServiceUnavailable(_RetryAfter):
    """503: temporarily unavailable."""

    code = 503
    description = (
        "The server is temporarily unable to service your request due to maintenance"
        " downtime or capacity problems. Please try again later."
    )


class GatewayTimeout(HTTPException):
    """504: the upstream timed out."""

    code = 504
    description = "The connection to an upstream server timed out."


class HTTPVersionNotSupported(HTTPException):
    """505: unsupported HTTP version."""

    code = 505
    description = "The server does not support the HTTP protocol version used in the request."


class VariantAlsoNegotiates(HTTPException):
    """506: content negotiation loops."""

    code = 506
    description = "The server has an internal configuration error in content negotiation."


class InsufficientStorage(HTTPException):
    """507: no room to complete the request."""

    code = 507
    description = "The server is unable to store the representation needed to complete the request."


class LoopDetected(HTTPException):
    """508: an infinite loop was detected."""

    code = 508
    description = "The server detected an infinite loop while processing the request."


class NotExtended(HTTPException):
    """510: further extensions are required."""

    code = 510
    description = "Further extensions to the request are required for the server to fulfil it."


class NetworkAuthenticationFailed(HTTPException):
    """511: network authentication is required."""

    code = 511
    description = "The client needs to authenticate to gain network access."


def _collect() -> dict[int, type[HTTPException]]:
    table: dict[int, type[HTTPException]] = {}
    for name in __all__:
        obj = globals().get(name)
        if isinstance(obj, type) and issubclass(obj, HTTPException):
            code = obj.code
            if code is not None and code not in table:
                table[code] = obj
    return table


#: Every HTTP error class by its code; ``abort`` looks codes up here.
default_exceptions: dict[int, type[HTTPException]] = _collect()


class Aborter:
    """Raise the HTTP error for a code, or a response as it is.

    ``mapping`` starts as ``default_exceptions``; ``extra`` adds or overrides.
    """

    def __init__(self, extra: dict[int, type[HTTPException]] | None = None) -> None:
        self.mapping = dict(default_exceptions)
        if extra:
            self.mapping.update(extra)

    def __call__(self, code: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
        """Raise the error for ``code``; a Response is raised wrapped as it is."""
        if not isinstance(code, int):
            raise HTTPException(response=code)
        if code not in self.mapping:
            raise LookupError(f"no exception for {code!r}")
        raise self.mapping[code](*args, **kwargs)


_aborter = Aborter()


def abort(code: int | Response, *args: Any, **kwargs: Any) -> NoReturn:
    """Raise the HTTP error for ``code`` (``abort(404)``, ``abort(403, "why")``).

    Given a Response, raise it so that it is sent as it is. An unknown code
    raises LookupError, as Werkzeug.
    """
    _aborter(code, *args, **kwargs)
