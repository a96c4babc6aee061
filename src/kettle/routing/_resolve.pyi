"""The optional C resolver of the common path shapes (``_resolve.c``)."""

from typing import Any

class Resolver:
    """``StateMachine.resolve(path, method)`` for a common shape, else ``fallback``'s answer."""

    def __init__(
        self, table: dict[str, Any], fallback: Any, nothing: Any, top_edges: bool
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
