"""HTTP dates (RFC 9110 5.6.7): ``Sun, 06 Nov 1994 08:49:37 GMT``, always in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime

#: An HTTP-date is 29 characters (obsolete forms a few more); longer input is
#: not a date, and is refused before the email parser walks it.
_MAX_DATE_LENGTH = 64


def http_date(value: datetime | date | float | None = None) -> str:
    """Format a datetime, date or timestamp (None: now) as an HTTP date.

    Naive datetimes are taken as UTC, as Werkzeug does.
    """
    if value is None:
        value = datetime.now(UTC)
    elif isinstance(value, int | float):
        value = datetime.fromtimestamp(value, UTC)
    elif not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    elif value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    # email.utils.format_datetime(value, usegmt=True), without its checks and its %-format.
    return (
        f"{_DAYS[value.weekday()]}, {value.day:02d} {_MONTHS[value.month - 1]} {value.year:04d}"
        f" {value.hour:02d}:{value.minute:02d}:{value.second:02d} GMT"
    )


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def parse_date(value: str | None) -> datetime | None:
    """Parse an HTTP date into an aware UTC datetime; None when absent or invalid."""
    if not value or len(value) > _MAX_DATE_LENGTH:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
