"""Sphinx configuration for Kettle's documentation (built offline: ``make docs``)."""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "src"))

project = "Kettle"
author = "The Kettle authors"
copyright = "2025, The Kettle authors"
release = version = "0.1.0"

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
html_theme = "alabaster"
html_static_path = ["_static"]
html_title = "Kettle"
myst_heading_anchors = 3
# Pages written by several people start at different heading levels; that is
# a style matter, not a broken build.
suppress_warnings = ["myst.header"]
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_default_options = {"members": True, "show-inheritance": False}

#: The guide pages every topic owner drops in docs/, in reading order.
GUIDES = ["request", "structure", "responses", "push", "cli"]
#: Pages of our own, listed explicitly in index.md.
OWN = {
    "index",
    "quickstart",
    "tutorial",
    "api",
    "migrating",
    "deployment",
    "security",
    "performance",
    "architecture",
}
#: The public modules the API reference documents, when they import.
API_MODULES = [
    "kettle",
    "kettle.app",
    "kettle.wrappers",
    "kettle.helpers",
    "kettle.json",
    "kettle.json.provider",
    "kettle.json.tag",
    "kettle.config",
    "kettle.sessions",
    "kettle.templating",
    "kettle.csrf",
    "kettle.views",
    "kettle.blueprints",
    "kettle.signals",
    "kettle.push",
    "kettle.testing",
    "kettle.routing",
    "kettle.http.exceptions",
]


def _guide_names() -> list[str]:
    """Return the guide pages present: the known ones first, then any others."""
    present = {name[:-3] for name in os.listdir(HERE) if name.endswith(".md")}
    names = [name for name in GUIDES if name in present]
    names += sorted(present - OWN - set(GUIDES))
    return names


def _api_text() -> str:
    """Write the API page's body: one automodule per public module that imports."""
    parts = []
    for module in API_MODULES:
        try:
            importlib.import_module(module)
        except Exception:  # a module still being written is left out, not an error
            continue
        parts.append(f"{module}\n{'-' * len(module)}\n\n.. automodule:: {module}\n")
    return "\n".join(parts)


def _fill_placeholders(app: Any, docname: str, source: list[str]) -> None:
    """Replace the index's guide list and the API page's module list at read time."""
    text = source[0]
    if "KETTLE-GUIDES" in text:
        text = text.replace("KETTLE-GUIDES", "\n".join(_guide_names()))
    if ".. KETTLE-API" in text:
        text = text.replace(".. KETTLE-API", _api_text())
    if "KETTLE-BENCH-IMAGE" in text:
        # benchmarks/run.py writes the chart; before the first run there is none.
        if os.path.exists(os.path.join(HERE, "_static", "bench.png")):
            image = "![Requests per second, higher is better](_static/bench.png)"
        else:
            image = "*(No chart yet: run `make bench` to draw `docs/_static/bench.png`.)*"
        text = text.replace("KETTLE-BENCH-IMAGE", image)
    source[0] = text


def _safe_docstring(
    app: Any, what: str, name: str, obj: Any, options: Any, lines: list[str]
) -> None:
    """Keep the summary line as text and show the rest verbatim.

    Docstrings are written by many people in plain style; a literal block can
    never break the -W build, and still shows every word.
    """
    if not lines:
        return
    summary, rest = lines[0], lines[1:]
    while rest and not rest[0].strip():
        rest.pop(0)
    while rest and not rest[-1].strip():
        rest.pop()
    # Escape what docutils would read as markup in free text: *, | and name_ links.
    summary = re.sub(r"(\w)_(\W|$)", r"\1\\_\2", summary.replace("*", r"\*").replace("|", r"\|"))
    new = [summary]
    if rest:
        new += ["", "::", ""] + ["    " + line for line in rest]
    new.append("")
    lines[:] = new


def setup(app: Any) -> None:
    """Register the two small build steps."""
    app.connect("source-read", _fill_placeholders)
    app.connect("autodoc-process-docstring", _safe_docstring)
