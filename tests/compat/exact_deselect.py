"""pytest plugin the suite runner loads: deselect the excluded tests, and only those.

pytest's own ``--deselect`` matches node ids by prefix, so excluding
``test_parse`` would also drop ``test_parse_append``. Here an entry of the
file named by ``KETTLE_COMPAT_EXCLUDED`` (one per line) matches a node id
exactly, or, when it names a test without parameters, every parametrized
case of that test (``test_x`` matches ``test_x[a]``, never ``test_xy``).
Entries that match nothing are written to ``KETTLE_COMPAT_UNMATCHED``, so the
runner can say the list is stale.
"""

from __future__ import annotations

import os

import pytest


def _matches(nodeid: str, wanted: set[str]) -> bool:
    return nodeid in wanted or nodeid.partition("[")[0] in wanted


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Move the listed items to "deselected"; record entries that matched nothing."""
    path = os.environ.get("KETTLE_COMPAT_EXCLUDED")
    if not path:
        return
    with open(path, encoding="utf-8") as f:
        wanted = {line.strip() for line in f if line.strip()}
    drop = [item for item in items if _matches(item.nodeid, wanted)]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [item for item in items if not _matches(item.nodeid, wanted)]
    seen = {item.nodeid for item in drop} | {item.nodeid.partition("[")[0] for item in drop}
    unmatched = os.environ.get("KETTLE_COMPAT_UNMATCHED")
    if unmatched:
        with open(unmatched, "w", encoding="utf-8") as f:
            f.writelines(f"{entry}\n" for entry in sorted(wanted - seen))
