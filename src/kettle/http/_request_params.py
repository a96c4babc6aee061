"""``Request.args`` and ``Request.form``: lazy attributes whose first read is one frame.

Each is its own small descriptor class (a non-data descriptor, as
``cached_property``): its ``__get__`` computes the value, stores it on the
request (where later reads find it without calling anything) and returns
it. A ``cached_property`` costs two Python frames on the first read (its
``__get__``, then the function); these are read on most requests that have
a query string or a form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self, overload

from kettle.http._lazy import PLAIN_SETATTR
from kettle.http.datastructures import ImmutableMultiDict
from kettle.http.urls import iter_qsl, query_multidict

if TYPE_CHECKING:
    from kettle.http.request import Request


class Args:
    """``Request.args``: the parsed query string (never raises on bad encoding).

    Computed on first read and stored on the request, as a ``cached_property``
    (``kettle.http._lazy``) would, in one frame instead of two.
    """

    @overload
    def __get__(self, request: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(
        self, request: Request, owner: type | None = None
    ) -> ImmutableMultiDict[str, str]: ...
    def __get__(
        self, request: Request | None, owner: type | None = None
    ) -> Self | ImmutableMultiDict[str, str]:
        if request is None:
            return self
        storage = request.parameter_storage_class
        if storage is ImmutableMultiDict:
            # Built in one frame (the common query, short without escapes, in one loop).
            args = query_multidict(request.query_string)
        else:
            args = storage(iter_qsl(request.query_string))
        if type(request).__setattr__ is PLAIN_SETATTR:  # As ``cached_property`` stores.
            request.args = args
        else:
            request.__dict__["args"] = args
        return args


class Form:
    """``Request.form``: the fields of a urlencoded or multipart body (empty for other bodies).

    Computed on first read and stored on the request, as ``Args``.
    """

    @overload
    def __get__(self, request: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(
        self, request: Request, owner: type | None = None
    ) -> ImmutableMultiDict[str, str]: ...
    def __get__(
        self, request: Request | None, owner: type | None = None
    ) -> Self | ImmutableMultiDict[str, str]:
        if request is None:
            return self
        if request._default_form_hooks:
            # The common form, exactly this Content-Type: decoded here, ``files`` left lazy.
            length = request._urlencoded_length()
            form = None if length is None else request._short_urlencoded_form(length)
            if form is not None:
                if type(request).__setattr__ is PLAIN_SETATTR:  # As ``cached_property``.
                    request.form = form
                else:
                    request.__dict__["form"] = form
                return form
        request._load_form_data()  # Stores ``form`` (and ``files``).
        return request.__dict__["form"]  # type: ignore[no-any-return]
