"""What only makes sense under the ``flask`` name, switched on with the mode.

With compatibility mode on: ``repr(g)`` says ``flask.g`` and the server-name
warning comes from module ``flask.app`` (so filters by that module match); the
test client (:func:`kettle.testing.client.default_user_agent`) sends
Werkzeug's User-Agent.
All of it is set once here: nothing is checked per request when the mode is off.
"""

from __future__ import annotations

from kettle import ctx
from kettle.routing import matching

__all__ = ["apply"]


def apply() -> None:
    """Give Kettle's objects their Flask names (idempotent)."""
    ctx.G_REPR_MODULE = "flask"
    matching.WARNING_MODULE = "flask.app"
