"""Flask's module paths have Kettle twins: a ported import names the same objects."""

from __future__ import annotations

import importlib

import pytest

import kettle


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("kettle.json", ["dumps", "loads", "dump", "load", "jsonify", "JSONProvider"]),
        ("kettle.json.provider", ["JSONProvider", "DefaultJSONProvider"]),
        ("kettle.json.tag", ["TaggedJSONSerializer", "JSONTag"]),
        ("kettle.globals", ["current_app", "g", "request", "session", "app_ctx", "request_ctx"]),
        ("kettle.sessions", ["SessionInterface", "SecureCookieSessionInterface", "SessionMixin"]),
        ("kettle.views", ["View", "MethodView"]),
        ("kettle.testing", ["FlaskClient", "FlaskCliRunner", "EnvironBuilder"]),
        ("kettle.cli", ["FlaskGroup", "AppGroup", "ScriptInfo", "with_appcontext"]),
        ("kettle.helpers", ["send_file", "send_from_directory", "url_for", "get_debug_flag"]),
        ("kettle.ctx", ["AppContext", "RequestContext", "after_this_request"]),
        ("kettle.signals", ["request_started", "request_finished", "template_rendered"]),
    ],
)
def test_flask_module_paths(module: str, names: list[str]) -> None:
    loaded = importlib.import_module(module)
    missing = [name for name in names if not hasattr(loaded, name)]
    assert missing == []


def test_the_json_package_and_the_app_agree() -> None:
    from kettle.json.provider import DefaultJSONProvider
    from kettle.json.tag import TaggedJSONSerializer

    app = kettle.Kettle(__name__)
    assert isinstance(app.json, DefaultJSONProvider)
    assert kettle.json.DefaultJSONProvider is DefaultJSONProvider
    serializer = TaggedJSONSerializer()
    assert serializer.loads(serializer.dumps({"a": (1, b"x")})) == {"a": (1, b"x")}
    with app.app_context():
        assert kettle.json.dumps({"b": 1, "a": 2}) == '{"a": 2, "b": 1}'
