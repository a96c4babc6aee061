"""The ``type=`` rule shared by MultiDict and Headers lookups.

A value ``type`` rejects (ValueError or TypeError) is a missing value: ``get``
falls back to its default, ``getlist`` skips it, as in Werkzeug.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def convert_or(value: Any, type: Callable[[Any], Any] | None, default: Any) -> Any:
    """Return ``type(value)``, or ``default`` when the conversion fails."""
    if type is None:
        return value
    try:
        return type(value)
    except (ValueError, TypeError):
        return default


def convert_all(values: Iterable[Any], type: Callable[[Any], Any] | None) -> list[Any]:
    """Return the values converted by ``type``, dropping those it rejects."""
    if type is None:
        return list(values)
    result = []
    for value in values:
        try:
            result.append(type(value))
        except (ValueError, TypeError):
            continue
    return result
