"""JSON for requests and responses: ``app.json``, ``jsonify``, ``dumps``/``loads``.

The module layout is Flask's: the providers live in ``kettle.json.provider``
and the tagged serializer of the session in ``kettle.json.tag``; the
functions here use the current app's provider when there is one.
"""

from __future__ import annotations

import json as _json
from typing import TYPE_CHECKING, Any

from kettle.json.provider import DefaultJSONProvider as DefaultJSONProvider
from kettle.json.provider import JSONProvider as JSONProvider
from kettle.json.provider import OrjsonProvider as OrjsonProvider
from kettle.json.provider import _default

if TYPE_CHECKING:
    from kettle.wrappers import Response


def _current_provider() -> JSONProvider | None:
    from kettle.ctx import _cv_get

    ctx = _cv_get(None)
    return ctx.app.json if ctx is not None else None


def dumps(obj: Any, **kwargs: Any) -> str:
    """Serialize ``obj`` with the current app's provider (or the defaults)."""
    provider = _current_provider()
    if provider is not None:
        return provider.dumps(obj, **kwargs)
    kwargs.setdefault("default", _default)
    return _json.dumps(obj, **kwargs)


def loads(s: str | bytes, **kwargs: Any) -> Any:
    """Deserialize JSON with the current app's provider (or the standard library)."""
    provider = _current_provider()
    if provider is not None:
        return provider.loads(s, **kwargs)
    return _json.loads(s, **kwargs)


def dump(obj: Any, fp: Any, **kwargs: Any) -> None:
    """Serialize ``obj`` into the text file ``fp`` (see ``dumps``)."""
    fp.write(dumps(obj, **kwargs))


def load(fp: Any, **kwargs: Any) -> Any:
    """Deserialize JSON read from the file ``fp`` (see ``loads``)."""
    return loads(fp.read(), **kwargs)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """Return a JSON response: ``jsonify(a=1)``, ``jsonify([1, 2])``, ``jsonify(1, 2)``."""
    from kettle.globals import current_app

    return current_app.json.response(*args, **kwargs)
