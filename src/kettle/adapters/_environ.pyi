"""The optional C request builder of the WSGI adapter (``_environ.c``)."""

from collections.abc import Callable
from typing import Any

class Builder:
    """``build_request``: the usual environ made into a request in C, any other ``fallback``'s."""

    def __init__(
        self,
        fallback: Callable[..., Any],
        upper_methods: frozenset[str],
        checked_hosts: dict[tuple[str, str], str | None],
        unchecked: object,
        factory: Callable[[Any], Callable[[], Any]],
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
