"""Run the same rules and requests through kettle.routing and Werkzeug's routing.

Werkzeug (a Flask dependency, installed for tests only) is the reference: a
table row is proven when both give the same outcome.
"""

from __future__ import annotations

from typing import Any

import werkzeug.exceptions
import werkzeug.routing

import kettle.http.exceptions
import kettle.routing

Outcome = tuple[Any, ...]


def outcome_kettle(
    rules: list[dict[str, Any]], path: str, method: str = "GET", **map_options: Any
) -> Outcome:
    """Match with kettle's fast ``Map.match``."""
    url_map = kettle.routing.Map([kettle.routing.Rule(**spec) for spec in rules], **map_options)
    try:
        rule, values = url_map.match(path, method, host="example.com")
    except kettle.routing.RequestRedirect as redirect:
        return ("redirect", redirect.new_url)
    except kettle.http.exceptions.MethodNotAllowed as error:
        return (405, sorted(error.valid_methods or ()))
    except kettle.http.exceptions.HTTPException as error:
        return (error.code,)
    return ("match", rule.endpoint, values)


def outcome_kettle_adapter(
    rules: list[dict[str, Any]], path: str, method: str = "GET", **map_options: Any
) -> Outcome:
    """Match with kettle's Werkzeug-style ``MapAdapter.match``."""
    url_map = kettle.routing.Map([kettle.routing.Rule(**spec) for spec in rules], **map_options)
    adapter = url_map.bind("example.com")
    try:
        endpoint, values = adapter.match(path, method)
    except kettle.routing.RequestRedirect as redirect:
        return ("redirect", redirect.new_url)
    except kettle.http.exceptions.MethodNotAllowed as error:
        return (405, sorted(error.valid_methods or ()))
    except kettle.http.exceptions.HTTPException as error:
        return (error.code,)
    return ("match", endpoint, values)


def outcome_werkzeug(
    rules: list[dict[str, Any]], path: str, method: str = "GET", **map_options: Any
) -> Outcome:
    """Match with Werkzeug, the reference."""
    url_map = werkzeug.routing.Map([werkzeug.routing.Rule(**spec) for spec in rules], **map_options)
    adapter = url_map.bind("example.com")
    try:
        endpoint, values = adapter.match(path, method)
    except werkzeug.routing.RequestRedirect as redirect:
        return ("redirect", redirect.new_url)
    except werkzeug.exceptions.MethodNotAllowed as error:
        return (405, sorted(error.valid_methods or ()))
    except werkzeug.exceptions.HTTPException as error:
        return (error.code,)
    return ("match", endpoint, values)
