"""``Request.args`` and ``Request.form``: lazy attributes whose first read is one frame.

Each is its own small descriptor class (a non-data descriptor, as
``cached_property``): its ``__get__`` computes the value, stores it on the
request (where later reads find it without calling anything) and returns
it. A ``cached_property`` costs two Python frames on the first read (its
``__get__``, then the function); these are read on most requests that have
a query string or a form.
"""

from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING, Any, Self, overload

from kettle._accelerators import accelerator
from kettle.http._lazy import store
from kettle.http._watched import class_version
from kettle.http.datastructures import ImmutableMultiDict
from kettle.http.urls import iter_qsl, query_multidict

if TYPE_CHECKING:
    from kettle.http.request import Request

#: What a class may override to change how a form is parsed. While a request's class
#: resolves each name to the same object as a class in ``KEPT_FORM_HOOKS`` does, a short
#: urlencoded body is decoded directly, without a parser. Read on every form, in one C
#: call (about 3,600 instructions): an attribute assigned on a class after it was made
#: (``MyRequest.max_form_parts = 2``) counts at once, as in Flask.
form_hooks = attrgetter(
    *("_load_form_data", "make_form_data_parser", "form_data_parser_class"),
    *("mimetype", "stream", "content_type", "content_length", "_config"),
    *("max_content_length", "max_form_memory_size", "max_form_parts"),
)
#: ``form_hooks`` of ``Request`` and of each class made with ``_keeps_form_hooks`` (its
#: own hooks keep their meaning), taken when the class was made; the latest first.
KEPT_FORM_HOOKS: list[tuple[Any, ...]] = []


#: The classes whose hooks were found kept, each with its ``class_version`` then: the
#: answer holds while the class (and every class it derives from) is unchanged, and the
#: list only grows. Bounded: classes made per request would only be asked again.
_KEPT_AT: dict[type, int] = {}


def default_form_hooks(request: Request) -> bool:
    """True while ``request``'s class holds the form hooks of a class in ``KEPT_FORM_HOOKS``."""
    cls = type(request)
    version = 0 if class_version is None else class_version(cls)
    return (version != 0 and _KEPT_AT.get(cls) == version) or hooks_kept_now(cls, version)


def hooks_kept_now(cls: type, version: int) -> bool:
    """``default_form_hooks``' answer read from the class (``form_hooks``), kept if positive."""
    kept = form_hooks(cls) in KEPT_FORM_HOOKS
    if kept and version:
        if len(_KEPT_AT) >= 256:
            _KEPT_AT.clear()
        _KEPT_AT[cls] = version
    return kept


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
        store(request, "args", args)  # As ``cached_property`` stores.
        return args


#: The C twin of ``Args`` (``_urlencoded.c``), or None: ``Args`` itself.
_QueryArgs = accelerator("kettle.http._urlencoded", "QueryArgs")


def args_descriptor() -> Args:
    """``Request.args``: the C ``QueryArgs`` when it is built, else ``Args``.

    The C one parses and stores the common case itself (an ImmutableMultiDict,
    a class with object's ``__setattr__``, bytes) and calls ``Args.__get__`` for
    any other: the same answer, without two Python frames on the first read.
    """
    python = Args()
    if _QueryArgs is None:
        return python
    return _QueryArgs(python.__get__, ImmutableMultiDict, "args")  # type: ignore[no-any-return]


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
        if default_form_hooks(request):
            # The common form, exactly this Content-Type: decoded here, ``files`` left lazy.
            length = request._urlencoded_length()
            if length is not None:
                form = request._short_urlencoded_form(length)  # Stored there.
                if form is not None:
                    return form
        request._load_form_data()  # Stores ``form`` (and ``files``).
        return request.__dict__["form"]  # type: ignore[no-any-return]
