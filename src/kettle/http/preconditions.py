"""Conditional-request headers: ETag lists and byte ranges (dates: ``http.dates``).

Parsers here read client input, so they return None (or an empty value)
for anything malformed instead of raising.
"""

from __future__ import annotations

from collections.abc import Iterator


class ETags:
    """The ETags of If-Match / If-None-Match: strong, weak, or ``*`` (any)."""

    def __init__(
        self, strong: list[str] | None = None, weak: list[str] | None = None, star: bool = False
    ) -> None:
        self._strong = list(strong or ())
        self._weak = list(weak or ())
        self.star_tag = star

    @classmethod
    def parse(cls, header: str | None) -> ETags:
        """Parse ``"a", W/"b"`` or ``*``; never raises."""
        if not header:
            return cls()
        strong: list[str] = []
        weak: list[str] = []
        for item in header.split(","):
            item = item.strip()
            if item == "*":
                return cls(star=True)
            is_weak = item[:2] in ("W/", "w/")
            if is_weak:
                item = item[2:]
            if len(item) >= 2 and item[0] == item[-1] == '"':
                item = item[1:-1]
            if not item:
                continue
            (weak if is_weak else strong).append(item)
        return cls(strong, weak)

    def is_weak(self, etag: str) -> bool:
        """True when ``etag`` is in the weak list."""
        return etag in self._weak

    def is_strong(self, etag: str) -> bool:
        """True when ``etag`` is in the strong list."""
        return etag in self._strong

    def contains_weak(self, etag: str) -> bool:
        """True when ``etag`` matches, weak comparison (RFC 9110 8.8.3.2)."""
        return self.is_weak(etag) or self.contains(etag)

    def contains(self, etag: str) -> bool:
        """True when ``etag`` matches, strong comparison (``*`` matches any)."""
        return self.star_tag or self.is_strong(etag)

    def contains_raw(self, etag: str) -> bool:
        """Match a quoted ETag as sent, ``W/`` prefix allowed."""
        weak = etag[:2] in ("W/", "w/")
        value = etag[2:] if weak else etag
        value = value.strip('"')
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
        if not header or "=" not in header:
            return None
        units, _, spec = header.partition("=")
        units = units.strip().lower()
        ranges: list[tuple[int, int | None]] = []
        last_end = 0
        for item in spec.split(","):
            item = item.strip()
            start_text, dash, end_text = item.partition("-")
            start_text, end_text = start_text.strip(), end_text.strip()
            if not dash or not units:
                return None
            if not start_text:
                if not end_text.isdigit() or last_end < 0:
                    return None
                ranges.append((-int(end_text), None))
                last_end = -1
                continue
            if not start_text.isdigit() or last_end < 0:
                return None
            start = int(start_text)
            if start < last_end:
                return None  # Overlapping or out of order: refuse as Werkzeug does.
            if not end_text:
                ranges.append((start, None))
                last_end = -1
                continue
            if not end_text.isdigit() or int(end_text) < start:
                return None
            stop = int(end_text) + 1
            ranges.append((start, stop))
            last_end = stop
        return cls(units, ranges) if ranges else None

    def to_header(self) -> str:
        """Render back to a header value."""
        parts = []
        for start, stop in self.ranges:
            if stop is None:
                parts.append(f"{start}-" if start >= 0 else str(start))
            else:
                parts.append(f"{start}-{stop - 1}")
        return f"{self.units}={','.join(parts)}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.to_header()!r}>"
