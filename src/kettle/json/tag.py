"""Tagged JSON: JSON that round-trips tuples, bytes, Markup, UUIDs and datetimes.

The format is Flask's (``flask.json.tag``), so session cookies move between
Flask and Kettle apps that share a secret key: a value that JSON cannot hold
is written as a one-key object ``{" t": [...]}`` whose key names its type. A
plain dict whose only key happens to be a tag is escaped as ``{" di": {...}}``
with ``__`` appended to the key.

Most sessions hold plain JSON only (str keys; str, int, float, bool, None,
lists and dicts of those). Tagging such a value changes nothing unless a
dict's only key is a tag name, so ``dumps`` checks for that in one walk and
skips the tagging copy; ``loads`` untags in the JSON parser's object hook,
one pass instead of a parse and a rebuild. Both shortcuts are exact and are
taken only while the tags are the default ones and ``tag`` is not overridden.
"""

from __future__ import annotations

import json
from base64 import b64decode, b64encode
from datetime import datetime
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any
from uuid import UUID

from markupsafe import Markup

from kettle.http.dates import http_date, parse_date


class JSONTag:
    """One tagged type: ``key`` names it, ``check`` recognises it, the two ``to_*`` convert."""

    key: str = ""

    def __init__(self, serializer: TaggedJSONSerializer) -> None:
        self.serializer = serializer

    def check(self, value: Any) -> bool:
        """Return True when this tag handles ``value``."""
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        """Convert ``value`` into something JSON holds."""
        raise NotImplementedError

    def to_python(self, value: Any) -> Any:
        """Convert the JSON form back."""
        raise NotImplementedError

    def tag(self, value: Any) -> Any:
        """Return ``{key: to_json(value)}`` (or the bare form for untagged passes)."""
        return {self.key: self.to_json(value)} if self.key else self.to_json(value)


class TagDict(JSONTag):
    """A one-key dict whose key is a tag name (escaped so it is not mistaken for a tag)."""

    key = " di"

    def check(self, value: Any) -> bool:
        """Return True for a dict with one key that is a registered tag."""
        return (
            isinstance(value, dict)
            and len(value) == 1
            and next(iter(value)) in self.serializer.tags
        )

    def to_json(self, value: Any) -> Any:
        """Append ``__`` to the key."""
        key = next(iter(value))
        return {f"{key}__": self.serializer.tag(value[key])}

    def to_python(self, value: Any) -> Any:
        """Strip the ``__``."""
        key = next(iter(value))
        return {key[:-2]: value[key]}


class PassDict(JSONTag):
    """Any other dict: tag its values."""

    def check(self, value: Any) -> bool:
        """Return True for a dict."""
        return isinstance(value, dict)

    def to_json(self, value: Any) -> Any:
        """Tag each value (JSON keys are strings)."""
        return {k: self.serializer.tag(v) for k, v in value.items()}


class TagTuple(JSONTag):
    """A tuple, kept a tuple."""

    key = " t"

    def check(self, value: Any) -> bool:
        """Return True for a tuple."""
        return isinstance(value, tuple)

    def to_json(self, value: Any) -> Any:
        """Tag the items."""
        return [self.serializer.tag(item) for item in value]

    def to_python(self, value: Any) -> Any:
        """Make a tuple."""
        return tuple(value)


class PassList(JSONTag):
    """A list: tag its items."""

    def check(self, value: Any) -> bool:
        """Return True for a list."""
        return isinstance(value, list)

    def to_json(self, value: Any) -> Any:
        """Tag the items."""
        return [self.serializer.tag(item) for item in value]


class TagBytes(JSONTag):
    """Bytes, as base64."""

    key = " b"

    def check(self, value: Any) -> bool:
        """Return True for bytes."""
        return isinstance(value, bytes)

    def to_json(self, value: Any) -> Any:
        """Encode as base64 text."""
        return b64encode(value).decode("ascii")

    def to_python(self, value: Any) -> Any:
        """Decode the base64 text."""
        return b64decode(value)


class TagMarkup(JSONTag):
    """An object with ``__html__`` (MarkupSafe's Markup), read back as Markup."""

    key = " m"

    def check(self, value: Any) -> bool:
        """Return True for objects with a callable ``__html__``."""
        return callable(getattr(value, "__html__", None))

    def to_json(self, value: Any) -> Any:
        """Render the HTML."""
        return str(value.__html__())

    def to_python(self, value: Any) -> Any:
        """Wrap in Markup."""
        return Markup(value)


class TagUUID(JSONTag):
    """A UUID, as its hex string."""

    key = " u"

    def check(self, value: Any) -> bool:
        """Return True for a UUID."""
        return isinstance(value, UUID)

    def to_json(self, value: Any) -> Any:
        """Return the hex form."""
        return value.hex

    def to_python(self, value: Any) -> Any:
        """Parse the hex form."""
        return UUID(value)


class TagDateTime(JSONTag):
    """A datetime, as an HTTP date (second precision, read back in UTC)."""

    key = " d"

    def check(self, value: Any) -> bool:
        """Return True for a datetime."""
        return isinstance(value, datetime)

    def to_json(self, value: Any) -> Any:
        """Format as an HTTP date."""
        return http_date(value)

    def to_python(self, value: Any) -> Any:
        """Parse the HTTP date."""
        return parse_date(value)


