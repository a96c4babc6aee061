"""The app a server loads in the end-to-end benchmark: ``e2e_app:app``.

The server process imports this module; the environment says which app to
build with ``apps.py``: ``KETTLE_BENCH_FRAMEWORK`` (a key of ``FRAMEWORKS``),
``KETTLE_BENCH_SCENARIO`` and ``KETTLE_BENCH_ROUTES``.
"""

from __future__ import annotations

import os
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from apps import FRAMEWORKS

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    protocol, app = FRAMEWORKS[os.environ["KETTLE_BENCH_FRAMEWORK"]](
        os.environ["KETTLE_BENCH_SCENARIO"], int(os.environ.get("KETTLE_BENCH_ROUTES", "100"))
    )
