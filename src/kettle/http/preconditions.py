"""Conditional and range requests: the one parser of entity-tag lists, Range and If-Range.

Theory of operation: every function here reads client input, so it runs in
time linear in that input (a single left-to-right scan, ``str.find`` from the
current position, no backtracking regex) and never raises on malformed
input: a bad member is skipped, a bad header is None (or an empty value).
Numbers are ASCII digits only (``ascii_int``); ``"²"`` or ``"٣"`` is not a
number in HTTP even though ``str.isdigit`` says so.

Grammar (RFC 9110):

* 8.8.3 ``entity-tag = [ weak ] opaque-tag``, ``weak = %s"W/"`` (the ``%s``
  makes ``W/`` case-sensitive: ``w/"a"`` is not an entity-tag),
  ``opaque-tag = DQUOTE *etagc DQUOTE``, ``etagc = %x21 / %x23-7E / obs-text``.
* 13.1.1 / 13.1.2 ``If-Match = "*" / #entity-tag`` (same for If-None-Match):
  ``*`` means "any" only as the whole field value; in a list it is not an
  entity-tag and is skipped (``"a", *`` is the tag ``a``).
* 13.1.5 ``If-Range = entity-tag / HTTP-date``; a weak tag never matches.
* 14.2 ``Range = ranges-specifier``, ``ranges-specifier = range-unit "="
  range-set``, ``range-set = 1#range-spec``, ``range-spec = int-range /
  suffix-range / other-range``, ``int-range = first-pos "-" [ last-pos ]``,
  ``suffix-range = "-" suffix-length``, positions ``1*DIGIT``.

Werkzeug's lenient reading is kept where it is harmless: a bare unquoted
token (``abc``) counts as a strong tag, and comparisons ignore a member that
cannot be read instead of failing the whole header.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from kettle.http.dates import http_date, parse_date

#: A Range header with more parts than this is refused (416): each part costs
#: work, and RFC 9110 14.2 lets a server reject "many small ranges".
MAX_RANGES = 16

#: Digits past this many name a position beyond any file (2**63 has 19 digits);
#: the value is clamped instead of handing ``int`` thousands of digits.
_MAX_DIGITS = 19
_BEYOND_ANY_FILE = 10**_MAX_DIGITS

_OWS = " \t"
_ASCII_DIGITS = frozenset("0123456789")


def ascii_int(text: str, clamp: bool = False) -> int | None:
    """Return ``text`` (``1*DIGIT``, ASCII only) as an int, or None.

    RFC 9110 5.6.1 / RFC 5234: ``DIGIT = %x30-39``. With ``clamp`` a number
    longer than 19 digits is read as 10**19 (more than any length) rather
    than refused; without it such a number is None.
    """
    if not text or not text.isascii() or not text.isdigit():
        return None
    if len(text) > _MAX_DIGITS:
        return _BEYOND_ANY_FILE if clamp else None
    return int(text)


def quote_etag(etag: str, weak: bool = False) -> str:
    """Quote an entity tag: ``"abc"``, or ``W/"abc"`` when weak."""
    if '"' in etag:
        raise ValueError("Invalid etag: it must not contain a double quote.")
    return f'W/"{etag}"' if weak else f'"{etag}"'


def unquote_etag(etag: str | None) -> tuple[str | None, bool]:
    """Split a quoted entity tag into ``(value, is_weak)`` (``W/`` is case-sensitive)."""
    if not etag:
        return None, False
    etag = etag.strip(_OWS)
    weak = etag[:2] == "W/"
    if weak:
        etag = etag[2:]
    if len(etag) >= 2 and etag[0] == etag[-1] == '"':
        etag = etag[1:-1]
    return etag, weak


def _iter_entity_tags(value: str) -> Iterator[tuple[str, bool]]:
    """Yield ``(tag, weak)`` for each readable member of ``#entity-tag``, in one pass.

    RFC 9110 5.6.1: list members are separated by commas with optional
    whitespace, and empty members are allowed. An opaque-tag may itself hold a
    comma, so the scan follows quotes rather than splitting on commas.
    """
    end = len(value)
    pos = 0
    while pos < end:
        char = value[pos]
        if char in _OWS or char == ",":
            pos += 1
            continue
        member = pos
        weak = value.startswith('W/"', pos)
        start = pos + 2 if weak else pos
        if value[start] == '"':
            close = value.find('"', start + 1)
            if close < 0:
                return  # An unterminated tag: nothing after it can be read.
            tag = value[start + 1 : close]
            pos = close + 1
            while pos < end and value[pos] in _OWS:
                pos += 1
            if pos == end or value[pos] == ",":
                yield tag, weak
                continue
        # Not an entity-tag: a bare token is read as a strong tag (as Werkzeug);
        # anything else (``w/"a"``, ``*`` in a list, stray quotes) is skipped.
        comma = value.find(",", pos)
        stop = end if comma < 0 else comma
        token = value[member:stop].strip(_OWS)
        if token and token != "*" and '"' not in token and " " not in token and "\t" not in token:
            yield token, False
        pos = stop + 1


class ETags:
    """The ETags of If-Match / If-None-Match: strong, weak, or ``*`` (any)."""

    def __init__(
        self, strong: list[str] | None = None, weak: list[str] | None = None, star: bool = False
    ) -> None:
        self._strong = list(strong or ())
        self._weak = list(weak or ())
        self._strong_set = frozenset(self._strong)
        self._weak_set = frozenset(self._weak)
        self.star_tag = star

    @classmethod
    def parse(cls, header: str | None) -> ETags:
        """Parse ``"a", W/"b"`` or ``*`` (linear time, never raises)."""
        return parse_etags(header)

    def is_weak(self, etag: str) -> bool:
        """True when ``etag`` is in the weak list."""
        return etag in self._weak_set

    def is_strong(self, etag: str) -> bool:
        """True when ``etag`` is in the strong list."""
        return etag in self._strong_set

    def contains_weak(self, etag: str) -> bool:
        """True when ``etag`` matches, weak comparison (RFC 9110 8.8.3.2)."""
        return self.is_weak(etag) or self.contains(etag)

    def contains(self, etag: str) -> bool:
        """True when ``etag`` matches, strong comparison (``*`` matches any)."""
        return self.star_tag or self.is_strong(etag)

    def contains_raw(self, etag: str) -> bool:
        """Match a quoted ETag as sent, ``W/`` prefix allowed."""
        value, weak = unquote_etag(etag)
        if value is None:
            return False
        return self.contains_weak(value) if weak else self.contains(value)

    def as_set(self, include_weak: bool = False) -> set[str]:
        """The tags as a set (weak ones with ``include_weak``)."""
        tags = set(self._strong)
        if include_weak:
            tags.update(self._weak)
        return tags

    def __contains__(self, etag: object) -> bool:
        return isinstance(etag, str) and self.contains(etag)

    def __iter__(self) -> Iterator[str]:
        return iter(self._strong)

    def __len__(self) -> int:
        return len(self._strong)

    def __bool__(self) -> bool:
        return bool(self.star_tag or self._strong or self._weak)

    def to_header(self) -> str:
        """Render back to a header value."""
        if self.star_tag:
            return "*"
        return ", ".join([f'"{t}"' for t in self._strong] + [f'W/"{t}"' for t in self._weak])

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


def parse_etags(value: str | None) -> ETags:
    """Parse an If-Match / If-None-Match value into ETags (linear time, never raises)."""
    if not value:
        return ETags()
    if value.strip(_OWS) == "*":
        return ETags(star=True)
    strong: list[str] = []
    weak: list[str] = []
    for tag, is_weak in _iter_entity_tags(value):
        (weak if is_weak else strong).append(tag)
    return ETags(strong, weak)


class IfRange:
    """An If-Range value: an entity-tag or a date (RFC 9110 13.1.5)."""

    def __init__(
        self, etag: str | None = None, date: datetime | None = None, weak: bool = False
    ) -> None:
        self.etag = etag
        self.date = date
        self.weak = weak

    def matches(self, etag: str | None, last_modified: datetime | None) -> bool:
        """True when the stored validator still matches, so the Range may be served.

        RFC 9110 13.1.5: an entity-tag matches by strong comparison (a weak tag
        never does); a date matches when the representation was not modified
        after it. A malformed value matches nothing, so the full 200 is sent.
        """
        if self.etag is not None:
            return not self.weak and etag is not None and self.etag == etag
        if self.date is not None and last_modified is not None:
            return last_modified.replace(microsecond=0) <= self.date
        return False

    def to_header(self) -> str:
        """Render back to a header value (``""`` when empty)."""
        if self.etag is not None:
            return quote_etag(self.etag, self.weak)
        return http_date(self.date) if self.date is not None else ""

    def __bool__(self) -> bool:
        return self.etag is not None or self.date is not None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


def parse_if_range(value: str | None) -> IfRange:
    """Parse If-Range (an entity-tag or an HTTP-date); malformed gives an empty IfRange."""
    if not value:
        return IfRange()
    value = value.strip(_OWS)
    if value[:1] == '"' or value[:3] == 'W/"':
        tag, weak = unquote_etag(value)
        if tag is None or '"' in tag or len(value) < 2 + 2 * weak or value[-1] != '"':
            return IfRange()
        return IfRange(etag=tag, weak=weak)
    return IfRange(date=parse_date(value))


class Range:
    """A Range header: ``units`` and ``ranges`` as (start, stop) with stop exclusive.

    ``bytes=0-499`` is ``[(0, 500)]``, ``bytes=500-`` is ``[(500, None)]`` and
    the suffix ``bytes=-500`` is ``[(-500, None)]``, as in Werkzeug.
    """

    def __init__(self, units: str, ranges: list[tuple[int, int | None]]) -> None:
        self.units = units
        self.ranges = ranges

    @classmethod
    def parse(cls, header: str | None) -> Range | None:
        """Parse a Range header; None when absent or malformed."""
        return parse_range(header)

    def range_for_length(self, length: int | None) -> tuple[int, int] | None:
        """Resolve the one byte range against ``length``: ``(start, stop)``, or None.

        None when the unit is not bytes, there are several ranges, or the range
        is unsatisfiable (RFC 9110 14.1.1: a first-pos at or past the length).
        A last-pos past the end is clamped and a suffix longer than the
        representation means all of it, as RFC 9110 14.1.1 says.
        """
        if self.units != "bytes" or length is None or len(self.ranges) != 1:
            return None
        start, stop = self.ranges[0]
        if start < 0:
            return (max(length + start, 0), length) if length else None
        if start >= length:
            return None
        return start, length if stop is None else min(stop, length)

    def to_header(self) -> str:
        """Render back to a header value."""
        parts = []
        for start, stop in self.ranges:
            if stop is None:
                parts.append(f"{start}-" if start >= 0 else str(start))
            else:
                parts.append(f"{start}-{stop - 1}")
        return f"{self.units}={','.join(parts)}"

    def to_content_range_header(self, length: int | None) -> str | None:
        """Return ``bytes start-end/length`` for a satisfiable single range, else None."""
        span = self.range_for_length(length)
        if span is None:
            return None
        return f"{self.units} {span[0]}-{span[1] - 1}/{length}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"


def parse_range(value: str | None) -> Range | None:
    """Parse a Range header (RFC 9110 14.2); None when absent or malformed.

    Ranges must come in ascending order without overlap (Werkzeug's rule; RFC
    9110 14.2 lets a server refuse the rest), at most ``MAX_RANGES`` of them.
    """
    if not value or "=" not in value:
        return None
    units, _, spec = value.partition("=")
    units = units.strip(_OWS).lower()
    if not units:
        return None
    items = spec.split(",", MAX_RANGES)
    if len(items) > MAX_RANGES:
        return None
    ranges: list[tuple[int, int | None]] = []
    last_end = 0
    for item in items:
        first_text, dash, last_text = item.strip(_OWS).partition("-")
        first_text, last_text = first_text.strip(_OWS), last_text.strip(_OWS)
        if not dash or last_end < 0:
            return None
        if not first_text:
            suffix = ascii_int(last_text, clamp=True)
            if not suffix:
                return None  # "-" alone, "-0" or not digits
            ranges.append((-suffix, None))
            last_end = -1
            continue
        start = ascii_int(first_text, clamp=True)
        if start is None or start < last_end:
            return None  # not a number, or out of order / overlapping
        if not last_text:
            ranges.append((start, None))
            last_end = -1
            continue
        last = ascii_int(last_text, clamp=True)
        if last is None or last < start:
            return None
        ranges.append((start, last + 1))
        last_end = last + 1
    return Range(units, ranges) if ranges else None
