"""JSON providers: the object behind ``app.json`` (``kettle.json.provider``, as Flask's).

The default provider matches Flask's: sorted keys, ASCII output, compact
outside debug, and support for dates (HTTP date format), UUIDs, decimals,
dataclasses and objects with ``__html__``.
"""

from __future__ import annotations

import dataclasses
import decimal
import json as _json
import json.encoder as _json_encoder
import uuid
import weakref
from collections.abc import Callable
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any, cast

from kettle.http._fast_response import JSON_CLASSES, json_class

if TYPE_CHECKING:
    from kettle.app import Kettle
    from kettle.wrappers import Response


def _default(o: Any) -> Any:
    if isinstance(o, date):
        # Flask sends dates as HTTP dates in UTC; naive values are taken as UTC.
        if not isinstance(o, datetime):
            o = datetime(o.year, o.month, o.day, tzinfo=UTC)
        elif o.tzinfo is None:
            o = o.replace(tzinfo=UTC)
        return format_datetime(o.astimezone(UTC), usegmt=True)
    if isinstance(o, decimal.Decimal | uuid.UUID):
        return str(o)
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        return dataclasses.asdict(o)
    if hasattr(o, "__html__"):
        return str(o.__html__())
    raise TypeError(f"Object of type {type(o).__name__} is not JSON serializable")


class JSONProvider:
    """The interface of ``app.json``: dumps, loads and response."""

    def __init__(self, app: Kettle) -> None:
        # A weak proxy: the app holds its provider, so a fresh app is freed by refcount.
        self._app = cast("Kettle", weakref.proxy(app))

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize ``obj`` to a JSON string."""
        raise NotImplementedError

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Deserialize JSON text or bytes."""
        raise NotImplementedError

    def dump(self, obj: Any, fp: Any, **kwargs: Any) -> None:
        """Serialize ``obj`` into a text file."""
        fp.write(self.dumps(obj, **kwargs))

    def load(self, fp: Any, **kwargs: Any) -> Any:
        """Deserialize from a file."""
        return self.loads(fp.read(), **kwargs)

    def _prepare_response_obj(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        if args and kwargs:
            raise TypeError("app.json.response() takes either args or kwargs, not both")
        if not args and not kwargs:
            return None
        if len(args) == 1:
            return args[0]
        return args or kwargs

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Return a JSON response for ``args`` (one value or several as a list) or ``kwargs``."""
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(self.dumps(obj), mimetype="application/json")


_ENCODERS: dict[tuple[Any, bool, bool], Callable[[Any], str]] = {}


class DefaultJSONProvider(JSONProvider):
    """Flask's default JSON behaviour, with the standard library."""

    default = staticmethod(_default)
    ensure_ascii = True
    sort_keys = True
    #: None: compact unless the app is in debug mode.
    compact: bool | None = None
    mimetype = "application/json"

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize with ``default``, ``ensure_ascii`` and ``sort_keys`` applied."""
        kwargs.setdefault("default", self.default)
        kwargs.setdefault("ensure_ascii", self.ensure_ascii)
        kwargs.setdefault("sort_keys", self.sort_keys)
        return _json.dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Deserialize with the standard library."""
        return _json.loads(s, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Return a JSON response; indented in debug, compact otherwise, newline-terminated."""
        obj = args[0] if len(args) == 1 and not kwargs else self._prepare_response_obj(args, kwargs)
        app = self._app
        compact = self.compact
        if compact is False or (compact is None and app.config["DEBUG"]):
            text = self.dumps(obj, indent=2, separators=None)
        elif type(self).dumps is DefaultJSONProvider.dumps:
            text = self._compact_encoder()(obj)
        else:
            text = self.dumps(obj, separators=(",", ":"))
        cls = app.response_class
        if self.mimetype == "application/json":
            if cls in JSON_CLASSES or json_class(cls):
                # Nothing custom in the class's construction (``_fast_response``): in one step.
                data = f"{text}\n".encode()
                headers = [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
                return cls._ready(data, 200, "200 OK", headers)
            # No charset to add: skip the mimetype lookup in the constructor.
            return cls(f"{text}\n", content_type="application/json")
        return cls(f"{text}\n", mimetype=self.mimetype)

    def _compact_encoder(self) -> Callable[[Any], str]:
        """Return a compact encode function for the current settings, made once each.

        ``json.dumps`` builds an encoder on every call when given options;
        reusing one saves that on every JSON response.
        """
        key = (self.default, self.ensure_ascii, self.sort_keys)
        encode = _ENCODERS.get(key)
        if encode is None:
            encode = _ENCODERS[key] = _compact(*key)
        return encode


def _compact(
    default: Callable[[Any], Any], ensure_ascii: bool, sort_keys: bool
) -> Callable[[Any], str]:
    """Return ``encode(obj)``: compact JSON, as ``JSONEncoder.encode`` would write it."""
    checked = _json.JSONEncoder(
        default=default, ensure_ascii=ensure_ascii, sort_keys=sort_keys, separators=(",", ":")
    )
    make = getattr(_json_encoder, "c_make_encoder", None)
    if make is None:
        return checked.encode
    # The C encoder, built once, without the per-call circular-reference table
    # (a shared table would be wrong across threads). A cycle then recurses
    # to the limit; encoding again with the checks gives the usual ValueError.
    string = (
        _json_encoder.encode_basestring_ascii if ensure_ascii else _json_encoder.encode_basestring
    )
    fast = make(None, default, string, None, ":", ",", sort_keys, False, True)

    def encode(obj: Any) -> str:
        try:
            return "".join(fast(obj, 0))
        except RecursionError:
            return checked.encode(obj)

    return encode


class OrjsonProvider(DefaultJSONProvider):
    """An opt-in provider using orjson: ``app.json = OrjsonProvider(app)``.

    Same output types as the default (sorted keys, dates as HTTP dates,
    UUIDs, decimals, dataclasses, ``__html__``), several times faster for
    large bodies. orjson always writes UTF-8, so ``ensure_ascii`` is ignored.
    """

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        """Serialize with orjson (falls back to the standard library for custom kwargs)."""
        import orjson

        indent = kwargs.pop("indent", None)
        kwargs.pop("separators", None)
        if kwargs.pop("default", None) is not None or kwargs.get("cls"):
            return super().dumps(obj, indent=indent, **kwargs)
        option = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
        option |= orjson.OPT_NON_STR_KEYS
        if kwargs.get("sort_keys", self.sort_keys):
            option |= orjson.OPT_SORT_KEYS
        if indent:
            option |= orjson.OPT_INDENT_2
        return orjson.dumps(obj, default=_default, option=option).decode()

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        """Deserialize with orjson."""
        import orjson

        if kwargs:
            return super().loads(s, **kwargs)
        return orjson.loads(s)
