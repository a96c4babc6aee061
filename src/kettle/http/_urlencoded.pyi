"""The optional C parse of ``kettle.http.urls.query_multidict`` (``_urlencoded.c``)."""

from collections.abc import Callable
from typing import Any

def fill_multidict(result: object, data: bytes, max_fields: int, /) -> dict[str, list[str]] | None:
    """Fill ``result`` with each key's first value; return the lists of the keys that repeat."""

def class_version(cls: type, /) -> int:
    """CPython's version tag of ``cls`` (changes with it or a base; 0: none left)."""

class QueryArgs:
    """``Request.args`` in C: the common request parsed here, any other ``fallback``'s."""

    def __init__(self, fallback: Callable[..., Any], multidict: type, name: str) -> None: ...
    def __get__(self, request: Any, owner: type | None = None) -> Any: ...
