"""List and key=value header values, and Authorization, read as Werkzeug reads them."""

from __future__ import annotations

import base64

from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import Authorization as WerkzeugAuthorization
from werkzeug.http import parse_dict_header as werkzeug_dict
from werkzeug.http import parse_list_header as werkzeug_list

from kettle.http.auth import Authorization
from kettle.http.headervalues import parse_dict_header, parse_list_header

#: Text rich in what the parsers split and unquote on.
_HEADERISH = st.text(alphabet=st.sampled_from(list("ab =,\"\\\t*'%8UTF-é")), max_size=40)


@settings(max_examples=400, deadline=None)
@given(_HEADERISH)
def test_list_and_dict_headers_are_werkzeugs(value: str) -> None:
    assert parse_list_header(value) == werkzeug_list(value)
    assert parse_dict_header(value) == werkzeug_dict(value)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["Basic", "basic", "Digest", "Bearer", "Token"]),
    st.one_of(_HEADERISH, st.binary(max_size=20).map(lambda b: base64.b64encode(b).decode())),
)
def test_authorization_is_werkzeugs(scheme: str, rest: str) -> None:
    value = f"{scheme} {rest}"
    ours = Authorization.from_header(value)
    try:
        theirs = WerkzeugAuthorization.from_header(value)
    except ValueError:  # Werkzeug 3.1 raises on non-ASCII Basic credentials (a 500 in Flask).
        theirs = None
    if theirs is None:
        assert ours is None
        return
    assert ours is not None
    assert (ours.type, ours.parameters, ours.token) == (
        theirs.type,
        theirs.parameters,
        theirs.token,
    )
