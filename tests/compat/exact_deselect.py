"""pytest plugin the suite runner loads: deselect exactly the excluded node ids.

pytest's own ``--deselect`` matches node ids by prefix, so excluding
``test_parse`` would also drop ``test_parse_append``; this plugin drops only
the ids listed in the file named by ``KETTLE_COMPAT_EXCLUDED`` (one per line,
as the runner writes it).
"""

from __future__ import annotations

import os

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the listed items to "deselected"."""
    path = os.environ.get("KETTLE_COMPAT_EXCLUDED")
    if not path:
        return
    with open(path, encoding="utf-8") as f:
        wanted = {line.strip() for line in f if line.strip()}
    drop = [item for item in items if item.nodeid in wanted]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if item.nodeid not in wanted]
