"""Flask compatibility mode: ``import flask`` (and every ``flask.X``) is Kettle.

Importing this package turns the mode on; do it at the top of the app, before
anything imports ``flask``::

    import kettle.compat  # noqa: F401  (first line of the app)

or, with no code change, set ``KETTLE_FLASK_COMPAT=1`` in the environment
(read at interpreter start by the ``kettle_flask_compat.pth`` hook Kettle
installs, and by Kettle's pytest plugin). See ``docs/migrating.md``.

In the mode, ``flask`` and its submodules resolve to Kettle's own modules
(:data:`kettle.compat.aliases.FLASK_MODULES`; one module object per name),
``flask.__version__`` is :data:`FLASK_VERSION`, and Werkzeug's classes that
the ecosystem checks resolve to Kettle's (:mod:`kettle.compat.werkzeug_identity`).
"""

from __future__ import annotations

import sys

from kettle.compat.aliases import FLASK_MODULES, FlaskFinder
from kettle.compat.version import FLASK_VERSION

__all__ = ["FLASK_MODULES", "FLASK_VERSION", "install", "is_installed"]

_finder = FlaskFinder()


def is_installed() -> bool:
    """True when compatibility mode is on in this interpreter."""
    return _finder in sys.meta_path


def install() -> None:
    """Turn compatibility mode on (idempotent).

    Raises RuntimeError when real Flask was imported already: its modules
    would then live beside Kettle's and extensions would get two copies.
    """
    if is_installed():
        return
    loaded = sys.modules.get("flask")
    if loaded is not None and loaded.__name__ != "kettle.compat.flask_module":
        raise RuntimeError(
            "Flask was imported before Kettle's compatibility mode was turned on: "
            "put 'import kettle.compat' before anything that imports flask, or set "
            "KETTLE_FLASK_COMPAT=1 in the environment."
        )
    sys.meta_path.insert(0, _finder)
    from kettle.compat.flask_names import apply as apply_flask_names

    apply_flask_names()
    if "werkzeug" in sys.modules:
        from kettle.compat.werkzeug_identity import apply

        apply()


install()
