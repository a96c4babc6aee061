"""Pin the public API: ``kettle.__all__`` is exactly the list below.

Adding or removing a public name is a deliberate act: update EXPECTED here
in the same commit as the re-export in ``kettle/__init__.py``.
"""

from __future__ import annotations

import kettle

EXPECTED = [
    "Blueprint",
    "Config",
    "Flask",
    "Kettle",
    "Request",
    "Response",
    "abort",
    "after_this_request",
    "appcontext_popped",
    "appcontext_pushed",
    "appcontext_tearing_down",
    "before_render_template",
    "copy_current_request_context",
    "current_app",
    "flash",
    "g",
    "get_flashed_messages",
    "get_template_attribute",
    "got_request_exception",
    "has_app_context",
    "has_request_context",
    "is_safe_url",
    "jsonify",
    "make_response",
    "message_flashed",
    "redirect",
    "redirect_back",
    "render_template",
    "render_template_string",
    "request",
    "request_finished",
    "request_started",
    "request_tearing_down",
    "send_file",
    "send_from_directory",
    "session",
    "stream_template",
    "stream_template_string",
    "stream_with_context",
    "template_rendered",
    "url_for",
    "websocket",
]


def test_all_is_pinned() -> None:
    assert kettle.__all__ == EXPECTED


def test_all_is_sorted_and_unique() -> None:
    assert kettle.__all__ == sorted(set(kettle.__all__))


def test_every_name_is_importable_and_public() -> None:
    for name in kettle.__all__:
        assert not name.startswith("_"), name
        assert hasattr(kettle, name), name
        namespace: dict[str, object] = {}
        exec(f"from kettle import {name}", namespace)
        assert namespace[name] is getattr(kettle, name)


def test_flask_alias_is_the_app_class() -> None:
    assert kettle.Flask is kettle.Kettle


def test_every_public_object_has_a_docstring() -> None:
    proxies = {"request", "session", "g", "current_app", "websocket"}
    for name in kettle.__all__:
        obj = getattr(kettle, name)
        if name in proxies or not callable(obj) or type(obj).__module__ == "blinker.base":
            continue
        assert (obj.__doc__ or "").strip(), name
