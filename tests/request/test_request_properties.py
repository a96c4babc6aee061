"""Hypothesis: parsers turn arbitrary bytes into a value or a documented 4xx, nothing else."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from kettle.http.cookies import parse_cookie
from kettle.http.exceptions import HTTPException
from kettle.http.formparser import FormDataParser
from kettle.http.urls import parse_qsl

ALLOWED = {400, 413}


@given(st.binary(max_size=300))
def test_query_parser_never_raises(raw: bytes) -> None:
    for key, value in parse_qsl(raw):
        assert isinstance(key, str) and isinstance(value, str)


_QUERY_BYTES = st.sampled_from(
    [b"a", b"=", b"&", b"+", b"%", b"2", b"6", b"F", b"\xc3", b"\xa9", b"\xff"]
)


@given(st.lists(_QUERY_BYTES, max_size=30), st.none() | st.integers(min_value=0, max_value=6))
def test_short_and_long_query_strings_give_the_same_pairs(
    pieces: list[bytes], max_fields: int | None
) -> None:
    # Short inputs are split in one go, inputs past 64 KiB parsed as a stream; empty
    # fields (the "&" padding) are skipped, so both must give the same pairs and errors.
    raw = b"".join(pieces)
    padded = raw + b"&" * (70 * 1024)
    try:
        short: object = parse_qsl(raw, max_fields)
    except ValueError:
        short = ValueError
    try:
        long: object = parse_qsl(padded, max_fields)
    except ValueError:
        long = ValueError
    assert short == long


@given(st.text(max_size=200) | st.binary(max_size=200))
def test_cookie_parser_never_raises(header: str | bytes) -> None:
    cookies = parse_cookie(header)
    assert all(isinstance(v, str) for v in cookies.values())


@given(st.binary(max_size=400), st.integers(min_value=1, max_value=50))
def test_urlencoded_parser(raw: bytes, parts: int) -> None:
    parser = FormDataParser(max_form_memory_size=200, max_form_parts=parts)
    try:
        form, files = parser.parse(io.BytesIO(raw), "application/x-www-form-urlencoded", len(raw), {})
    except HTTPException as error:
        assert error.code == 413
    else:
        assert not files
        assert len(list(form.items(multi=True))) <= parts


_PIECES = st.sampled_from([
    b"--b\r\n", b"--b--\r\n", b"\r\n", b'Content-Disposition: form-data; name="a"\r\n',
    b'Content-Disposition: form-data; name="f"; filename="x.txt"\r\n', b"Content-Type: text/plain\r\n",
    b"value", b"--", b"\xff\xfe", b":", b"\r", b"\n",
])


@settings(max_examples=300)
@given(st.lists(_PIECES | st.binary(max_size=20), max_size=25))
def test_multipart_parser(pieces: list[bytes]) -> None:
    raw = b"".join(pieces)
    parser = FormDataParser(max_form_memory_size=100, max_form_parts=5)
    try:
        form, files = parser.parse(io.BytesIO(raw), "multipart/form-data", len(raw), {"boundary": "b"})
    except HTTPException as error:
        assert error.code in ALLOWED
    else:
        assert len(list(form.items(multi=True))) + len(list(files.items(multi=True))) <= 5
        for _, f in files.items(multi=True):
            f.close()


@given(st.text(max_size=80))
def test_boundary_never_crashes(boundary: str) -> None:
    raw = f"--{boundary}\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--{boundary}--\r\n"
    data = raw.encode("utf-8", "replace")
    try:
        FormDataParser(1000, 10).parse(io.BytesIO(data), "multipart/form-data", None, {"boundary": boundary})
    except HTTPException as error:
        assert error.code in ALLOWED
