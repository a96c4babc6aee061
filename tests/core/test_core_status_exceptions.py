"""Status codes and the HTTPException tree, compared with Werkzeug's."""

from __future__ import annotations

import pytest
from werkzeug import exceptions as wexc
from werkzeug.http import HTTP_STATUS_CODES as W_CODES

from kettle.http import exceptions as kexc
from kettle.http.response import Response
from kettle.http.status import HTTP_STATUS_CODES, parse_status, reason_phrase, status_line

ERROR_CODES = sorted(code for code in W_CODES if code >= 400 and code in wexc.default_exceptions)


def test_reason_phrases_match_werkzeug() -> None:
    for code, phrase in W_CODES.items():
        assert HTTP_STATUS_CODES.get(code) == phrase, code
    assert reason_phrase(418) == "I'm a teapot"
    assert reason_phrase(666) == "UNKNOWN"


@pytest.mark.parametrize("code", [100, 200, 204, 404, 418, 666, 999])
def test_any_code_from_100_to_999_is_a_status(code: int) -> None:
    response = Response("x", status=code)
    assert response.status_code == code
    assert response.status == f"{code} {reason_phrase(code).upper()}"
    assert status_line(code) == response.status


@pytest.mark.parametrize("code", [0, 99, 1000, -1])
def test_codes_out_of_range_are_refused(code: int) -> None:
    with pytest.raises(ValueError):
        status_line(code)
    with pytest.raises(ValueError):
        Response("x", status=code)


def test_status_strings_parse_like_werkzeug() -> None:
    assert parse_status("201 CREATED") == (201, "201 CREATED")
    assert parse_status("201") == (201, "201 CREATED")
    assert parse_status("666 evil") == (666, "666 EVIL")
    response = Response("x", status="202")
    assert (response.status_code, response.status) == (202, "202 ACCEPTED")
    with pytest.raises(ValueError):
        parse_status("abc")
    with pytest.raises(TypeError):
        Response("x").status = 1.5  # type: ignore[assignment]


@pytest.mark.parametrize("code", ERROR_CODES)
def test_one_class_per_error_code_matching_werkzeug(code: int) -> None:
    ours = kexc.default_exceptions[code]
    theirs = wexc.default_exceptions[code]
    assert ours.__name__ == theirs.__name__
    assert ours.code == code
    assert issubclass(ours, kexc.HTTPException)
    error = ours()
    assert error.description == theirs.description
    assert error.name == theirs().name
    response = error.get_response()
    assert response.status_code == code
    assert response.mimetype == "text/html"
    body = response.get_data(as_text=True)
    assert f"<title>{code} " in body
    assert body == theirs().get_body()


def test_teapot_and_every_4xx_5xx_exist() -> None:
    assert kexc.default_exceptions[418] is kexc.ImATeapot
    assert set(ERROR_CODES) <= set(kexc.default_exceptions)


def test_description_is_escaped_in_the_page() -> None:
    body = kexc.NotFound("<script>x</script>").get_response().get_data(as_text=True)
    assert "<script>" not in body
    assert "&lt;script&gt;" in body


def test_method_not_allowed_sends_allow() -> None:
    response = kexc.MethodNotAllowed(valid_methods=["GET", "POST"]).get_response()
    assert response.status_code == 405
    assert response.headers["Allow"] == "GET, POST"


def test_abort_by_code_with_and_without_description() -> None:
    with pytest.raises(kexc.NotFound) as info:
        kexc.abort(404)
    assert info.value.code == 404
    assert info.value.description == wexc.NotFound.description
    with pytest.raises(kexc.Forbidden) as info2:
        kexc.abort(403, "members only")
    assert info2.value.description == "members only"
    assert "members only" in info2.value.get_response().get_data(as_text=True)


def test_abort_with_a_response_raises_it_as_is() -> None:
    response = Response("custom", status=409)
    with pytest.raises(kexc.HTTPException) as info:
        kexc.abort(response)
    assert info.value.get_response() is response


@pytest.mark.parametrize("code", [200, 302, 399, 666, 999])
def test_abort_with_an_unknown_code_is_a_lookup_error(code: int) -> None:
    with pytest.raises(LookupError):
        kexc.abort(code)


def test_bad_request_key_error_is_both_key_error_and_400() -> None:
    error = kexc.BadRequestKeyError("page")
    assert isinstance(error, KeyError)
    assert isinstance(error, kexc.BadRequest)
    assert error.get_response().status_code == 400
