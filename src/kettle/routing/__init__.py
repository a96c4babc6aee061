"""URL routing: rules with converters, matched and built by a compiled map.

Sans-IO: plain strings in, rules and values out. The API is Werkzeug's
(``Map``, ``Rule``, ``MapAdapter``, converters), plus ``Map.match``,
``Map.build`` and ``Map.allowed_methods``, the fast calls the app makes.
"""

from kettle.routing.converters import (
    AnyConverter,
    BaseConverter,
    FloatConverter,
    IntegerConverter,
    NumberConverter,
    PathConverter,
    UnicodeConverter,
    UUIDConverter,
)
from kettle.routing.exceptions import (
    BuildError,
    RequestRedirect,
    RoutingException,
    ValidationError,
    WebsocketMismatch,
)
from kettle.routing.factories import (
    EndpointPrefix,
    RuleTemplate,
    RuleTemplateFactory,
    Subdomain,
    Submount,
)
from kettle.routing.map import Map, MapAdapter
from kettle.routing.rules import Rule, RuleFactory

__all__ = [
    "AnyConverter",
    "BaseConverter",
    "BuildError",
    "EndpointPrefix",
    "FloatConverter",
    "IntegerConverter",
    "Map",
    "MapAdapter",
    "NumberConverter",
    "PathConverter",
    "RequestRedirect",
    "RoutingException",
    "Rule",
    "RuleFactory",
    "RuleTemplate",
    "RuleTemplateFactory",
    "Subdomain",
    "Submount",
    "UUIDConverter",
    "UnicodeConverter",
    "ValidationError",
    "WebsocketMismatch",
]
