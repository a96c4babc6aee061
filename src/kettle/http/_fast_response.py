"""What the hot path asks of a response class instead of reading it (``kettle.http._watched``).

- ``TEXT_CLASSES``: a class whose ``cls(text)`` is ``Response.__init__``'s common
  case unchanged (no ``__init__``, ``__new__``, metaclass call or attribute hook of
  its own; ``default_mimetype`` "text/html", ``default_status`` 200, ``charset``
  "utf-8"): ``text_response`` builds it in the same steps,
  without the three class attributes read through the instance (about 600
  instructions on Python 3.11) nor the constructor's argument tests.
- ``JSON_CLASSES``: the same for ``cls(body, content_type=...)`` (any default
  mimetype; ``set_data`` Response's own): the JSON provider builds it directly.
- ``PLAIN_STATUS``: a class whose ``status`` and ``status_code`` are Response's own
  properties: an adapter reads the fields they read (a property read is about 420).

Each is learned on a class's first use and forgotten when any watched class changes.

``text_response`` is the C ``TextResponse`` of ``kettle.http._response`` when that
optional accelerator is built (the same steps, the same object, one frame and
the bytecode saved); ``python_text_response`` is its Python twin, which the C
object keeps and calls for any call of another form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kettle._accelerators import accelerator
from kettle.http._watched import fact_table, keeps, learned, static_attribute
from kettle.http.headers import LENGTH_VALUES, Headers
from kettle.http.response import _DEFAULT_TYPE_PAIR, Response

if TYPE_CHECKING:
    from kettle.wrappers import Response as AppResponse

_new = object.__new__
_INIT = Response.__dict__["__init__"]
_SET_DATA = Response.__dict__["set_data"]
_OBJECT_NEW = object.__dict__["__new__"]
_GETATTRIBUTE = object.__dict__["__getattribute__"]
#: What ``plain_status`` asks of a class: Response's own objects, by identity.
_PLAIN_STATUS_ATTRIBUTES = (
    ("status", Response.__dict__["status"]),
    ("status_code", Response.__dict__["status_code"]),
    ("__getattribute__", _GETATTRIBUTE),
)

#: The classes ``text_response`` may build (values unused).
TEXT_CLASSES: dict[type, bool] = fact_table()
_NOT_TEXT: dict[type, bool] = fact_table()
#: The classes whose JSON responses ``json_class`` allows built directly (values unused).
JSON_CLASSES: dict[type, bool] = fact_table()
_NOT_JSON: dict[type, bool] = fact_table()
#: The classes whose status properties are Response's (values unused).
PLAIN_STATUS: dict[type, bool] = fact_table()
_OWN_STATUS: dict[type, bool] = fact_table()


def _built_plainly(cls: Any) -> bool:
    """True when ``cls(...)`` runs ``Response.__init__`` unchanged, status 200, body in UTF-8."""
    status = static_attribute(cls, "default_status")
    charset = static_attribute(cls, "charset")
    return (
        type(cls).__call__ is type.__call__
        and static_attribute(cls, "__new__") is _OBJECT_NEW
        and static_attribute(cls, "__init__") is _INIT
        and static_attribute(cls, "__getattribute__") is _GETATTRIBUTE
        and type(status) is int
        and status == 200
        and type(charset) is str
        and charset == "utf-8"
    )


def _text_class(cls: Any) -> bool:
    """``_built_plainly`` with ``default_mimetype`` "text/html" (``TEXT_CLASSES``)."""
    mimetype = static_attribute(cls, "default_mimetype")
    return _built_plainly(cls) and type(mimetype) is str and mimetype == "text/html"


def python_text_response(cls: Any, text: str) -> AppResponse:
    """``cls(text)`` for a class in ``TEXT_CLASSES``: ``Response.__init__``'s steps."""
    self = _new(cls)
    data = text.encode()
    self.headers = made = _new(Headers)
    size = len(data)
    made._list = [
        _DEFAULT_TYPE_PAIR,
        ("Content-Length", LENGTH_VALUES[size] if size < 4096 else str(size)),
    ]
    self._status_code, self._status = 200, "200 OK"
    self.direct_passthrough = False
    self.has_close_callbacks = False
    self.response = [data]
    return self  # type: ignore[no-any-return]


#: The C ``text_response`` (``_response.c``), or None: ``python_text_response`` is used.
_TextResponse = accelerator("kettle.http._response", "TextResponse")
#: ``cls(text)`` for a class in ``TEXT_CLASSES`` (what ``return_values`` imports).
text_response = python_text_response
if _TextResponse is not None:  # The constants the Python function writes, given once.
    text_response = _TextResponse(
        python_text_response, Headers, _DEFAULT_TYPE_PAIR, "Content-Length", LENGTH_VALUES,
        200, "200 OK",
    )  # fmt: skip


def new_text_response(cls: Any, text: str) -> AppResponse:
    """``cls(text)``: built by ``text_response`` when the class allows (learned here)."""
    if learned(cls, _text_class, TEXT_CLASSES, _NOT_TEXT):
        return text_response(cls, text)
    return cls(text)  # type: ignore[no-any-return]


def json_class(cls: Any) -> bool:
    """True when ``cls(body, content_type=...)`` is Response's own steps: a 200, UTF-8 body.

    ``set_data`` too must be Response's (the constructor encodes a str body with it).
    Learned once per class, as ``TEXT_CLASSES``.
    """
    return learned(cls, _json_class, JSON_CLASSES, _NOT_JSON)


def _json_class(cls: Any) -> bool:
    """``_built_plainly`` with Response's own ``set_data`` (``JSON_CLASSES``)."""
    return _built_plainly(cls) and static_attribute(cls, "set_data") is _SET_DATA


def plain_status(cls: type) -> bool:
    """True when ``cls`` keeps Response's ``status`` and ``status_code`` (learned once)."""
    return keeps(cls, _PLAIN_STATUS_ATTRIBUTES, PLAIN_STATUS, _OWN_STATUS)
