"""The optional C ``get`` and ``getlist`` of ImmutableMultiDict (``_multidict.c``)."""

from collections.abc import Callable
from typing import Any

class Method:
    """ImmutableMultiDict's ``get`` or ``getlist``: the common call in C, any other ``python``'s."""

    __wrapped__: Callable[..., Any]

    def __init__(self, python: Callable[..., Any], kind: str) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
    def __get__(self, instance: Any, owner: type | None = None) -> Any: ...
