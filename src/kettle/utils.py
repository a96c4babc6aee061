"""Small utilities: ``import_string`` and ``secure_filename``."""

from __future__ import annotations

import importlib
import os
import re
import sys
import unicodedata
from typing import Any


def import_string(import_name: str, silent: bool = False) -> Any:
    """Import an object from ``"module.sub:name"`` or ``"module.sub.name"``."""
    import_name = import_name.replace(":", ".")
    try:
        try:
            __import__(import_name)
        except ImportError:
            if "." not in import_name:
                raise
        else:
            return sys.modules[import_name]
        module_name, obj_name = import_name.rsplit(".", 1)
        module = importlib.import_module(module_name)
        try:
            return getattr(module, obj_name)
        except AttributeError as e:
            raise ImportError(e) from None
    except ImportError:
        if not silent:
            raise
    return None


_FILENAME_STRIP = re.compile(r"[^A-Za-z0-9_.-]")
_WINDOWS_DEVICE_FILES = frozenset(
    {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(10)),
        *(f"LPT{i}" for i in range(10)),
    }
)


def secure_filename(filename: str) -> str:
    """Return a safe ASCII version of ``filename`` for storing on disk.

    As Werkzeug's: non-ASCII is transliterated or dropped, path separators
    become spaces then underscores, leading dots and underscores go, and
    Windows device names get an underscore prefix. May return ``""``.
    """
    filename = unicodedata.normalize("NFKD", filename)
    filename = filename.encode("ascii", "ignore").decode("ascii")
    for sep in (os.sep, os.path.altsep):
        if sep:
            filename = filename.replace(sep, " ")
    filename = str(_FILENAME_STRIP.sub("", "_".join(filename.split()))).strip("._")
    if os.name == "nt" and filename and filename.split(".")[0].upper() in _WINDOWS_DEVICE_FILES:
        filename = f"_{filename}"
    return filename
