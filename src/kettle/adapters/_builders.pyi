"""The optional C request builder of the adapters (``_builders.c``)."""

from collections.abc import Callable
from typing import Any

class Builder:
    """``build_request`` ("wsgi") or ``scope_request`` ("asgi"): the usual request in C."""

    def __init__(
        self,
        protocol: str,
        fallback: Callable[..., Any],
        upper_methods: frozenset[str],
        checked_hosts: dict[tuple[str, str], str | None],
        unchecked: object,
        factory: Callable[[Any], Callable[[], Any]],
        schemes: dict[str, str] | None = None,
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