class TaggedJSONSerializer:
    """Serialize with tags so the extra types survive a JSON round trip (Flask's format)."""

    default_tags: list[type[JSONTag]] = [
        TagDict,
        PassDict,
        TagTuple,
        PassList,
        TagBytes,
        TagMarkup,
        TagUUID,
        TagDateTime,
    ]

    def __init__(self) -> None:
        self.tags: dict[str, JSONTag] = {}
        self.order: list[JSONTag] = []
        for cls in self.default_tags:
            self.register(cls)
        # The order under which plain JSON needs no tagging: Flask's tags, in
        # Flask's order, with ``tag`` itself not overridden. ``dumps`` compares
        # the live order with it, so a tag registered later turns the shortcut off.
        plain = (
            type(self).tag is TaggedJSONSerializer.tag
            and [type(tag) for tag in self.order] == TaggedJSONSerializer.default_tags
        )
        self._plain_order: list[JSONTag] | None = list(self.order) if plain else None
        self._decoder = json.JSONDecoder(object_hook=self.untag)
        self._plain_decoder = json.JSONDecoder()
        #: Texts ``loads`` parsed to a flat dict of plain values under the plain
        #: order, with that dict: the same text parses to an equal one (a copy).
        self._parsed: dict[str, dict[str, Any]] = {}

    def register(
        self, tag_class: type[JSONTag], force: bool = False, index: int | None = None
    ) -> None:
        """Add a tag; ``index`` places it in the check order (end by default)."""
        tag = tag_class(self)
        if tag.key:
            if not force and tag.key in self.tags:
                raise KeyError(f"Tag '{tag.key}' is already registered.")
            self.tags[tag.key] = tag
        if index is None:
            self.order.append(tag)
        else:
            self.order.insert(index, tag)

    def tag(self, value: Any) -> Any:
        """Return ``value`` with tagged types converted."""
        for tag in self.order:
            if tag.check(value):
                return tag.tag(value)
        return value

    def untag(self, value: dict[str, Any]) -> Any:
        """Convert a one-key tagged object back; any other dict is returned as is."""
        if len(value) != 1:
            return value
        key = next(iter(value))
        tag = self.tags.get(key)
        return value if tag is None else tag.to_python(value[key])

    def dumps(self, value: Any) -> str:
        """Tag and serialize compactly, keys sorted."""
        if (
            self._plain_order is not None
            and self.order == self._plain_order
            and _plain(value, self.tags)
        ):
            # A plain tree (the walk would have recursed forever on a cycle, as
            # tagging does), so the one-shot C encoder needs no cycle marks.
            return "".join(_encode_plain(value, 0)) if _encode_plain else _ENCODER.encode(value)
        return _ENCODER.encode(self.tag(value))

    def loads(self, value: str | bytes) -> Any:
        """Parse and untag (each object as the parser makes it, innermost first)."""
        if type(value) is str:
            # A session cookie comes back on request after request: the flat dict
            # its text gave, copied (a plain order can only be the same tags).
            parsed = self._parsed.get(value)
            if parsed is not None and self.order == self._plain_order:
                return parsed.copy()
            # Every tag key starts with a space: text in which no string starts
            # with one (written as is or as a \u escape) holds no tag to undo,
            # while only Flask's tags are registered.
            plain = (
                '" ' not in value
                and "\\u" not in value
                and self._plain_order is not None
                and self.order == self._plain_order
            )
            decoder = self._plain_decoder if plain else self._decoder
            # What json.loads does with text, minus its wrappers: scan one value
            # from the start; anything else (whitespace around it, a BOM, an
            # error) goes the whole way for json's own handling and messages.
            try:
                result, end = decoder.scan_once(value, 0)  # type: ignore[attr-defined]
            except StopIteration:
                pass
            else:
                if end == len(value):
                    # A dict whose text opens no other object or array holds only
                    # scalars (a brace inside a string only keeps it out): kept.
                    if (
                        plain
                        and type(result) is dict
                        and "[" not in value
                        and value.find("{", 1) < 0
                        and len(value) <= _PARSED_SIZE
                    ):
                        parsed = self._parsed
                        if len(parsed) >= _PARSED_TEXTS:
                            parsed.clear()  # as the signer's known cookies: no scan for the oldest
                        parsed[value] = result.copy()
                    return result
        return json.loads(value, object_hook=self.untag)


def _plain(value: Any, tags: dict[str, JSONTag]) -> bool:
    """Return True when tagging ``value`` would return an equal copy (plain JSON, no tag-like key).

    Exact types only: a str subclass may carry ``__html__``, a tuple or a
    dict subclass may have a tag of its own.
    """
    cls = type(value)  # not __class__, which an object may claim
    if cls is dict:  # first: a session is one
        single = len(value) == 1
        for key, item in value.items():
            if type(key) is not str or (single and key in tags):
                return False  # not JSON's, or a lone tag-like key that TagDict escapes
            kind = type(item)
            # Scalars checked here, without a call per value.
            if not (kind is str or kind is int or kind is bool or kind is float) and (
                item is not None and not _plain(item, tags)
            ):
                return False
        return True
    if cls is str or cls is int or cls is float or cls is bool or value is None:
        return True
    if cls is list:
        return all(_plain(item, tags) for item in value)
    return False


#: How many texts a serializer keeps parsed, and the longest it keeps.
_PARSED_TEXTS = 512
_PARSED_SIZE = 4096


def _default(value: Any) -> Any:
    from kettle.json.provider import _default as json_default

    return json_default(value)


# The one encoder ``dumps`` uses (what json.dumps would build on every call).
_ENCODER = json.JSONEncoder(separators=(",", ":"), sort_keys=True, default=_default)
# Its C core, built once without cycle marks, for trees ``_plain`` has walked.
_encode_plain: Any = (
    None
    if c_make_encoder is None
    else c_make_encoder(None, _default, encode_basestring_ascii, None, ":", ",", True, False, True)
)
