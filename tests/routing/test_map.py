"""Map, Rule and MapAdapter with plain values: converters, building, redirects, bad input."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

import pytest
import werkzeug.routing

from kettle.http.exceptions import MethodNotAllowed, NotFound
from kettle.routing import (
    BaseConverter,
    BuildError,
    Map,
    RequestRedirect,
    Rule,
    ValidationError,
    WebsocketMismatch,
)
from kettle.routing.converters import parse_converter_args

# -- converters ---------------------------------------------------------------


class RegexConverter(BaseConverter):
    def __init__(self, url_map: Map, *items: str) -> None:
        super().__init__(url_map)
        self.regex = items[0]


def test_regex_converter_from_the_material() -> None:
    url_map = Map()
    url_map.converters["re"] = RegexConverter
    url_map.add(Rule(r"/phone/<re('1[3-9]\d{9}'):mobile>", endpoint="phone"))
    assert url_map.match("/phone/13812345678", "GET")[1] == {"mobile": "13812345678"}
    with pytest.raises(NotFound):
        url_map.match("/phone/12812345678", "GET")
    with pytest.raises(NotFound):
        url_map.match("/phone/138123456789", "GET")
    assert url_map.build("phone", {"mobile": "13812345678"}) == "/phone/13812345678"


def test_regex_converter_with_parentheses_and_slash_in_args() -> None:
    url_map = Map(converters={"re": RegexConverter})
    # The slash is inside the arguments; an instance regex stays within one segment.
    url_map.add(Rule("/v/<re('(a|b)+'):word>/<re('x/y|z'):fixed>", endpoint="v"))
    assert url_map.match("/v/abba/z", "GET")[1] == {"word": "abba", "fixed": "z"}


def test_any_with_the_material_quoted_form() -> None:
    colors = ["blue", "white", "red"]
    # The material writes it with %-formatting: <any(%s):color> % str(colors)[1:-1]
    url_map = Map([Rule(f"/color/<any({str(colors)[1:-1]}):color>", endpoint="c")])
    assert url_map.match("/color/white", "GET")[1] == {"color": "white"}
    assert url_map.build("c", {"color": "red"}) == "/color/red"
    with pytest.raises(ValueError, match="'green' is not one of 'blue', 'red', 'white'"):
        url_map.build("c", {"color": "green"})


class EvenConverter(BaseConverter):
    regex = "[0-9]+"

    def to_python(self, value: str) -> int:
        if int(value) % 2:
            raise ValidationError()
        return int(value)


def test_validation_error_makes_the_url_not_match() -> None:
    url_map = Map([Rule("/even/<even:n>", endpoint="even")], converters={"even": EvenConverter})
    assert url_map.match("/even/4", "GET")[1] == {"n": 4}
    with pytest.raises(NotFound):
        url_map.match("/even/5", "GET")


def test_converter_regex_with_a_slash_is_not_part_isolating() -> None:
    class Slashy(BaseConverter):
        regex = "[a-z]+/[a-z]+"

    assert Slashy.part_isolating is False
    url_map = Map([Rule("/s/<slashy:v>", endpoint="s")], converters={"slashy": Slashy})
    assert url_map.match("/s/ab/cd", "GET")[1] == {"v": "ab/cd"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ((), {})),
        ("1, 2.5, 'a', \"b,c\"", ((1, 2.5, "a", "b,c"), {})),
        ("about, help, class", (("about", "help", "class"), {})),
        ("minlength=2, maxlength=10", ((), {"minlength": 2, "maxlength": 10})),
        ("signed=True, max=None", ((), {"signed": True, "max": None})),
        ("'1[3-9]\\d{9}'", (("1[3-9]\\d{9}",), {})),
        ("u'x', r'y'", (("x", "y"), {})),
        ("-5", ((-5,), {})),
    ],
)
def test_parse_converter_args(text: str, expected: tuple[Any, ...]) -> None:
    assert parse_converter_args(text) == expected


@pytest.mark.parametrize("text", ["a b", "a,,b", "'open", "x=", "="])
def test_parse_converter_args_refuses_garbage(text: str) -> None:
    with pytest.raises(ValueError):
        parse_converter_args(text)


@pytest.mark.parametrize(
    "rule", ["no-slash", "/<int:x", "/<1bad>", "/<x>/<x>", "/<nope:x>", "/<int(a b):x>"]
)
def test_bad_rules_are_refused_when_added(rule: str) -> None:
    with pytest.raises((ValueError, LookupError)):
        Map([Rule(rule, endpoint="x")])


def test_methods_as_a_string_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        Rule("/", methods="GET")  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["+1", " 1", "1 ", "1_000", "١", "²", "0x1", "1.0", ""])
def test_int_refuses(value: str) -> None:
    url_map = Map([Rule("/n/<int:n>", endpoint="n")])
    with pytest.raises(NotFound):
        url_map.match(f"/n/{value}", "GET")


def test_int_with_too_many_digits_is_a_404() -> None:
    url_map = Map([Rule("/n/<int:n>", endpoint="n")])
    with pytest.raises(NotFound):
        url_map.match("/n/" + "9" * 5000, "GET")


def test_float_and_uuid() -> None:
    url_map = Map(
        [
            Rule("/f/<float(signed=True):x>", endpoint="f"),
            Rule("/u/<uuid:u>", endpoint="u"),
        ]
    )
    assert url_map.match("/f/-1.25", "GET")[1] == {"x": -1.25}
    value = uuid.UUID("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")
    assert url_map.match(f"/u/{str(value).upper()}", "GET")[1] == {"u": value}
    assert url_map.build("u", {"u": value}) == f"/u/{value}"
    assert url_map.build("f", {"x": 2}) == "/f/2.0"


def test_int_fixed_digits_builds_zero_padded() -> None:
    url_map = Map([Rule("/y/<int(fixed_digits=4):year>", endpoint="y")])
    assert url_map.build("y", {"year": 42}) == "/y/0042"


# -- matching -------------------------------------------------------------------


def test_static_match_returns_a_fresh_defaults_dict() -> None:
    url_map = Map([Rule("/", endpoint="index", defaults={"page": 1})])
    rule, args = url_map.match("/", "GET")
    args["page"] = 99  # a url_value_preprocessor may pop or change values
    assert url_map.match("/", "GET")[1] == {"page": 1}
    assert rule.endpoint == "index"


def test_empty_path_is_the_root() -> None:
    url_map = Map([Rule("/", endpoint="index")])
    assert url_map.match("", "GET")[0].endpoint == "index"


def test_method_not_allowed_lists_sorted_methods() -> None:
    url_map = Map(
        [
            Rule("/x", endpoint="a", methods=["POST", "GET"]),
            Rule("/x", endpoint="b", methods=["DELETE"]),
        ]
    )
    with pytest.raises(MethodNotAllowed) as info:
        url_map.match("/x", "PUT")
    assert info.value.valid_methods == ["DELETE", "GET", "HEAD", "POST"]
    assert url_map.allowed_methods("/x") == ["DELETE", "GET", "HEAD", "POST"]
    assert url_map.allowed_methods("/nope") == []
    assert url_map.bind("h").allowed_methods("/x") == ["DELETE", "GET", "HEAD", "POST"]


def test_options_matches_a_rule_that_lists_it() -> None:
    url_map = Map([Rule("/o/<int:id>", endpoint="o", methods=["GET", "OPTIONS"])])
    assert url_map.match("/o/1", "OPTIONS")[0].endpoint == "o"
    with pytest.raises(MethodNotAllowed):
        Map([Rule("/o", endpoint="o", methods=["GET"])]).match("/o", "OPTIONS")


def test_rule_added_after_matching_is_seen() -> None:
    url_map = Map([Rule("/a", endpoint="a")])
    assert url_map.match("/a", "GET")[0].endpoint == "a"
    url_map.add(Rule("/b/<int:n>", endpoint="b"))
    assert url_map.match("/b/1", "GET")[0].endpoint == "b"


def test_freeze_compiles_once() -> None:
    url_map = Map([Rule("/a", endpoint="a")])
    url_map.freeze()
    machine = url_map._machine
    url_map.match("/a", "GET")
    assert url_map._machine is machine


def test_websocket_mismatch() -> None:
    url_map = Map([Rule("/ws", endpoint="ws", websocket=True)])
    with pytest.raises(WebsocketMismatch):
        url_map.match("/ws", "GET")
    assert url_map.match("/ws", "GET", websocket=True)[0].endpoint == "ws"
    with pytest.raises(ValueError):
        Rule("/ws", endpoint="ws", websocket=True, methods=["POST"])


def test_subdomains() -> None:
    url_map = Map(
        [
            Rule("/", endpoint="main"),
            Rule("/", endpoint="api", subdomain="api"),
            Rule("/", endpoint="user", subdomain="<user>"),
        ]
    )
    assert url_map.match("/", "GET", host="example.com", subdomain="")[0].endpoint == "main"
    assert url_map.match("/", "GET", host="api.example.com", subdomain="api")[0].endpoint == "api"
    rule, args = url_map.match("/", "GET", host="bob.example.com", subdomain="bob")
    assert (rule.endpoint, args) == ("user", {"user": "bob"})
    adapter = url_map.bind("example.com", subdomain="bob")
    assert adapter.match("/") == ("user", {"user": "bob"})
    assert adapter.build("api") == "http://api.example.com/"
    assert adapter.build("user", {"user": "bob"}) == "/"
    assert adapter.build("user", {"user": "eve"}) == "http://eve.example.com/"
    assert adapter.build("main") == "http://example.com/"
    assert url_map.build("api", host="example.com") == "http://api.example.com/"
    assert url_map.build("main", host="api.example.com", subdomain="api") == "http://example.com/"
    assert url_map.build("api", host="api.example.com", subdomain="api") == "/"


def test_host_matching() -> None:
    url_map = Map(
        [
            Rule("/", endpoint="a", host="a.test"),
            Rule("/", endpoint="b", host="b.test:8080"),
            Rule("/u/<int:id>", endpoint="user", host="<name>.users.test"),
        ],
        host_matching=True,
    )
    assert url_map.match("/", "GET", host="a.test")[0].endpoint == "a"
    assert url_map.match("/", "GET", host="B.test:8080")[0].endpoint == "b"
    rule, args = url_map.match("/u/3", "GET", host="ann.users.test")
    assert (rule.endpoint, args) == ("user", {"name": "ann", "id": 3})
    with pytest.raises(NotFound):
        url_map.match("/", "GET", host="c.test")
    assert url_map.build("a", host="a.test") == "/"
    assert url_map.build("b", host="a.test") == "http://b.test:8080/"
    assert url_map.bind("a.test").build("b") == "http://b.test:8080/"
    with pytest.raises(RuntimeError):
        url_map.bind("a.test", subdomain="x")


@pytest.mark.parametrize(
    "path",
    [
        "/\ufffd",
        "/a/\ufffd\ufffd/\x00",
        "/" + "a/" * 20000,
        "/" + "x" * 200000,
        "/files/" + "/".join(["\ufffd"] * 5000),
        "/r/" + "//" * 5000,
        "/\udcff",
    ],
)
def test_bad_or_huge_paths_are_404(path: str) -> None:
    url_map = Map(
        [
            Rule("/", endpoint="index"),
            Rule("/a/<x>/<int:n>", endpoint="a"),
            Rule("/files/<path:p>/edit", endpoint="files"),
            Rule("/r/<int:n>/", endpoint="r"),
            Rule("/<slug>/", endpoint="slug"),
        ]
    )
    try:
        url_map.match(path, "GET", host="example.com")
    except (NotFound, RequestRedirect):
        pass


def test_bad_or_huge_paths_never_raise_other_errors() -> None:
    url_map = Map([Rule("/<slug>/", endpoint="slug"), Rule("/p/<path:p>", endpoint="p")])
    for path in ["/\ufffd", "/\udcff", "/" + "é" * 10000, "/p/" + "a/" * 10000]:
        try:
            url_map.match(path, "GET", host="example.com")
        except (NotFound, RequestRedirect):
            pass


# -- redirects --------------------------------------------------------------------


def test_redirect_urls_are_absolute_with_script_name_and_query() -> None:
    url_map = Map([Rule("/dir/", endpoint="dir"), Rule("/a/b", endpoint="ab")])
    with pytest.raises(RequestRedirect) as info:
        url_map.match(
            "/dir",
            "GET",
            host="example.com:8080",
            scheme="https",
            script_name="/app",
            query_string="x=1&y=%20",
        )
    assert info.value.new_url == "https://example.com:8080/app/dir/?x=1&y=%20"
    assert info.value.code == 308
    with pytest.raises(RequestRedirect) as info:
        url_map.match("/a//b", "GET", host="h")
    assert info.value.new_url == "http://h/a/b"
    adapter = url_map.bind("example.com", "/app", query_args={"q": "a b"})
    with pytest.raises(RequestRedirect) as info:
        adapter.match("/dir")
    assert info.value.new_url == "http://example.com/app/dir/?q=a+b"


def test_redirect_to_callable_and_defaults() -> None:
    def to_new(adapter: Any, id: int) -> str:
        return f"/new/{id * 2}"

    url_map = Map(
        [
            Rule("/old/<int:id>", endpoint="old", redirect_to=to_new),
            Rule("/new/<int:id>", endpoint="new"),
            Rule("/blog/", endpoint="blog", defaults={"page": 1}),
            Rule("/blog/<int:page>", endpoint="blog"),
        ]
    )
    with pytest.raises(RequestRedirect) as info:
        url_map.match("/old/4", "GET", host="example.com", script_name="/s")
    assert info.value.new_url == "http://example.com/new/8"
    with pytest.raises(RequestRedirect) as info:
        url_map.match("/blog/1", "GET", host="example.com", query_string="a=b")
    assert info.value.new_url == "http://example.com/blog/?a=b"
    assert url_map.match("/blog/2", "GET")[1] == {"page": 2}
    assert url_map.build("blog", {"page": 1}) == "/blog/"
    assert url_map.build("blog", {"page": 5}) == "/blog/5"


def test_request_redirect_renders_a_308() -> None:
    response = RequestRedirect("http://example.com/a?<b>").get_response()
    assert response.status_code == 308
    assert response.headers["Location"] == "http://example.com/a?<b>"
    body = response.get_data(as_text=True)
    assert "Redirecting..." in body
    assert "&lt;b&gt;" in body


# -- building ---------------------------------------------------------------------


def test_build_query_string_like_werkzeug() -> None:
    values: dict[str, Any] = {
        "id": 3,
        "tags": ["a b", "c&d"],
        "none": None,
        "empty": "",
        "q": "ü/?",
    }
    rules = [("/item/<int:id>", "item")]
    ours = Map([Rule(r, endpoint=e) for r, e in rules]).build("item", values)
    theirs = werkzeug.routing.Map([werkzeug.routing.Rule(r, endpoint=e) for r, e in rules])
    assert ours == theirs.bind("").build("item", values)
    assert ours == "/item/3?tags=a+b&tags=c%26d&empty=&q=%C3%BC/?"


def test_build_quotes_path_values_like_werkzeug() -> None:
    values = {"name": "a b/ü?#%", "p": "x y/z"}
    ours = Map([Rule("/u/<name>/<path:p>", endpoint="u")]).build("u", values)
    theirs = werkzeug.routing.Map([werkzeug.routing.Rule("/u/<name>/<path:p>", endpoint="u")])
    assert ours == theirs.bind("").build("u", values) == "/u/a%20b/%C3%BC%3F%23%25/x%20y/z"


def test_build_external_scheme_and_script_name() -> None:
    url_map = Map([Rule("/p/<int:id>", endpoint="p"), Rule("/ws", endpoint="ws", websocket=True)])
    assert url_map.build("p", {"id": 1}, script_name="/app") == "/app/p/1"
    assert (
        url_map.build("p", {"id": 1}, host="h:1", script_name="/app", force_external=True)
        == "http://h:1/app/p/1"
    )
    assert (
        url_map.build("p", {"id": 1}, host="h", url_scheme="https", force_external=True)
        == "https://h/p/1"
    )
    assert url_map.build("ws", host="h", url_scheme="https") == "wss://h/ws"
    assert url_map.build("p", {"id": 1, "x": 2}, append_unknown=False) == "/p/1"


def test_build_picks_the_rule_for_the_method() -> None:
    url_map = Map(
        [
            Rule("/read/<int:id>", endpoint="item", methods=["GET"]),
            Rule("/write/<int:id>", endpoint="item", methods=["POST"]),
        ]
    )
    assert url_map.build("item", {"id": 1}) == "/read/1"
    assert url_map.build("item", {"id": 1}, "POST") == "/write/1"


def test_build_error_names_missing_values() -> None:
    url_map = Map([Rule("/user/<int:id>", endpoint="user", methods=["GET"])])
    with pytest.raises(BuildError) as info:
        url_map.build("user", {})
    assert str(info.value) == (
        "Could not build url for endpoint 'user'. Did you forget to specify values ['id']?"
    )
    with pytest.raises(BuildError) as info:
        url_map.build("usr", {"id": 1})
    assert str(info.value) == (
        "Could not build url for endpoint 'usr' with values ['id']. Did you mean 'user' instead?"
    )
    with pytest.raises(BuildError) as info:
        url_map.build("user", {"id": 1}, "POST")
    assert "Did you mean to use methods ['GET', 'HEAD']?" in str(info.value)
    assert isinstance(info.value, LookupError)


def test_build_with_a_multidict_like_mapping() -> None:
    class Multi(dict[str, list[Any]]):
        def getlist(self, key: str) -> list[Any]:
            return list(self[key])

    url_map = Map([Rule("/s", endpoint="s")])
    assert url_map.build("s", Multi(q=["a"], t=["x", "y"], e=[])) == "/s?q=a&t=x&t=y"


# -- the map ----------------------------------------------------------------------


def test_repr_and_iter_rules() -> None:
    url_map = Map(
        [
            Rule("/", endpoint="index", methods=["GET", "OPTIONS"]),
            Rule("/u/<int:id>", endpoint="user"),
            Rule("/", endpoint="api", subdomain="api"),
        ]
    )
    assert repr(url_map) == (
        "Map([<Rule '/' (GET, HEAD, OPTIONS) -> index>,\n"
        " <Rule '/u/<id>' -> user>,\n"
        " <Rule 'api|/' -> api>])"
    )
    assert [rule.endpoint for rule in url_map.iter_rules("user")] == ["user"]
    assert repr(Rule("/x")) == "<Rule (unbound)>"
    rule = next(url_map.iter_rules("user"))
    assert (rule.rule, rule.arguments, rule.defaults, rule.methods) == (
        "/u/<int:id>",
        {"id"},
        None,
        None,
    )
    assert url_map.is_endpoint_expecting("user", "id")
    assert not url_map.is_endpoint_expecting("index", "id")


def test_rule_is_bound_once_and_empty_copies() -> None:
    rule = Rule("/x/<int:n>", endpoint="x", methods=["GET"])
    Map([rule])
    with pytest.raises(RuntimeError):
        Map([rule])
    copy = rule.empty()
    Map([copy])
    assert copy == rule and copy is not rule
    assert copy.methods == {"GET", "HEAD"}


def test_routing_is_sans_io_and_does_not_import_werkzeug() -> None:
    code = (
        "import sys, kettle.routing;"
        "bad = {'werkzeug', 'asyncio', 'threading', 'socket'} & {"
        "m for m in sys.modules if m.startswith('kettle.routing')};"
        "import ast, pathlib;"
        "root = pathlib.Path(kettle.routing.__file__).parent;"
        "names = {a.name.split('.')[0] for f in root.glob('*.py')"
        " for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.Import) for a in n.names}"
        " | {n.module.split('.')[0] for f in root.glob('*.py')"
        " for n in ast.walk(ast.parse(f.read_text())) if isinstance(n, ast.ImportFrom) and n.module};"
        "assert not names & {'werkzeug', 'flask', 'asyncio', 'threading', 'socket'}, names"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- rule factories -------------------------------------------------------------


def test_submount_endpoint_prefix_and_subdomain() -> None:
    from kettle.routing import EndpointPrefix, Subdomain, Submount

    url_map = Map(
        [
            Submount(
                "/api/",
                [
                    Rule("/", endpoint="index"),
                    EndpointPrefix("users.", [Rule("/users/<int:id>", endpoint="show")]),
                ],
            ),
            Subdomain("blog", [Rule("/", endpoint="blog_index")]),
        ]
    )
    assert url_map.match("/api/", "GET")[0].endpoint == "index"
    rule, args = url_map.match("/api/users/3", "GET")
    assert (rule.endpoint, args) == ("users.show", {"id": 3})
    assert [r.subdomain for r in url_map.iter_rules("blog_index")] == ["blog"]
    assert url_map.build("users.show", {"id": 4}) == "/api/users/4"


def test_rule_template_fills_placeholders() -> None:
    from kettle.routing import RuleTemplate

    resource = RuleTemplate(
        [
            Rule("/$name/", endpoint="$name.list"),
            Rule("/$name/<int:id>", endpoint="$name.show", defaults={"kind": "$name"}),
        ]
    )
    url_map = Map([resource(name="books"), resource({"name": "films"})])
    assert url_map.match("/films/", "GET")[0].endpoint == "films.list"
    rule, args = url_map.match("/books/2", "GET")
    assert (rule.endpoint, args) == ("books.show", {"id": 2, "kind": "books"})


def test_factories_match_werkzeug() -> None:
    from kettle.routing import EndpointPrefix, Submount

    def rules(map_class: Any, rule: Any, submount: Any, prefix: Any) -> list[tuple[str, str]]:
        url_map = map_class([submount("/a", [prefix("p.", [rule("/b/", endpoint="e")])])])
        return [(r.rule, r.endpoint) for r in url_map.iter_rules()]

    w = werkzeug.routing
    assert rules(Map, Rule, Submount, EndpointPrefix) == [("/a/b/", "p.e")]
    assert rules(w.Map, w.Rule, w.Submount, w.EndpointPrefix) == [("/a/b/", "p.e")]
