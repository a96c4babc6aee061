"""CSRF: every kind of route, the Origin/Referer check, masked tokens and rotation at login."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kettle import Kettle, render_template_string, request, session
from kettle.csrf import CSRFError, CSRFOriginError, CSRFProtect, rotate_csrf
from kettle.http.origin import origin_of_url, parse_origin
from kettle.testing import KettleClient


@pytest.fixture
def protected(app: Kettle) -> Kettle:
    CSRFProtect(app)

    @app.route("/form")
    def form() -> Any:
        return render_template_string("{{ csrf_token() }}")

    @app.route("/sync", methods=["POST"])
    def sync_view() -> Any:
        return {"name": request.form.get("name")}

    @app.route("/async", methods=["POST"])
    async def async_view() -> Any:
        return {"name": request.form.get("name")}

    @app.route("/async-stream", methods=["POST"], stream_body=True)
    async def async_stream() -> Any:
        # The body streams to the view, unless the CSRF check had to parse the
        # form for the token: then it is in request.form and request.files.
        streamed = 0
        async for chunk in request.stream:
            streamed += len(chunk)
        upload = request.files.get("file")
        return {
            "name": request.form.get("name"),
            "file": upload.read().decode() if upload else None,
            "streamed": streamed,
        }

    @app.route("/sync-stream", methods=["POST"], stream_body=True)
    def sync_stream() -> Any:
        upload = request.files.get("file")
        return {"name": request.form.get("name"), "file": upload.read().decode() if upload else None}

    return app


def token_of(client: KettleClient) -> str:
    return client.get("/form").get_data(as_text=True)


@pytest.mark.parametrize("path", ["/sync", "/async", "/async-stream", "/sync-stream"])
def test_every_kind_of_route(protected: Kettle, client: KettleClient, path: str) -> None:
    token = token_of(client)
    missing = client.post(path, data={"name": "ann"})
    assert missing.status_code == 400
    assert "The CSRF token is missing." in missing.text
    wrong = client.post(path, data={"name": "ann", "csrf_token": "A" * 86})
    assert wrong.status_code == 400
    ok = client.post(path, data={"name": "ann", "csrf_token": token})
    assert ok.status_code == 200
    assert ok.json["name"] == "ann"
    by_header = client.post(path, data={"name": "bo"}, headers={"X-CSRFToken": token})
    assert by_header.status_code == 200
    if path == "/async-stream":
        assert by_header.json["streamed"] == len("name=bo")  # Not read by the check.
    else:
        assert by_header.json["name"] == "bo"


@pytest.mark.parametrize("path", ["/async-stream", "/sync-stream"])
def test_streamed_upload_with_token_in_the_form(
    protected: Kettle, client: KettleClient, path: str
) -> None:
    token = token_of(client)
    response = client.post(
        path,
        data={"csrf_token": token, "name": "ann", "file": (io.BytesIO(b"x" * 200_000), "a.txt")},
    )
    assert response.status_code == 200
    assert response.json["name"] == "ann"
    assert response.json["file"] == "x" * 200_000


def test_valid_token_from_a_foreign_origin_is_403(protected: Kettle, client: KettleClient) -> None:
    token = token_of(client)
    for origin in ("https://evil.test", "null", "http://localhost.evil.test", "http://localhost:81"):
        response = client.post(
            "/sync", data={"name": "ann", "csrf_token": token}, headers={"Origin": origin}
        )
        assert response.status_code == 403, origin
        assert "Origin checking failed" in response.text
    same = client.post(
        "/sync", data={"name": "ann", "csrf_token": token}, headers={"Origin": "http://localhost"}
    )
    assert same.status_code == 200
    protected.config["CSRF_TRUSTED_ORIGINS"] = ["https://*.partner.test"]
    partner = client.post(
        "/async",
        data={"name": "ann", "csrf_token": token},
        headers={"Origin": "https://shop.partner.test"},
    )
    assert partner.status_code == 200


def test_https_needs_a_trusted_https_referer_without_origin(
    protected: Kettle, client: KettleClient
) -> None:
    token = client.get("/form", base_url="https://localhost").get_data(as_text=True)
    data = {"name": "ann", "csrf_token": token}

    def post(**headers: str) -> Any:
        return client.post("/sync", data=dict(data), headers=headers, base_url="https://localhost")

    assert post().status_code == 403
    assert "needs a Referer" in post().text
    assert post(Referer="http://localhost/form").status_code == 403  # Insecure Referer.
    assert post(Referer="https://evil.test/form").status_code == 403
    assert post(Referer="https://localhost.evil.test/").status_code == 403
    assert post(Referer="https://localhost/form?x=1").status_code == 200
    assert post(Origin="https://localhost").status_code == 200
    assert post(Origin="http://localhost").status_code == 403  # Scheme differs.


def test_error_handlers_for_both_errors(protected: Kettle) -> None:
    handled: list[int] = []

    @protected.errorhandler(CSRFError)
    @protected.errorhandler(CSRFOriginError)
    def csrf_failed(e: CSRFError | CSRFOriginError) -> Any:
        handled.append(e.code or 0)
        return "please reload the form", e.code

    client = protected.test_client()
    refused = client.post("/sync", headers={"Origin": "https://evil.test"})
    assert (refused.status_code, refused.text) == (403, "please reload the form")
    assert client.post("/sync").status_code == 400
    assert handled == [403, 400]


def test_tokens_are_masked_per_response(protected: Kettle, client: KettleClient) -> None:
    @protected.route("/many")
    def many() -> Any:
        return render_template_string("{% for _ in range(5) %}{{ csrf_token() }} {% endfor %}")

    tokens = client.get("/many").get_data(as_text=True).split()
    tokens += [token_of(client), token_of(client)]
    assert len(set(tokens)) == len(tokens) == 7
    for token in tokens:
        assert client.post("/sync", data={"csrf_token": token}).status_code == 200
    # The secret is never sent as is, and a token of another session is refused.
    with client.session_transaction() as sess:
        secret = sess["_csrf_token"]
    assert all(secret not in token for token in tokens)
    other = protected.test_client(protocol=client.protocol)
    token_of(other)
    assert other.post("/sync", data={"csrf_token": tokens[0]}).status_code == 400
    tampered = tokens[0][:-2] + ("AA" if tokens[0][-2:] != "AA" else "BB")
    assert client.post("/sync", data={"csrf_token": tampered}).status_code == 400
    for bad in ("", "é" * 10, "!" * 40, "A" * 10_000):
        assert client.post("/sync", data={"csrf_token": bad}).status_code == 400


def test_rotate_at_login(protected: Kettle, client: KettleClient) -> None:
    @protected.route("/login", methods=["POST"])
    def login() -> Any:
        session["user"] = request.form["user"]
        rotate_csrf()
        return "in"

    before = token_of(client)
    assert client.post("/login", data={"user": "ann", "csrf_token": before}).text == "in"
    refused = client.post("/sync", data={"csrf_token": before})
    assert refused.status_code == 400
    assert "do not match" in refused.text
    after = token_of(client)
    assert client.post("/sync", data={"csrf_token": after}).status_code == 200


def test_exempt_views_skip_origin_too(protected: Kettle, client: KettleClient) -> None:
    csrf = protected.extensions["csrf"]

    @protected.route("/hook", methods=["POST"])
    @csrf.exempt
    def hook() -> Any:
        return "hooked"

    response = client.post("/hook", headers={"Origin": "https://evil.test"})
    assert response.text == "hooked"


def test_demo_login_rotates_the_token() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "demo"))
    from demo_loader import load_demo

    client = load_demo().app.test_client()
    page = client.get("/csrf").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    before = found.group(1)
    assert client.get("/login").status_code == 302
    stale = client.post("/csrf", data={"email": "a@b.test", "csrf_token": before})
    assert stale.status_code == 400
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/csrf").text)
    assert found is not None
    fresh = client.post("/csrf", data={"email": "a@b.test", "csrf_token": found.group(1)})
    assert fresh.status_code == 200


@given(st.text(max_size=200))
def test_origin_parsers_take_any_text(value: str) -> None:
    for parsed in (parse_origin(value), origin_of_url(value)):
        assert parsed is None or (
            parsed[0] in {"http", "https", "ws", "wss"} and parsed[1] and 0 <= parsed[2] <= 65535
        )


def test_origin_parsers_on_64k_adversarial_input() -> None:
    for value in ("https://" + "a:" * 32_768, "https://" + "[" * 65_536, "http://" + "/" * 65_536):
        assert parse_origin(value) is None
        origin_of_url(value)
    assert parse_origin("https://Example.COM:443") == ("https", "example.com", 443)
    assert parse_origin("http://[::1]:8080") == ("http", "[::1]", 8080)
    assert parse_origin("https://good.test:@evil.test") is None
    assert parse_origin("https://a:١٢") is None  # Only ASCII digits are a port.
    assert origin_of_url("https://good.test/path?q#f") == ("https", "good.test", 443)
