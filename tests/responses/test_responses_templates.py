"""Templates, flashing and CSRF under both adapters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jinja2 import TemplateNotFound

from kettle import (
    Blueprint,
    Kettle,
    before_render_template,
    flash,
    get_flashed_messages,
    message_flashed,
    render_template,
    render_template_string,
    stream_template,
    stream_template_string,
    template_rendered,
)
from kettle.testing import KettleClient


@pytest.fixture
def tapp(tmp_path: Path) -> Kettle:
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "page.html").write_text(
        "<p>{{ value }}</p>|{{ request.path }}|{{ g.who }}"
    )
    (tmp_path / "templates" / "raw.txt").write_text("{{ value }}")
    (tmp_path / "templates" / "shared.html").write_text("app wins")
    (tmp_path / "bp_templates").mkdir()
    (tmp_path / "bp_templates" / "shared.html").write_text("blueprint")
    (tmp_path / "bp_templates" / "only_bp.html").write_text("from bp {{ extra }}")
    app = Kettle("templating_test", root_path=str(tmp_path))
    app.config.update(TESTING=True, SECRET_KEY="k")
    return app


@pytest.fixture
def tclient(tapp: Kettle, make_client: Callable[..., KettleClient]) -> KettleClient:
    return make_client(tapp)


def test_render_template_autoescape_and_context(tapp: Kettle, tclient: KettleClient) -> None:
    from kettle import g

    @tapp.route("/html")
    def html() -> Any:
        g.who = "me"
        return render_template("page.html", value="<b>")

    @tapp.route("/txt")
    def txt() -> Any:
        return render_template("raw.txt", value="<b>")

    @tapp.route("/string")
    def string() -> Any:
        return render_template_string(
            "{{ value }} {{ config.SECRET_KEY }} {{ url_for('string') }} {{ session.get('x') }}",
            value="<i>",
        )

    assert tclient.get("/html").data == b"<p>&lt;b&gt;</p>|/html|me"
    assert tclient.get("/txt").data == b"<b>"
    assert tclient.get("/string").data == b"&lt;i&gt; k /string None"


def test_blueprint_templates_and_context_processors(tapp: Kettle, tclient: KettleClient) -> None:
    bp = Blueprint("bp", __name__, template_folder="bp_templates", root_path=tapp.root_path)

    @bp.route("/shared")
    def shared() -> Any:
        return render_template("shared.html")

    @bp.route("/only")
    def only() -> Any:
        return render_template("only_bp.html")

    @bp.context_processor
    def bp_extra() -> dict[str, Any]:
        return {"extra": "bp-ctx"}

    @tapp.context_processor
    def app_extra() -> dict[str, Any]:
        return {"extra": "app-ctx"}

    tapp.register_blueprint(bp, url_prefix="/bp")
    assert tclient.get("/bp/shared").data == b"app wins"
    assert tclient.get("/bp/only").data == b"from bp bp-ctx"


def test_explain_template_loading_logs_every_loader(
    tapp: Kettle, tclient: KettleClient, caplog: pytest.LogCaptureFixture
) -> None:
    bp = Blueprint("bp", __name__, template_folder="bp_templates", root_path=tapp.root_path)

    @bp.route("/<name>")
    def show(name: str) -> Any:
        return render_template(name)

    tapp.register_blueprint(bp, url_prefix="/bp")
    tapp.config["EXPLAIN_TEMPLATE_LOADING"] = True
    with caplog.at_level("INFO", logger="templating_test"):
        assert tclient.get("/bp/shared.html").data == b"app wins"
        with pytest.raises(TemplateNotFound):
            tclient.get("/bp/missing.html")
    found, missing = (r.getMessage() for r in caplog.records if r.levelname == "INFO")
    assert "Locating template 'shared.html'" in found
    assert "1: trying loader of application 'templating_test'" in found
    assert f"2: trying loader of blueprint 'bp' ({__name__})" in found
    assert "multiple loaders returned a match" in found
    assert "Error: the template could not be found." in missing
    assert "belongs to the blueprint 'bp'" in missing


def test_filters_tests_globals(tapp: Kettle, tclient: KettleClient) -> None:
    @tapp.template_filter()
    def shout(value: str) -> str:
        return value.upper()

    @tapp.template_test("even")
    def is_even(value: int) -> bool:
        return value % 2 == 0

    @tapp.template_global()
    def answer() -> int:
        return 42

    tapp.add_template_filter(lambda v: v[::-1], name="rev")

    @tapp.route("/")
    def index() -> Any:
        return render_template_string(
            "{{ 'a'|shout }} {{ 4 is even }} {{ answer() }} {{ 'ab'|rev }}"
        )

    assert tclient.get("/").data == b"A True 42 ba"


def test_stream_template_keeps_request(tapp: Kettle, tclient: KettleClient) -> None:
    @tapp.route("/s")
    def streamed() -> Any:
        return stream_template_string(
            "{% for i in items %}{{ i }}{{ request.path }};{% endfor %}", items=[1, 2]
        )

    @tapp.route("/f")
    def streamed_file() -> Any:
        return stream_template("page.html", value="v")

    rv = tclient.get("/s")
    assert rv.data == b"1/s;2/s;"
    assert "Content-Length" not in rv.headers
    assert tclient.get("/f").data == b"<p>v</p>|/f|"


def test_template_signals(tapp: Kettle, tclient: KettleClient) -> None:
    seen: list[tuple[str, Any]] = []

    def before(sender: Any, template: Any, context: dict[str, Any]) -> None:
        seen.append(("before", context["value"]))

    def after(sender: Any, template: Any, context: dict[str, Any]) -> None:
        seen.append(("after", template.name))

    @tapp.route("/")
    def index() -> Any:
        return render_template("page.html", value=1)

    with (
        before_render_template.connected_to(before, tapp),
        template_rendered.connected_to(after, tapp),
    ):
        tclient.get("/")
    assert seen == [("before", 1), ("after", "page.html")]


def test_auto_reload_follows_debug(tapp: Kettle) -> None:
    tapp.debug = True
    assert tapp.jinja_env.auto_reload is True
    other = Kettle("x")
    other.config["TEMPLATES_AUTO_RELOAD"] = False
    other.debug = True
    assert other.jinja_env.auto_reload is False


def test_flash_and_categories(tapp: Kettle, tclient: KettleClient) -> None:
    sent: list[tuple[Any, str]] = []

    def on_flash(sender: Any, message: Any, category: str) -> None:
        sent.append((message, category))

    @tapp.route("/add")
    def add() -> Any:
        flash("saved")
        flash("careful", "warning")
        return "added"

    @tapp.route("/all")
    def all_() -> Any:
        return repr(get_flashed_messages(with_categories=True)) + repr(get_flashed_messages())

    @tapp.route("/warnings")
    def warnings() -> Any:
        return repr(get_flashed_messages(category_filter=["warning"]))

    @tapp.route("/tpl")
    def tpl() -> Any:
        return render_template_string("{% for m in get_flashed_messages() %}[{{ m }}]{% endfor %}")

    with message_flashed.connected_to(on_flash, tapp):
        tclient.get("/add")
    assert sent == [("saved", "message"), ("careful", "warning")]
    expected = "[('message', 'saved'), ('warning', 'careful')]['saved', 'careful']"
    assert tclient.get("/all").get_data(as_text=True) == expected
    assert tclient.get("/all").get_data(as_text=True) == "[][]"
    tclient.get("/add")
    assert tclient.get("/warnings").get_data(as_text=True) == "['careful']"
    tclient.get("/add")
    assert tclient.get("/tpl").data == b"[saved][careful]"


def test_csrf_protection(tapp: Kettle, tclient: KettleClient) -> None:
    from kettle import csrf

    protect = csrf.CSRFProtect(tapp)

    @tapp.route("/form", methods=["GET", "POST"])
    def form() -> Any:
        return render_template_string("{{ csrf_token() }}")

    @tapp.route("/api", methods=["POST", "PUT", "PATCH", "DELETE"])
    def api() -> Any:
        return "done"

    @tapp.route("/hook", methods=["POST"])
    @protect.exempt
    def hook() -> Any:
        return "exempt"

    token = tclient.get("/form").get_data(as_text=True)
    assert len(token) > 30
    rv = tclient.post("/api", data={"x": "1"})
    assert rv.status_code == 400
    assert b"The CSRF token is missing." in rv.data
    rv = tclient.post("/api", data={"csrf_token": "wrong"})
    assert rv.status_code == 400 and b"do not match" in rv.data
    assert tclient.post("/api", data={"csrf_token": token}).data == b"done"
    assert tclient.put("/api", headers={"X-CSRFToken": token}).data == b"done"
    assert tclient.delete("/api", headers={"X-CSRFToken": "bad"}).status_code == 400
    assert tclient.patch("/api", json={"csrf_token": token}).data == b"done"
    assert tclient.post("/api", json={"a": 1}).status_code == 400
    assert tclient.post("/hook").data == b"exempt"
    # Masked per response (BREACH): a new string each time, for the same secret.
    again = tclient.get("/form").get_data(as_text=True)
    assert again != token
    assert tclient.post("/api", data={"csrf_token": again}).data == b"done"
    tapp.config["CSRF_ENABLED"] = False
    assert tclient.post("/api").data == b"done"


def test_csrf_without_session_token(tapp: Kettle, tclient: KettleClient) -> None:
    from kettle import csrf

    csrf.CSRFProtect(tapp)

    @tapp.route("/api", methods=["POST"])
    def api() -> Any:
        return "done"

    rv = tclient.post("/api", headers={"X-CSRFToken": "guess"})
    assert rv.status_code == 400
    assert b"session token is missing" in rv.data
