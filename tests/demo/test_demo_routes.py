"""Every route of the HTTP demo (examples/http/app.py), under WSGI and under ASGI."""

from __future__ import annotations

import datetime
import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from demo_loader import DEMO_PATH, load_demo

from kettle.testing import KettleClient

demo = load_demo()


@pytest.fixture(scope="module", autouse=True)
def _remove_demo_folder() -> Iterator[None]:
    """The demo removes its folder at exit; a test worker may end without running atexit."""
    yield
    folder = demo.app.config.pop("DEMO_FOLDER", None)
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def client(make_client: Callable[..., KettleClient]) -> KettleClient:
    """A test client for the demo app under the current protocol."""
    return make_client(demo.app)


def main(response: Any) -> str:
    """The page's own content: inside the layout's <main> when the demo wrapped it."""
    found = re.search(r"<main>\s*(.*?)\s*</main>", response.text, re.S)
    return found.group(1) if found else str(response.text)


def csrf_token(client: KettleClient, page: str = "/csrf") -> str:
    """Read the CSRF token from a page's form, as a browser would."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', main(client.get(page)))
    assert match is not None
    return match.group(1)


def test_index_links_every_example(client: KettleClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "/static/style.css" in response.text
    assert "/static/demo.js" in response.text
    for path in ("/hello?name=Grey", "/hey", "/greet/Kettle", "/goback/20", "/colors/blue",
                 "/sms/13812345678", "/hooks", "/rep", "/brew/coffee", "/status/666", "/hi",
                 "/abort/403", "/note/xml", "/note/json", "/img", "/set/Grey", "/cookie",
                 "/login", "/admin", "/logout", "/foo", "/bar", "/post", "/push", "/chat",
                 "/ws", "/upload", "/xss", "/csrf", "/notes"):
        assert f'href="{path}' in response.text, path


def test_static_files(client: KettleClient) -> None:
    css = client.get("/static/style.css")
    assert css.status_code == 200
    assert css.mimetype == "text/css"
    js = client.get("/static/demo.js")
    assert js.status_code == 200
    assert "fetch(" in js.text


def test_no_external_assets() -> None:
    # One stylesheet and our own script: no CDN, no jQuery, nothing fetched from elsewhere.
    folder = DEMO_PATH.parent
    files = list((folder / "templates").iterdir()) + list((folder / "static").iterdir())
    assert sorted(p.name for p in (folder / "static").iterdir()) == ["demo.js", "style.css"]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "://" not in text, path
        assert "jquery" not in text.lower(), path


def test_hello_name_from_query_then_cookie(client: KettleClient) -> None:
    assert main(client.get("/hello?name=Grey")) == "<h1>Hello, Grey!</h1>[Not Authenticated]"
    assert main(client.get("/hello")) == "<h1>Hello, Human!</h1>[Not Authenticated]"
    response = client.get("/set/Grey")
    assert response.status_code == 302
    assert response.headers["Location"] == "/hello"
    assert "name=Grey" in response.headers["Set-Cookie"]
    assert main(client.get("/hello")).startswith("<h1>Hello, Grey!</h1>")
    assert main(client.get("/cookie")) == "name cookie: Grey"
    deleted = client.get("/cookie/delete")
    assert deleted.status_code == 302
    assert "name=;" in deleted.headers["Set-Cookie"]
    assert main(client.get("/cookie")) == "name cookie: (not set)"


def test_hello_escapes_the_name(client: KettleClient) -> None:
    assert "<script>" not in main(client.get("/hello?name=<script>"))


def test_methods_and_405(client: KettleClient) -> None:
    assert client.post("/hello").status_code == 200
    # PUT is CSRF-checked before routing, as with Flask-WTF: send the token to see the 405.
    response = client.put("/hello", headers={"X-CSRFToken": csrf_token(client)})
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}


def test_several_urls_one_view(client: KettleClient) -> None:
    assert main(client.get("/hey")) == main(client.get("/howdy")) == "<h1>Hello, Kettle!</h1>"


def test_dynamic_url_with_default(client: KettleClient) -> None:
    assert main(client.get("/greet")) == "<h1>Hello, Programmer!</h1>"
    assert main(client.get("/greet/Kettle")) == "<h1>Hello, Kettle!</h1>"


def test_converters(client: KettleClient) -> None:
    year = datetime.date.today().year
    assert main(client.get("/goback/20")) == f"<p>Welcome to {year - 20}!</p>"
    assert client.get("/goback/twenty").status_code == 404
    assert client.get("/colors/blue").status_code == 200
    assert client.get("/colors/green").status_code == 404
    response = client.get("/goods/3.5/4f1c7a5e-2d3b-4c5d-9e8f-0a1b2c3d4e5f")
    assert main(response) == "cid=3.5 (float), gid=4f1c7a5e-2d3b-4c5d-9e8f-0a1b2c3d4e5f (UUID)"
    assert client.get("/goods/3/not-a-uuid").status_code == 404


def test_custom_regex_converter(client: KettleClient) -> None:
    assert main(client.get("/sms/13812345678")) == "Sending a text message to 13812345678"
    assert client.get("/sms/12812345678").status_code == 404
    assert client.get("/sms/1381234567").status_code == 404
    assert main(client.get("/item/42")) == "Item id=42"
    assert client.get("/item/abc").status_code == 404


def test_request_object(client: KettleClient) -> None:
    assert client.get("/qs?user=xiaoming&fav=shopping&fav=coding").get_json() == {
        "user": "xiaoming", "fav": ["shopping", "coding"],
        "query_string": "user=xiaoming&fav=shopping&fav=coding",
    }
    info = client.get("/header?a=1", headers={"X-Company": "python"}).get_json()
    assert info["method"] == "GET"
    assert info["path"] == "/header"
    assert info["full_path"] == "/header?a=1"
    assert info["url"] == "http://localhost/header?a=1"
    assert info["custom"] == "python"
    form = client.post("/form1", data={"username": "root", "fav": ["swimming", "watch TV"]})
    assert form.get_json() == {"username": "root", "fav": ["swimming", "watch TV"]}
    data = client.post("/data", json={"username": "root"})
    assert data.get_json() == {"is_json": True, "json": {"username": "root"}}


def test_hooks(client: KettleClient) -> None:
    first = client.get("/hooks?name=Grey")
    assert first.headers["X-Demo"] == "kettle"
    assert '<dd id="g-name">Grey</dd>' in first.text
    assert "not yet" not in first.text  # before_first_request ran
    second = client.get("/hooks")
    assert re.search(r'<dd id="last-seen">\d{4}-\d\d-\d\dT', second.text)
    assert client.get("/contexts?name=Ann").get_json() == {
        "app": demo.app.name, "g_name": "Ann", "path": "/contexts",
    }


def test_response_tuples_and_statuses(client: KettleClient) -> None:
    rep = client.get("/rep")
    assert (rep.status_code, main(rep), rep.headers["Company"]) == (201, "ok", "python-35")
    obj = client.get("/response")
    assert (obj.status_code, obj.headers["company"]) == (201, "python")
    teapot = client.get("/brew/coffee")
    assert (teapot.status_code, main(teapot)) == (418, "I'm a teapot")
    odd = client.get("/status/666")
    assert (odd.status_code, main(odd)) == (666, "ok")


def test_redirects(client: KettleClient) -> None:
    assert client.get("/hi").headers["Location"] == "/hello"
    assert main(client.get("/hi", follow_redirects=True)).startswith("<h1>Hello, Human!</h1>")
    manual = client.get("/set-location")
    assert (manual.status_code, manual.headers["Location"]) == (302, "http://www.example.com")
    assert client.get("/external").headers["Location"] == "http://www.example.com"
    assert client.get("/sms-redirect").headers["Location"] == "/demo/13312345678"


def test_abort(client: KettleClient) -> None:
    not_found = client.get("/404")
    assert not_found.status_code == 404
    assert "404 Page not found" in not_found.text  # the app's own error handler
    assert client.get("/abort/403").status_code == 403
    assert client.get("/abort/404").status_code == 404
    assert client.get("/abort/418").status_code == 418
    assert client.get("/abort/500").status_code == 400
    assert client.get("/nothing-here").status_code == 404


def test_mime_types(client: KettleClient) -> None:
    text = client.get("/note/text")
    assert text.mimetype == "text/plain"
    assert "from: Jane" in text.text
    html = client.get("/note/html")
    assert html.mimetype == "text/html"
    assert "<li>to: Peter</li>" in html.text
    xml = client.get("/note/xml")
    assert xml.mimetype == "application/xml"
    assert xml.text.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<note><to>Peter</to>')
    assert client.get("/note/json").get_json() == {"note": demo.NOTE}
    assert client.get("/note/yaml").status_code == 404
    plain = client.get("/foo-plain")
    assert (plain.mimetype, main(plain)) == ("text/plain", "Hello")


def test_jsonify(client: KettleClient) -> None:
    response = client.get("/foo-json")
    assert response.mimetype == "application/json"
    assert response.get_json() == {"name": "lily", "age": 18}
    assert client.get("/jsonapi").get_json() == {"name": "xiaoming", "age": 16}
    error = client.get("/json-error")
    assert (error.status_code, error.get_json()) == (500, {"message": "error"})


def test_image(client: KettleClient) -> None:
    response = client.get("/img")
    assert response.headers["Content-Type"] == "image/png"
    assert response.data.startswith(b"\x89PNG\r\n\x1a\n")


def test_session_login_admin_logout(client: KettleClient) -> None:
    assert client.get("/admin").status_code == 403
    login = client.get("/login")
    assert login.status_code == 302
    cookie = login.headers["Set-Cookie"]
    assert "session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert main(client.get("/hello")).endswith("[Authenticated]")
    admin = client.get("/admin")
    assert (admin.status_code, main(admin)) == (200, "Welcome to admin page.")
    assert client.get("/logout").status_code == 302
    assert client.get("/admin").status_code == 403
    assert main(client.get("/hello")).endswith("[Not Authenticated]")


def test_redirect_back(client: KettleClient) -> None:
    foo = client.get("/foo")
    assert 'href="/do_something?next=/foo?"' in foo.text or 'href="/do_something?next=%2Ffoo%3F"' in foo.text
    assert client.get("/do_something?next=/bar").headers["Location"] == "/bar"
    referred = client.get("/do_something", headers={"Referer": "http://localhost/foo"})
    assert referred.headers["Location"] == "http://localhost/foo"
    for evil in ("http://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = client.get("/do_something", query_string={"next": evil})
        assert response.headers["Location"] == "/hello", evil


def test_ajax(client: KettleClient) -> None:
    post = client.get("/post")
    assert '<button id="load" data-url="/more">Load more</button>' in post.text
    more = client.get("/more")
    assert more.status_code == 200 and "<p>" in more.text
    assert 'data-post="7"' in main(client.get("/comments/7"))
    assert client.get("/profile/3").get_json() == {"username": "user3", "bio": "Loves tea."}
    deleted = client.delete("/post/delete/3")
    assert (deleted.status_code, deleted.data) == (204, b"")


def test_polling(client: KettleClient) -> None:
    assert 'data-url="/poll/time"' in main(client.get("/push"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", client.get("/poll/time").get_json()["time"])


def test_long_poll_times_out_with_204(client: KettleClient) -> None:
    assert client.get("/longpoll?timeout=0.05").status_code == 204


def test_push_posts_need_a_message_and_the_token(client: KettleClient) -> None:
    token = csrf_token(client, "/chat")
    assert client.post("/chat/send", data={"message": "hi"}).status_code == 400
    assert client.post("/chat/send", data={"csrf_token": token, "message": ""}).status_code == 400
    sent = client.post("/chat/send", data={"csrf_token": token, "user": "a", "message": "hi"})
    assert sent.status_code == 201
    assert client.post("/longpoll/send", data={"csrf_token": token, "message": "x"}).status_code == 201


def test_upload(client: KettleClient) -> None:
    assert 'enctype="multipart/form-data"' in main(client.get("/upload"))
    token = csrf_token(client, "/upload")
    response = client.post(
        "/upload", data={"csrf_token": token, "file": (io.BytesIO(b"hello kettle"), "hello.txt")}
    )
    assert response.status_code == 200
    match = re.search(r'id="saved">Saved hello.txt as ([0-9a-f]{32})\.', response.text)
    assert match is not None
    with open(os.path.join(demo.demo_folder(), "uploads", match.group(1)), "rb") as f:
        assert f.read() == b"hello kettle"
    assert client.post("/upload", data={"csrf_token": token}).status_code == 400
    too_big = client.post(
        "/upload",
        data={"csrf_token": token, "file": (io.BytesIO(b"x" * (3 * 1024 * 1024)), "big.bin")},
    )
    assert too_big.status_code == 413


def test_xss_is_escaped(client: KettleClient) -> None:
    response = client.get("/xss", query_string={"text": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in response.text
    assert '<span id="echo">&lt;script&gt;alert(1)&lt;/script&gt;</span>' in response.text


def test_csrf(client: KettleClient) -> None:
    assert client.post("/csrf", data={"email": "a@example.com"}).status_code == 400
    assert client.post("/csrf", data={"email": "a@example.com", "csrf_token": "forged"}).status_code == 400
    token = csrf_token(client)
    response = client.post("/csrf", data={"email": "a@example.com", "csrf_token": token})
    assert response.status_code == 200
    assert "Saved: a@example.com" in response.text


def test_sqlite_parameterized(client: KettleClient, tmp_path: Any) -> None:
    token = csrf_token(client, "/notes")
    evil = "'; DROP TABLE note; --"
    added = client.post("/notes", data={"csrf_token": token, "body": evil})
    assert (added.status_code, added.headers["Location"]) == (302, "/notes")
    page = client.get("/notes")
    assert "&#39;; DROP TABLE note; --" in page.text
    assert "&#39;; DROP TABLE note; --" in main(client.get("/notes", query_string={"q": "DROP"}))
    assert "No notes yet." in main(client.get("/notes", query_string={"q": "no such note"}))
    assert client.post("/notes", data={"csrf_token": token, "body": " "}).status_code == 400
