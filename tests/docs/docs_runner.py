"""Run one page's code blocks as one file, in order; then request every static GET route.

Invoked by test_docs_examples.py in a fresh interpreter per page:
``python docs_runner.py blocks.json``. Prints one JSON line of findings last.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import sys
import traceback
import types
from typing import Any


def run_blocks(page: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """Execute the blocks in one module namespace, as if they were one file."""
    module = types.ModuleType("docs_example")
    module.__file__ = os.path.join(os.getcwd(), "docs_example.py")
    sys.modules["docs_example"] = module
    for block in blocks:
        # Blank lines in front keep the page's line numbers in tracebacks.
        source = "\n" * (block["line"] - 1) + block["code"]
        try:
            exec(compile(source, page, "exec"), module.__dict__)
        except BaseException:
            return {"failed_block": block["line"], "error": traceback.format_exc()}
    return {"namespace": module.__dict__}


#: Sent in every query parameter the page's code reads: an HTML answer must not echo it raw.
PAYLOAD = '<script>alert("kettle")</script>'
QUERY_NAMES = re.compile(r"""request\.args(?:\.get|\.getlist)?[(\[]\s*["'](\w+)["']""")


def exercise(namespace: dict[str, Any], query_names: set[str]) -> list[str]:
    """GET every route that needs no URL argument, plainly and with script in the query.

    Report 5xx answers, and HTML answers that carry the script unescaped.
    """
    from kettle import Kettle

    problems = []
    apps = {id(value): value for value in namespace.values() if isinstance(value, Kettle)}
    hostile = {name: PAYLOAD for name in sorted(query_names)}
    for app in apps.values():
        client = app.test_client()
        for rule in app.url_map.iter_rules():
            if rule.websocket or "GET" not in (rule.methods or ()):
                continue
            if rule.arguments - set(rule.defaults or ()):
                continue
            for query in ({}, hostile) if hostile else ({},):
                problems.extend(_get(client, rule.rule, query))
    return problems


def _get(client: Any, path: str, query: dict[str, str]) -> list[str]:
    shown = f"GET {path}" + (f" with {sorted(query)} = {PAYLOAD}" if query else "")
    try:
        response = client.get(path, query_string=query)
    except Exception:
        return [f"{shown} raised:\n{traceback.format_exc()}"]
    try:
        # An endless stream (SSE) is not read; its status still counts.
        endless = response.mimetype == "text/event-stream"
        body = "" if endless else response.get_data(as_text=True)
        if 500 <= response.status_code < 600:
            return [f"{shown} -> {response.status_code}\n{body[:500]}"]
        if response.mimetype == "text/html" and PAYLOAD in body:
            return [f"{shown}: the script is in the HTML unescaped (XSS)"]
        return []
    finally:
        response.close()


def run_tests(namespace: dict[str, Any]) -> list[str]:
    """Call each ``test_*`` function a page defines that takes no arguments."""
    problems = []
    for name, value in list(namespace.items()):
        if not name.startswith("test_") or not callable(value):
            continue
        if inspect.signature(value).parameters:
            continue
        try:
            value()
        except Exception:
            problems.append(f"{name}() fails:\n{traceback.format_exc()}")
    return problems


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    outcome = run_blocks(spec["page"], spec["blocks"])
    if "namespace" in outcome:
        namespace = outcome["namespace"]
        names = set(QUERY_NAMES.findall("".join(block["code"] for block in spec["blocks"])))
        result = {"routes": exercise(namespace, names) + run_tests(namespace)}
    else:
        result = outcome
    sys.stdout.write("\n" + json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)  # Servers or threads a block started must not keep the run alive.


if __name__ == "__main__":
    main()
