"""Issue 13 items 1 and 2: one linear ETag / Range / If-Range parser, ASCII digits only.

Through the public API under WSGI and ASGI (the ``client`` fixture): a
hostile header is a 200, 206, 304, 412 or 416, never a 500 and never slow.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kettle import Kettle, request, send_file, send_from_directory
from kettle.http.preconditions import parse_etags, parse_if_range, parse_range
from kettle.testing import KettleClient

BODY = b"0123456789" * 10


def wire(text: str) -> str:
    """``text`` as a server hands it over: its UTF-8 bytes read as latin-1."""
    return text.encode("utf-8").decode("latin-1")


@pytest.fixture
def files(app: Kettle, tmp_path: Path) -> Kettle:
    (tmp_path / "data.bin").write_bytes(BODY)

    @app.route("/file")
    def file() -> Any:
        return send_from_directory(tmp_path, "data.bin")

    @app.route("/memory")
    def memory() -> Any:
        import io

        response = send_file(io.BytesIO(BODY), mimetype="application/octet-stream", etag="abc")
        return response

    @app.route("/range")
    def range_view() -> Any:
        parsed = request.range
        if_range = request.if_range
        return {
            "range": None if parsed is None else parsed.ranges,
            "content_length": request.content_length,
            "if_range_etag": if_range.etag,
            "if_match": sorted(request.if_match.as_set(include_weak=True)),
            "if_none_match_star": request.if_none_match.star_tag,
        }

    return app


def _etag(client: KettleClient, path: str = "/file") -> str:
    return str(client.get(path).headers["ETag"])


# -- item 1: ETag lists --------------------------------------------------------


def test_if_none_match_with_thousands_of_spaces_is_answered(
    files: Kettle, client: KettleClient
) -> None:
    etag = _etag(client)
    # The shape that was quadratic: few tags, 64 KB of spaces between commas.
    hostile = "," + " " * 65_536 + "," + " " * 65_536 + etag
    response = client.get("/file", headers={"If-None-Match": hostile})
    assert response.status_code == 304
    response = client.get("/file", headers={"If-None-Match": '"x",' + " ," * 32_768})
    assert response.status_code == 200
    assert response.data == BODY


def test_if_match_with_many_commas_is_a_412_not_a_stall(
    files: Kettle, client: KettleClient
) -> None:
    response = client.get("/file", headers={"If-Match": '"nope"' + ", " * 32_768})
    assert response.status_code == 412


def test_if_none_match_weak_prefix_is_case_sensitive(files: Kettle, client: KettleClient) -> None:
    """RFC 9110 8.8.3: ``weak = %s"W/"``; ``w/"a"`` is no entity-tag and matches nothing."""
    tag = _etag(client).strip('"')
    assert client.get("/file", headers={"If-None-Match": f'W/"{tag}"'}).status_code == 304
    response = client.get("/file", headers={"If-None-Match": f'w/"{tag}"'})
    assert response.status_code == 200
    assert response.data == BODY
    # If-Match with nothing readable: no listed tag matches, so the precondition fails.
    assert client.get("/file", headers={"If-Match": f'w/"{tag}"'}).status_code == 412
    assert client.get("/file", headers={"If-Match": f'"{tag}"'}).status_code == 200


def test_star_inside_a_list_is_not_any(files: Kettle, client: KettleClient) -> None:
    """RFC 9110 13.1.1: ``If-Match = "*" / #entity-tag``: ``*`` means any only alone."""
    assert client.get("/file", headers={"If-Match": "*"}).status_code == 200
    assert client.get("/file", headers={"If-Match": '"other", *'}).status_code == 412
    assert client.get("/file", headers={"If-None-Match": "*"}).status_code == 304
    response = client.get("/file", headers={"If-None-Match": '"other", *'})
    assert response.status_code == 200


def test_request_etag_lists(files: Kettle, client: KettleClient) -> None:
    data = client.get(
        "/range", headers={"If-Match": 'W/"w", "a,b", bare, w/"lower", *, "x" junk'}
    ).get_json()
    assert data["if_match"] == ["a,b", "bare", "w"]
    star = client.get("/range", headers={"If-None-Match": " * "}).get_json()
    assert star["if_none_match_star"] is True


def test_unterminated_quote_is_harmless(files: Kettle, client: KettleClient) -> None:
    response = client.get("/file", headers={"If-None-Match": '"' + "a" * 65_536})
    assert response.status_code == 200


# -- item 1 and 2: Range and If-Range ------------------------------------------


@pytest.mark.parametrize("path", ["/file", "/memory"])
def test_plain_ranges_still_work(files: Kettle, client: KettleClient, path: str) -> None:
    response = client.get(path, headers={"Range": "bytes=10-19"})
    assert response.status_code == 206
    assert response.data == BODY[10:20]
    assert response.headers["Content-Range"] == "bytes 10-19/100"
    suffix = client.get(path, headers={"Range": "bytes=-5"})
    assert (suffix.status_code, suffix.data) == (206, BODY[-5:])
    whole = client.get(path, headers={"Range": "bytes=-500"})
    assert (whole.status_code, whole.data) == (200, BODY)


