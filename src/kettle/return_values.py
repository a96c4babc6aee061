"""What a view may return, and how each kind becomes a response: a table by type.

``make_response`` unpacks a ``(body, status, headers)`` tuple, then looks
the body's class up in ``CONVERTERS``: str and bytes become the body of a
new response, dict and list JSON, a response is kept, an HTTP error renders
itself. A class not in the table (a subclass, a generator, a Werkzeug
error, a WSGI application) is resolved once by ``converter_for`` and added,
so every later value of that class costs one dict lookup.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

from kettle.ctx import _cv_get
from kettle.http._fast_response import TEXT_CLASSES, new_text_response, text_response
from kettle.http.exceptions import HTTPException
from kettle.http.headers import Headers
from kettle.http.response import Response as _BaseResponse
from kettle.interop import as_kettle_exception, from_wsgi_app

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.wrappers import Response

#: ``convert(app, value)`` returns the response for ``value``; ``make_response``
#: then applies the status and headers of a tuple. ``_body`` is the exception:
#: the body, its status and headers are one construction.
Converter = Callable[[Any, Any], "Response"]


def _body(app: Kettle, value: Any) -> Response:
    return app.response_class(value)


def _json(app: Kettle, value: Any) -> Response:
    return app.json.response(value)


# The two below are hot (a view's Response, a 404): annotated locals, not typing.cast calls.
def _response(app: Kettle, value: Any) -> Response:
    response: Response = value
    return response


def _http_error(app: Kettle, value: Any) -> Response:
    response: Response = value.get_response()
    return response


def _foreign_error(app: Kettle, value: Any) -> Response:
    translated = as_kettle_exception(value)
    if translated is None:
        _invalid(app, value)
    return cast("Response", cast(HTTPException, translated).get_response())


def _wsgi_app(app: Kettle, value: Any) -> Response:
    # A WSGI application (a Werkzeug Response is one), as Flask's make_response.
    return cast("Response", from_wsgi_app(value, _cv_get().request))


def _invalid(app: Kettle, value: Any) -> Response:
    raise TypeError(
        "The view function did not return a valid response. The return type must be"
        " a string, dict, list, tuple with headers or status, Response instance, or"
        f" WSGI callable, but it was a {type(value).__name__}."
    )


#: The converter of each class of return value; filled further by ``converter_for``.
CONVERTERS: dict[type, Converter] = {
    str: _body,
    bytes: _body,
    bytearray: _body,
    dict: _json,
    list: _json,
}

# Checked in this order for a class not in the table yet.
_BY_BASE: tuple[tuple[type, Converter], ...] = (
    (_BaseResponse, _response),
    (HTTPException, _http_error),
    (dict, _json),
    (list, _json),
    (str, _body),
    (bytes, _body),
    (bytearray, _body),
    (Iterator, _body),
    (AsyncIterable, _body),
    (BaseException, _foreign_error),
)


def converter_for(cls: type) -> Converter:
    """Return (and remember) the converter for values of class ``cls``."""
    convert = CONVERTERS.get(cls)
    if convert is not None:
        return convert
    for base, candidate in _BY_BASE:
        if issubclass(cls, base):
            convert = candidate
            break
    else:
        # A callable object is a WSGI application; anything else is refused.
        convert = _wsgi_app if _instances_are_callable(cls) else _invalid
    CONVERTERS[cls] = convert
    return convert


def _instances_are_callable(cls: type) -> bool:
    # Instances are callable when a class of the MRO defines __call__; a class object
    # itself (an instance of ``type``) is not a WSGI application.
    if issubclass(cls, type):
        return False
    return any("__call__" in vars(base) for base in cls.__mro__)


def make_response(app: Kettle, rv: Any) -> Response:
    """Convert a view's return value into a response object (every Flask form)."""
    if rv.__class__ is str:  # The most common return value: built directly when it can be.
        cls = app.response_class
        if cls in TEXT_CLASSES:
            return text_response(cls, rv)
        return new_text_response(cls, rv)
    if rv.__class__ is dict:
        return app.json.response(rv)  # The next most common (the table's ``_json``).
    status: Any = None
    headers: Any = None
    if rv.__class__ is tuple:
        length = len(rv)
        if length == 3:
            rv, status, headers = rv
        elif length == 2:
            if isinstance(rv[1], Headers | dict | tuple | list):
                rv, headers = rv
            else:
                rv, status = rv
        else:
            raise TypeError(
                "The view function did not return a valid response tuple. The tuple must have"
                " the form (body, status, headers), (body, status), or (body, headers)."
            )
    if rv is None:
        request = _cv_get().request
        endpoint = request.endpoint if request is not None else None
        raise TypeError(
            f"The view function for {endpoint!r} did not return a valid response. The"
            " function either returned None or ended without a return statement."
        )
    kind = rv.__class__
    if kind is dict:
        response = app.json.response(rv)  # The table's ``_json``, without the call.
    else:
        # The body and its status and headers in one construction (str: without the table).
        if kind is str or (convert := CONVERTERS.get(kind) or converter_for(kind)) is _body:
            if status is None and headers is None:
                return app.response_class(rv)
            return app.response_class(rv, status, headers)
        response = convert(app, rv)
    if status is not None:
        response.status = status
    if headers:
        response.headers.update(headers)
    return response
