"""The optional C ``text_response`` and ``prepare_send`` (``_response.c``)."""

from collections.abc import Callable
from typing import Any

class TextResponse:
    """``text_response(cls, text)``: in C, any other call or case ``fallback``'s."""

    __wrapped__: Callable[..., Any]

    def __init__(
        self,
        fallback: Callable[..., Any],
        headers_class: type,
        type_pair: tuple[str, str],
        length_name: str,
        length_values: tuple[str, ...],
        status_code: int,
        status_line: str,
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...

class PrepareSend:
    """``prepare_send(response, method, as_code=False)``: in C, any other case ``fallback``'s."""

    __wrapped__: Callable[..., Any]

    def __init__(
        self,
        fallback: Callable[..., Any],
        plain_status: dict[type, bool],
        headers_class: type,
        length_name: str,
        head: str,
    ) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
