"""The ``KETTLE_FLASK_COMPAT`` switch: Flask compatibility mode with no code change.

Read at interpreter start by ``kettle_flask_compat.pth`` (installed next to
the package by a wheel or an editable install), so every Python process sees
it: ``kettle run``, gunicorn, uvicorn, granian, pytest and ``python -m``. (A
pytest plugin entry point would come too late to help, and would make pytest
warn that the module was already imported.) Unset (or ``0``/``false``/empty),
it costs one environment lookup and imports nothing.
"""

from __future__ import annotations

import os

#: The environment variable that turns compatibility mode on.
ENV_VAR = "KETTLE_FLASK_COMPAT"


def wanted() -> bool:
    """True when the environment asks for compatibility mode."""
    return os.environ.get(ENV_VAR, "").strip().lower() not in ("", "0", "false", "no", "off")


def startup() -> None:
    """Turn compatibility mode on if the environment asks for it."""
    if wanted():
        import kettle.compat  # noqa: F401


startup()
