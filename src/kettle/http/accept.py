"""Accept headers (RFC 9110 12.5): values with quality, best match, ``in``.

``Accept: text/html, application/json;q=0.9, */*;q=0.1`` becomes a list of
(value, quality) pairs sorted best first; a malformed quality counts as 0
rather than raising, since the header is client input.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Self


def _quality(params: str) -> float:
    # RFC 9110 12.4.2: qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ),
    # ASCII digits only; anything else ("1e3", "nan", "٣") counts as 0.
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "q":
            value = value.strip()
            if not (
                0 < len(value) <= 5 and value.isascii() and value.replace(".", "", 1).isdigit()
            ):
                return 0.0
            q = float(value)
            return q if q <= 1.0 else 0.0
    return 1.0


class Accept(list[tuple[str, float]]):
    """A parsed Accept-* header: (value, quality) pairs, best first."""

    def __init__(self, values: Iterable[tuple[str, float]] = ()) -> None:
        # Stable sort: equal qualities keep the client's order (RFC 9110 12.5.1).
        super().__init__(sorted(values, key=lambda item: -item[1]))

    @classmethod
    def parse(cls, header: str | None) -> Self:
        """Parse a header value; never raises."""
        if not header:
            return cls()
        items: list[tuple[str, float]] = []
        for part in header.split(","):
            value, _, params = part.partition(";")
            value = value.strip()
            if value:
                items.append((value, _quality(params)))
        return cls(items)

    def _value_matches(self, value: str, item: str) -> bool:
        return item == "*" or item.lower() == value.lower()

    def quality(self, key: str) -> float:
        """The quality the client gives ``key`` (0 when not acceptable)."""
        for item, q in self:
            if self._value_matches(key, item):
                return q
        return 0.0

    def __contains__(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        return any(q > 0 and self._value_matches(value, item) for item, q in self)

    def best_match(self, matches: Iterable[str], default: str | None = None) -> str | None:
        """Return the server option the client likes best, or ``default``."""
        best, best_q = default, 0.0
        for server_value in matches:
            q = self.quality(server_value)
            if q > best_q:
                best, best_q = server_value, q
        return best

    @property
    def best(self) -> str | None:
        """The client's most preferred value."""
        return self[0][0] if self else None

    def values(self) -> Iterator[str]:
        """Yield the values without qualities, best first."""
        for value, _ in self:
            yield value

    def __str__(self) -> str:
        return ",".join(v if q == 1 else f"{v};q={q:g}" for v, q in self)


def _split_mime(value: str) -> tuple[str, str]:
    main, _, sub = value.lower().partition(";")[0].strip().partition("/")
    return main or "*", sub or "*"


class MIMEAccept(Accept):
    """The Accept header: media ranges with wildcards (``text/*``, ``*/*``)."""

    def _value_matches(self, value: str, item: str) -> bool:
        if item == "*":
            item = "*/*"
        value_main, value_sub = _split_mime(value)
        item_main, item_sub = _split_mime(item)
        if item_main == "*":
            return True
        if item_main != value_main:
            return False
        return item_sub == "*" or item_sub == value_sub

    def quality(self, key: str) -> float:
        """The quality of ``key``, from the most specific matching range."""
        best_specificity, best_q = -1, 0.0
        for item, q in self:
            if self._value_matches(key, item):
                main, sub = _split_mime(item)
                specificity = (main != "*") + (sub != "*")
                if specificity > best_specificity:
                    best_specificity, best_q = specificity, q
        return best_q

    @property
    def accept_html(self) -> bool:
        """True when HTML is acceptable."""
        return self.quality("text/html") > 0 or self.quality("application/xhtml+xml") > 0

    @property
    def accept_json(self) -> bool:
        """True when JSON is acceptable."""
        return self.quality("application/json") > 0


class LanguageAccept(Accept):
    """Accept-Language: ``en`` in the header accepts ``en-US`` and the reverse."""

    def _value_matches(self, value: str, item: str) -> bool:
        if item == "*":
            return True
        value, item = value.lower().replace("_", "-"), item.lower().replace("_", "-")
        return value == item or value.split("-")[0] == item.split("-")[0]


class CharsetAccept(Accept):
    """Accept-Charset: names compared case-insensitively, ``utf8`` as ``utf-8``."""

    def _value_matches(self, value: str, item: str) -> bool:
        if item == "*":
            return True
        return value.lower().replace("_", "-") == item.lower().replace("_", "-")
