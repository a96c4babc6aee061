"""Issue 13 item 3: the Host is parsed by the host grammar before it is trusted or used in a URL.

A Host outside the grammar, or with a bad port, is a 400 (RFC 9112 3.2);
TRUSTED_HOSTS matches the parsed name; url_for(_external=True) and
strict-slash redirects are built only from a validated host. Under WSGI and
ASGI, with ProxyFix's X-Forwarded-Host too.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from kettle import Kettle, request, url_for
from kettle.middleware import ProxyFix
from kettle.testing import KettleClient
from raw_asgi import asgi_exchange

HOSTILE = [
    "good.test:@evil.test",
    "evil.test/.corp.test",
    "evil.test?.corp.test",
    "evil.test#.corp.test",
    "evil.test\\.corp.test",
    "evil.test@good.test",
    "good.test:80@evil.test",
    "good.test evil.test",
    "good.test,evil.test",
    "good.test\x0bevil.test",
    "good.test:",
    "good.test:0",
    "good.test:65536",
    "good.test:080",
    "good.test:8080:80",
    "good.test:\xb2",
    ".corp.test",
    "a..corp.test",
    "[::1",
    "[::1]x",
    "[zz::1]",
    "[fe80::1%25eth0]",
    "%65vil.test",
    "ev!l.test",
]

VALID = {
    "good.test": "good.test",
    "GOOD.Test:80": "good.test",
    "good.test:8080": "good.test:8080",
    "127.0.0.1:5000": "127.0.0.1:5000",
    "[::1]:8080": "[::1]:8080",
    "[::1]": "[::1]",
    "my_service:8000": "my_service:8000",
    "xn--bcher-kva.example": "xn--bcher-kva.example",
    # An internationalised name is accepted (as Werkzeug does) and used in its ASCII form.
    "Bücher.example:8080": "xn--bcher-kva.example:8080",
}


@pytest.fixture
def hosts_app(app: Kettle) -> Kettle:
    @app.get("/where")
    def where() -> Any:
        return {"host": request.host, "external": url_for("where", _external=True)}

    @app.get("/dir/")
    def directory() -> Any:
        return "dir"

    return app


@pytest.mark.parametrize("host", HOSTILE)
def test_host_outside_the_grammar_is_400(
    hosts_app: Kettle, client: KettleClient, host: str
) -> None:
    response = client.get("/where", environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 400
    assert "evil" not in response.get_data(as_text=True).replace(repr(host), "")


@pytest.mark.parametrize("host", HOSTILE)
def test_strict_slash_redirect_never_uses_a_bad_host(
    hosts_app: Kettle, client: KettleClient, host: str
) -> None:
    response = client.get("/dir", environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 400
    assert "Location" not in response.headers


@pytest.mark.parametrize(("host", "normal"), sorted(VALID.items()))
def test_valid_hosts_are_normalised(
    hosts_app: Kettle, client: KettleClient, host: str, normal: str
) -> None:
    data = client.get("/where", environ_overrides={"HTTP_HOST": host}).get_json()
    assert data == {"host": normal, "external": f"http://{normal}/where"}
    redirect = client.get("/dir", environ_overrides={"HTTP_HOST": host})
    assert redirect.status_code == 308
    assert redirect.headers["Location"] == f"http://{normal}/dir/"


TRUSTED = ["good.test", ".corp.test"]


@pytest.mark.parametrize(
    "host", ["good.test", "good.test:8443", "corp.test", "a.corp.test", "A.b.CORP.test"]
)
def test_trusted_hosts_accept_the_parsed_name(
    hosts_app: Kettle, client: KettleClient, host: str
) -> None:
    hosts_app.config["TRUSTED_HOSTS"] = TRUSTED
    response = client.get("/where", environ_overrides={"HTTP_HOST": host})
    assert response.status_code == 200
    assert response.get_json()["external"] == f"http://{host.lower()}/where"


@pytest.mark.parametrize(
    "host", [*HOSTILE, "evil.test", "xcorp.test", "good.test.evil.test", "corp.test.evil"]
)
def test_trusted_hosts_refuse_everything_else(
    hosts_app: Kettle, client: KettleClient, host: str
) -> None:
    hosts_app.config["TRUSTED_HOSTS"] = TRUSTED
    assert client.get("/where", environ_overrides={"HTTP_HOST": host}).status_code == 400
    assert client.get("/dir", environ_overrides={"HTTP_HOST": host}).status_code == 400


def _proxied(app: Kettle, protocol: str) -> KettleClient:
    if protocol == "wsgi":
        app.wsgi_app = ProxyFix(app.wsgi_app, x_host=1, x_port=1)  # type: ignore[method-assign]
    else:
        app.asgi = ProxyFix(app.asgi, x_host=1, x_port=1)
    return app.test_client(protocol=protocol)


@pytest.mark.parametrize("forwarded", ["good.test:@evil.test", "evil.test/.corp.test", "a b"])
def test_forwarded_host_is_parsed_too(hosts_app: Kettle, protocol: str, forwarded: str) -> None:
    client = _proxied(hosts_app, protocol)
    response = client.get("/where", headers={"X-Forwarded-Host": forwarded})
    assert response.status_code == 400


def test_forwarded_host_and_port(hosts_app: Kettle, protocol: str) -> None:
    hosts_app.config["TRUSTED_HOSTS"] = TRUSTED
    client = _proxied(hosts_app, protocol)
    data = client.get("/where", headers={"X-Forwarded-Host": "shop.corp.test"}).get_json()
    assert data["external"] == "http://shop.corp.test/where"
    bad_port = client.get(
        "/where", headers={"X-Forwarded-Host": "shop.corp.test", "X-Forwarded-Port": "@evil.test"}
    )
    assert bad_port.status_code == 400
    untrusted = client.get("/where", headers={"X-Forwarded-Host": "evil.test"})
    assert untrusted.status_code == 400


def _asgi_get(app: Kettle, headers: list[tuple[bytes, bytes]], server: Any) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "method": "GET",
        "path": "/where",
        "root_path": "",
        "query_string": b"",
        "scheme": "http",
        "http_version": "1.1",
        "server": server,
        "client": ("127.0.0.1", 5),
        "headers": headers,
    }
    status, _, body = asyncio.run(asgi_exchange(app, scope))
    return status, body


def test_asgi_server_address_is_the_host_without_a_host_header(hosts_app: Kettle) -> None:
    status, body = _asgi_get(hosts_app, [], ("127.0.0.1", 8000))
    assert (status, body) == (
        200,
        b'{"external":"http://127.0.0.1:8000/where","host":"127.0.0.1:8000"}\n',
    )
    status, body = _asgi_get(hosts_app, [], ("::1", 80))
    assert (status, body) == (200, b'{"external":"http://[::1]/where","host":"[::1]"}\n')


def test_asgi_two_host_headers_are_400(hosts_app: Kettle) -> None:
    headers = [(b"host", b"good.test"), (b"host", b"evil.test")]
    status, _ = _asgi_get(hosts_app, headers, ("127.0.0.1", 8000))
    assert status == 400


def test_asgi_bad_host_header_is_400(hosts_app: Kettle) -> None:
    status, _ = _asgi_get(hosts_app, [(b"host", b"good.test:@evil.test")], ("127.0.0.1", 80))
    assert status == 400
