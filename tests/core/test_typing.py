"""kettle.typing: the protocol aliases and every name flask.typing defines."""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Awaitable

import flask.typing

import kettle.typing


def _flask_names() -> set[str]:
    source = inspect.getsource(flask.typing)
    return set(re.findall(r"^([A-Z]\w*) = ", source, re.MULTILINE))


def test_every_flask_typing_name_exists() -> None:
    assert _flask_names() - set(vars(kettle.typing)) == set()


def test_protocol_aliases_are_the_shapes_servers_use() -> None:
    assert kettle.typing.Scope == dict[str, typing.Any]
    assert kettle.typing.WSGIEnvironment == dict[str, typing.Any]
    receive_args, receive_result = typing.get_args(kettle.typing.Receive)
    assert receive_args == [] and typing.get_origin(receive_result) is Awaitable
    send_args, _ = typing.get_args(kettle.typing.Send)
    assert send_args == [kettle.typing.Message]


def test_aliases_are_runtime_objects_code_can_combine() -> None:
    # Extensions build on flask.typing at import time, e.g. ``ResponseReturnValue | None``.
    for name in _flask_names():
        alias = getattr(kettle.typing, name)
        assert not isinstance(alias, str), name
        assert None in typing.get_args(alias | None) or type(None) in typing.get_args(alias | None)
