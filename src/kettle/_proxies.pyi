"""The optional C ``__getattribute__`` of ``kettle.globals``' proxies (``_proxies.c``)."""

from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

class Forwarder:
    """A proxy class's ``__getattribute__``: its own names, else the current object's."""

    def __init__(
        self,
        names: frozenset[str],
        own: Callable[[str], Any],
        get: Callable[[], Any],
        var: ContextVar[Any] | None = None,
    ) -> None: ...
    def __call__(self, *args: Any) -> Any: ...
