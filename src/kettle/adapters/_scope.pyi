"""The optional C request builder of the ASGI adapter (``_scope.c``)."""

from collections.abc import Callable
from typing import Any

class Builder:
    """``scope_request``: the usual scope made into a request in C, any other ``fallback``'s."""

    def __init__(
        self,
        fallback: Callable[..., Any],
        upper_methods: frozenset[str],
        checked_hosts: dict[tuple[str, str], str | None],
        unchecked: object,
        factory: Callable[[Any], Callable[[], Any]],
        schemes: dict[str, str],
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
