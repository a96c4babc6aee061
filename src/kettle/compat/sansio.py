"""``flask.sansio`` in compatibility mode: a package whose modules are Kettle's.

Kettle's app, blueprint and scaffold classes are not split into a sans-IO
half; ``flask.sansio.app`` and friends resolve to the same modules as
``flask.app``.
"""

from __future__ import annotations

__path__: list[str] = []
