"""Load examples/http/app.py by its file path, once per test process."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
DEMO_PATH = ROOT / "examples" / "http" / "app.py"
MODULE_NAME = "kettle_http_demo"


def load_demo() -> ModuleType:
    """Import the demo module (registered in sys.modules so its root path is found)."""
    if MODULE_NAME in sys.modules:
        return sys.modules[MODULE_NAME]
    spec = importlib.util.spec_from_file_location(MODULE_NAME, DEMO_PATH)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {DEMO_PATH}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module
    spec.loader.exec_module(module)
    return module