@pytest.mark.parametrize(
    "value",
    [
        "bytes=²-",
        "bytes=0-²",
        "bytes=-²",
        wire("bytes=²-"),
        wire("bytes=٣-"),
        wire("bytes=0-٣"),
        "bytes=1_0-20",
        "bytes=+1-2",
        "bytes=" + "9" * 20 + "-",
        "bytes=" + "9" * 5000 + "-",
        "bytes=-0",
        "bytes=5-1",
        "bytes=0-1,2-3",
        "bytes=100-",
        "bytes=" + ",".join(["0-1"] * 17),
        "bytes=" + "," * 65_536,
        "bytes=" + "0-1, " * 16_384,
    ],
)
@pytest.mark.parametrize("path", ["/file", "/memory"])
def test_unusable_range_is_416_never_500(
    files: Kettle, client: KettleClient, path: str, value: str
) -> None:
    response = client.get(path, headers={"Range": value})
    assert response.status_code == 416
    assert response.headers["Content-Range"] == "bytes */100"


@pytest.mark.parametrize("value", ["items=0-1", "none", "bytes", "=0-1"])
def test_range_in_another_unit_or_without_a_set_is_ignored(
    files: Kettle, client: KettleClient, value: str
) -> None:
    response = client.get("/file", headers={"Range": value})
    assert response.status_code in (200, 416)
    if value == "items=0-1":
        # RFC 9110 14.2: "MUST ignore a range unit it does not understand".
        assert response.status_code == 200 and response.data == BODY


def test_whitespace_around_positions_is_read_in_linear_time(
    files: Kettle, client: KettleClient
) -> None:
    response = client.get("/file", headers={"Range": "bytes=0-" + " " * 65_536 + "1"})
    assert (response.status_code, response.data) == (206, BODY[:2])


def test_huge_last_pos_is_clamped(files: Kettle, client: KettleClient) -> None:
    response = client.get("/file", headers={"Range": "bytes=90-" + "9" * 40})
    assert response.status_code == 206
    assert response.data == BODY[90:]
    assert response.headers["Content-Range"] == "bytes 90-99/100"


def test_if_range(files: Kettle, client: KettleClient) -> None:
    etag = _etag(client)
    hit = client.get("/file", headers={"Range": "bytes=0-1", "If-Range": etag})
    assert (hit.status_code, hit.data) == (206, BODY[:2])
    for stale in ['"other"', "W/" + etag, "w/" + etag, etag + " junk", "x" * 65_536, '"']:
        miss = client.get("/file", headers={"Range": "bytes=0-1", "If-Range": stale})
        assert (miss.status_code, miss.data) == (200, BODY), stale
    modified = client.get("/file").headers["Last-Modified"]
    dated = client.get("/file", headers={"Range": "bytes=0-1", "If-Range": modified})
    assert dated.status_code == 206


def test_request_range_and_content_length_read_ascii_digits_only(
    files: Kettle, client: KettleClient
) -> None:
    data = client.get("/range", headers={"Range": "bytes=²-", "If-Range": '"t"'}).get_json()
    assert data["range"] is None
    assert data["if_range_etag"] == "t"
    data = client.get("/range", headers={"Range": "bytes=0-4, 10-"}).get_json()
    assert data["range"] == [[0, 5], [10, None]]
    for value in ["²", wire("²"), wire("٣"), "1_000", "+5", "9" * 30]:
        response = client.get("/range", headers={"Content-Length": value})
        assert response.status_code in (200, 400, 413), value
        if response.status_code == 200:
            expected = 10**19 if value.isascii() and value.isdigit() else None
            assert response.get_json()["content_length"] == expected


@pytest.mark.parametrize("value", ["9" * 5000, "9" * 25, "²", wire("٣")])
def test_absurd_content_length_is_a_413_or_no_length(
    app: Kettle, client: KettleClient, value: str
) -> None:
    @app.post("/echo")
    def echo() -> Any:
        return {"data": len(request.get_data())}

    response = client.post("/echo", environ_overrides={"CONTENT_LENGTH": value})
    if value.isascii() and value.isdigit():
        assert response.status_code == 413  # more than any MAX_CONTENT_LENGTH
    else:
        assert response.status_code == 200  # not a number: no announced body
        assert response.get_json() == {"data": 0}


def test_file_storage_content_length_reads_ascii_digits_only(
    app: Kettle, client: KettleClient
) -> None:
    @app.post("/upload")
    def upload() -> Any:
        return {"length": request.files["f"].content_length}

    body = (
        b'--b\r\nContent-Disposition: form-data; name="f"; filename="a.txt"\r\n'
        b"Content-Length: \xc2\xb2\r\n\r\nhello\r\n--b--\r\n"
    )
    response = client.post("/upload", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 200
    assert response.get_json() == {"length": 0}


# -- the parser itself: one module, the disagreements decided -------------------


def test_parser_decisions() -> None:
    assert parse_etags('w/"a"').as_set(include_weak=True) == set()
    assert parse_etags('W/"a"').is_weak("a")
    assert parse_etags('"a", *').as_set() == {"a"} and not parse_etags('"a", *').star_tag
    assert parse_etags('"a,b"').as_set() == {"a,b"}
    assert parse_range("bytes=²-") is None
    assert parse_range("bytes=0-" + "9" * 30) is not None
    assert parse_if_range('W/"a"').weak is True
    assert parse_if_range("Sun, 06 Nov 1994 08:49:37 GMT").date is not None
