"""Blueprints: prefixes, names, nesting, deferred setup, hooks and handlers per blueprint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from kettle import Blueprint, Kettle, abort, g, request, url_for
from kettle.blueprints import BlueprintSetupState
from kettle.testing import KettleClient


def test_routes_get_prefix_and_dotted_endpoint(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    bp = Blueprint("admin", __name__, url_prefix="/admin")

    @bp.route("/")
    def index() -> str:
        return f"{request.endpoint} {request.blueprint} {request.blueprints}"

    @bp.get("/users/<int:uid>")
    def user(uid: int) -> str:
        return url_for(".user", uid=uid + 1) + " " + url_for("admin.index")

    app.register_blueprint(bp)
    client = make_client(app)
    assert client.get("/admin/").text == "admin.index admin ['admin']"
    assert client.get("/admin/users/1").text == "/admin/users/2 /admin/"
    assert client.get("/users/1").status_code == 404
    assert list(app.iter_blueprints()) == [bp]
    assert app.blueprints == {"admin": bp}


def test_register_options_override_blueprint(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    bp = Blueprint("api", __name__, url_prefix="/api")

    @bp.route("/ping")
    def ping() -> str:
        return request.endpoint or ""

    app.register_blueprint(bp)
    app.register_blueprint(bp, name="api2", url_prefix="/v2")
    with pytest.raises(ValueError, match="already registered for this blueprint"):
        app.register_blueprint(bp)
    with pytest.raises(ValueError, match="already registered for a different blueprint"):
        app.register_blueprint(Blueprint("api", __name__))
    client = make_client(app)
    assert client.get("/api/ping").text == "api.ping"
    assert client.get("/v2/ping").text == "api2.ping"


def test_bad_names_are_refused() -> None:
    with pytest.raises(ValueError, match="may not contain a dot"):
        Blueprint("a.b", __name__)
    with pytest.raises(ValueError, match="may not be empty"):
        Blueprint("", __name__)
    bp = Blueprint("x", __name__)
    with pytest.raises(ValueError, match="'endpoint' may not contain a dot"):
        bp.add_url_rule("/", "a.b", lambda: "")
    with pytest.raises(ValueError, match="on itself"):
        bp.register_blueprint(bp)


def test_setup_after_registration_is_refused(app: Kettle) -> None:
    bp = Blueprint("late", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match="can no longer be called"):
        bp.add_url_rule("/late", "late", lambda: "")


@pytest.mark.parametrize(
    ("method", "message"),
    [
        (lambda bp: bp.before_request(lambda: None), "'before_request'"),
        (lambda bp: bp.errorhandler(404)(lambda e: ""), "'register_error_handler'"),
        (lambda bp: bp.route("/late")(lambda: ""), "'route'"),
    ],
    ids=["before_request", "errorhandler", "route"],
)
def test_any_setup_method_after_registration_is_refused(
    app: Kettle, method: Callable[[Blueprint], Any], message: str
) -> None:
    bp = Blueprint("late", __name__)
    app.register_blueprint(bp)
    with pytest.raises(AssertionError, match=f"setup method {message}.*blueprint 'late'"):
        method(bp)


def test_nested_blueprints(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    parent = Blueprint("parent", __name__, url_prefix="/parent")
    child = Blueprint("child", __name__, url_prefix="/child")
    calls: list[str] = []

    @parent.before_request
    def parent_before() -> None:
        calls.append("parent")

    @child.before_request
    def child_before() -> None:
        calls.append("child")

    @child.route("/page")
    def page() -> str:
        return f"{request.endpoint} {request.blueprints} {url_for('.page')}"

    @parent.errorhandler(404)
    def parent_404(e: Exception) -> tuple[str, int]:
        return "parent 404", 404

    @child.route("/missing")
    def missing() -> str:
        abort(404)

    parent.register_blueprint(child)
    app.register_blueprint(parent)
    client = make_client(app)
    assert client.get("/parent/child/page").text == (
        "parent.child.page ['parent.child', 'parent'] /parent/child/page"
    )
    assert calls == ["parent", "child"]
    response = client.get("/parent/child/missing")
    assert (response.status_code, response.text) == (404, "parent 404")


def test_hooks_apply_only_to_blueprint_routes(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    bp = Blueprint("bp", __name__, url_prefix="/bp")
    seen: list[Any] = []

    @bp.before_request
    def before() -> None:
        g.bp = True

    @bp.after_request
    def after(response: Any) -> Any:
        response.headers["X-Bp"] = "yes"
        return response

    @bp.teardown_request
    def teardown(exc: BaseException | None) -> None:
        seen.append(("bp teardown", exc))

    @bp.route("/")
    def bp_index() -> str:
        return str(g.get("bp"))

    @app.route("/")
    def index() -> str:
        return str(g.get("bp"))

    app.register_blueprint(bp)
    client = make_client(app)
    response = client.get("/bp/")
    assert (response.text, response.headers.get("X-Bp")) == ("True", "yes")
    response = client.get("/")
    assert (response.text, response.headers.get("X-Bp")) == ("None", None)
    assert seen == [("bp teardown", None)]


def test_app_wide_registrations(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    bp = Blueprint("bp", __name__)
    calls: list[str] = []

    @bp.before_app_request
    def before() -> None:
        calls.append("before")

    @bp.after_app_request
    def after(response: Any) -> Any:
        response.headers["X-App"] = "1"
        return response

    @bp.teardown_app_request
    def teardown(exc: BaseException | None) -> None:
        calls.append("teardown")

    @bp.app_errorhandler(404)
    def not_found(e: Exception) -> tuple[str, int]:
        return "bp says 404", 404

    @bp.app_url_value_preprocessor
    def pull(endpoint: str | None, values: dict[str, Any] | None) -> None:
        if values:
            g.lang = values.pop("lang", None)

    @bp.app_url_defaults
    def push(endpoint: str, values: dict[str, Any]) -> None:
        if "lang" not in values and g.get("lang"):
            values["lang"] = g.lang

    @bp.app_context_processor
    def processor() -> dict[str, Any]:
        return {"x": 1}

    @app.route("/<lang>/page")
    def page() -> str:
        return f"{g.lang} {url_for('page')}"

    app.register_blueprint(bp)
    client = make_client(app)
    response = client.get("/de/page")
    assert (response.text, response.headers["X-App"]) == ("de /de/page", "1")
    response = client.get("/nowhere")
    assert (response.status_code, response.text) == (404, "bp says 404")
    assert calls == ["before", "teardown", "before", "teardown"]
    assert app.template_context_processors[None][1:] == [processor]  # after the default one


def test_blueprint_url_value_preprocessor_and_defaults(
    app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    bp = Blueprint("shop", __name__, url_prefix="/<lang>/shop")

    @bp.url_value_preprocessor
    def pull(endpoint: str | None, values: dict[str, Any] | None) -> None:
        g.lang = values.pop("lang") if values else None

    @bp.url_defaults
    def push(endpoint: str, values: dict[str, Any]) -> None:
        values.setdefault("lang", g.lang)

    @bp.route("/item/<int:n>")
    def item(n: int) -> str:
        return f"{g.lang} {url_for('.item', n=n + 1)}"

    app.register_blueprint(bp)
    assert make_client(app).get("/fr/shop/item/1").text == "fr /fr/shop/item/2"


def test_blueprint_url_defaults_option(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    bp = Blueprint("pages", __name__, url_defaults={"section": "main"})

    @bp.route("/")
    def show(section: str) -> str:
        return section

    @bp.route("/other", defaults={"section": "side"})
    def other(section: str) -> str:
        return section

    app.register_blueprint(bp, url_prefix="/p")
    app.register_blueprint(bp, name="docs", url_prefix="/d", url_defaults={"section": "docs"})
    client = make_client(app)
    assert client.get("/p/").text == "main"
    assert client.get("/p/other").text == "side"
    assert client.get("/d/").text == "docs"


def test_record_and_record_once(app: Kettle) -> None:
    bp = Blueprint("rec", __name__, url_prefix="/r")
    states: list[BlueprintSetupState] = []
    once: list[str] = []
    bp.record(states.append)
    bp.record_once(lambda state: once.append(state.name))
    app.register_blueprint(bp)
    app.register_blueprint(bp, name="rec2", url_prefix="/r2")
    assert [(s.name, s.url_prefix, s.first_registration) for s in states] == [
        ("rec", "/r", True),
        ("rec2", "/r2", False),
    ]
    assert states[0].app is app and states[0].blueprint is bp
    assert once == ["rec"]


def test_blueprint_error_handler_by_class(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False
    bp = Blueprint("err", __name__, url_prefix="/err")

    class Oops(Exception):
        pass

    @bp.errorhandler(Oops)
    def oops(e: Oops) -> tuple[str, int]:
        return "blueprint handled", 409

    @bp.route("/")
    def fail() -> str:
        raise Oops()

    @app.route("/app")
    def app_fail() -> str:
        raise Oops()

    app.register_blueprint(bp)
    client = make_client(app)
    response = client.get("/err/")
    assert (response.status_code, response.text) == (409, "blueprint handled")
    assert client.get("/app").status_code == 500


def test_blueprint_static_folder(tmp_path: Any, app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    static = tmp_path / "bp_static"
    static.mkdir()
    (static / "hello.txt").write_text("hello from bp")
    bp = Blueprint("assets", __name__, static_folder=str(static), static_url_path="/files")
    app.register_blueprint(bp, url_prefix="/assets")
    assert "assets.static" in app.view_functions
    with app.test_request_context("/"):
        assert url_for("assets.static", filename="hello.txt") == "/assets/files/hello.txt"
    response = make_client(app).get("/assets/files/hello.txt")
    assert (response.status_code, response.data) == (200, b"hello from bp")


def test_blueprint_cli_group(app: Kettle) -> None:
    import click

    bp = Blueprint("tools", __name__)

    @bp.cli.command("hello")
    def hello() -> None:
        click.echo("hi")

    assert isinstance(bp.cli, click.Group)
    assert bp.cli.name == "tools"
    assert "hello" in bp.cli.commands
    app_cli = click.Group("app")
    app.cli = app_cli  # type: ignore[attr-defined]
    app.register_blueprint(bp)
    assert app_cli.commands["tools"] is bp.cli
    bp2 = Blueprint("flat", __name__, cli_group=None)

    @bp2.cli.command("flatcmd")
    def flatcmd() -> None:
        click.echo("flat")

    app.register_blueprint(bp2)
    assert "flatcmd" in app_cli.commands


def test_blueprint_endpoint_decorator(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    bp = Blueprint("ep", __name__)
    bp.add_url_rule("/ep", "thing")

    @bp.endpoint("thing")
    def thing() -> str:
        return request.endpoint or ""

    app.register_blueprint(bp)
    assert make_client(app).get("/ep").text == "ep.thing"


def test_blueprint_endpoint_decorator_serves_app_endpoint(
    app: Kettle, make_client: Callable[..., KettleClient]
) -> None:
    # As Flask: ``@bp.endpoint("bar")`` is the view of the app-level endpoint "bar".
    app.add_url_rule("/foo", endpoint="bar")
    bp = Blueprint("bp", __name__)

    @bp.endpoint("bar")
    def foobar() -> str:
        return request.endpoint or ""

    app.register_blueprint(bp, url_prefix="/bp_prefix")
    client = make_client(app)
    assert client.get("/foo").text == "bar"
    assert client.get("/bp_prefix/bar").status_code == 404


def test_blueprint_static_max_age_hook(app: Kettle, make_client: Callable[..., KettleClient], tmp_path: Any) -> None:
    (tmp_path / "static").mkdir()
    (tmp_path / "static" / "a.css").write_text("a {}")

    class LongCache(Blueprint):
        def get_send_file_max_age(self, filename: str | None) -> int | None:
            return 100

    app.config["SEND_FILE_MAX_AGE_DEFAULT"] = 3600
    app.register_blueprint(
        LongCache("assets", __name__, static_folder="static", url_prefix="/a", root_path=str(tmp_path))
    )
    plain = Blueprint("plain", __name__, static_folder="static", url_prefix="/p", root_path=str(tmp_path))
    app.register_blueprint(plain)
    client = make_client(app)
    assert client.get("/a/static/a.css").headers["Cache-Control"] == "public, max-age=100"
    assert client.get("/p/static/a.css").headers["Cache-Control"] == "public, max-age=3600"


def test_async_views_and_hooks_in_blueprint(app: Kettle, make_client: Callable[..., KettleClient]) -> None:
    bp = Blueprint("aio", __name__, url_prefix="/aio")

    @bp.before_request
    async def before() -> None:
        g.v = "async-before"

    @bp.route("/")
    async def index() -> str:
        return g.v

    app.register_blueprint(bp)
    assert make_client(app).get("/aio/").text == "async-before"


def test_template_callables_are_registered_on_app(app: Kettle) -> None:
    bp = Blueprint("tpl", __name__)

    @bp.app_template_filter("shout")
    def shout(s: str) -> str:
        return s.upper()

    @bp.app_template_test()
    def even(n: int) -> bool:
        return n % 2 == 0

    @bp.app_template_global()
    def answer() -> int:
        return 42

    app.register_blueprint(bp)
    env = getattr(app, "jinja_env", None)
    if env is not None and hasattr(app, "add_template_filter"):
        assert env.filters["shout"] is shout
        assert env.tests["even"] is even
        assert env.globals["answer"] is answer
    else:
        assert app.extensions["kettle.template_callables"] == [
            ("filter", "shout", shout),
            ("test", "even", even),
            ("global", "answer", answer),
        ]
