"""The Flask and Werkzeug versions compatibility mode reports."""

from __future__ import annotations

#: ``flask.__version__`` in compatibility mode: Kettle implements Flask 3.1.3's API.
FLASK_VERSION = "3.1.3"
