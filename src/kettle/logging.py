"""``app.logger``: a logger named after the app, with Flask's default handler rules."""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, TextIO, cast

from kettle.ctx import _cv_get
from kettle.globals import _Proxy

if TYPE_CHECKING:
    from kettle.app import Kettle


def _errors_stream() -> TextIO:
    ctx = _cv_get(None)
    request = ctx.request if ctx is not None else None
    if request is not None and request.environ.get("wsgi.errors") is not None:
        return request.environ["wsgi.errors"]  # type: ignore[no-any-return]
    return sys.stderr


#: The request's ``wsgi.errors`` stream in a WSGI request (or a test request given
#: ``errors_stream``), else ``sys.stderr``; a proxy looked up on every write.
wsgi_errors_stream: TextIO = cast("TextIO", _Proxy(_errors_stream))

#: The handler added to ``app.logger`` when nothing else handles its level.
default_handler = logging.StreamHandler(wsgi_errors_stream)
default_handler.setFormatter(
    logging.Formatter("[%(asctime)s] %(levelname)s in %(module)s: %(message)s")
)


def has_level_handler(logger: logging.Logger) -> bool:
    """Return True when a handler on ``logger`` or its parents handles its level."""
    level = logger.getEffectiveLevel()
    current: logging.Logger | None = logger
    while current:
        if any(handler.level <= level for handler in current.handlers):
            return True
        if not current.propagate:
            break
        current = current.parent
    return False


def create_logger(app: Kettle) -> logging.Logger:
    """Return the app's logger: DEBUG level in debug mode, a stderr handler if none."""
    logger = logging.getLogger(app.name)
    if app.debug and not logger.level:
        logger.setLevel(logging.DEBUG)
    if not has_level_handler(logger):
        logger.addHandler(default_handler)
    return logger
