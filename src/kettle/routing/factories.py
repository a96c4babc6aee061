"""Rule factories: rules grouped under a path, a subdomain, an endpoint prefix or a template.

Werkzeug's API (``Submount``, ``Subdomain``, ``EndpointPrefix``,
``RuleTemplate``): each takes rules (or other factories) and yields unbound
copies of them, changed, when the map adds it::

    url_map.add(Submount("/api", [Rule("/users", endpoint="users")]))
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from string import Template
from typing import TYPE_CHECKING, Any

from kettle.routing.rules import Rule, RuleFactory

if TYPE_CHECKING:
    from kettle.routing.map import Map


class _Group(RuleFactory):
    """Rules from ``rules`` (and nested factories), each copied then changed by ``_change``."""

    def __init__(self, rules: Iterable[RuleFactory]) -> None:
        self.rules = rules

    def get_rules(self, map: Map) -> Iterator[Rule]:
        """Yield a changed, unbound copy of every rule in the group."""
        for factory in self.rules:
            for rule in factory.get_rules(map):
                copy = rule.empty()
                self._change(copy)
                yield copy

    def _change(self, rule: Rule) -> None:
        raise NotImplementedError


class Submount(_Group):
    """Prefix the path of every rule with ``path``."""

    def __init__(self, path: str, rules: Iterable[RuleFactory]) -> None:
        super().__init__(rules)
        self.path = path.rstrip("/")

    def _change(self, rule: Rule) -> None:
        rule.rule = self.path + rule.rule


class Subdomain(_Group):
    """Put every rule under ``subdomain`` (needs ``SERVER_NAME`` and subdomain matching)."""

    def __init__(self, subdomain: str, rules: Iterable[RuleFactory]) -> None:
        super().__init__(rules)
        self.subdomain = subdomain

    def _change(self, rule: Rule) -> None:
        rule.subdomain = self.subdomain


class EndpointPrefix(_Group):
    """Prefix the endpoint of every rule with ``prefix``."""

    def __init__(self, prefix: str, rules: Iterable[RuleFactory]) -> None:
        super().__init__(rules)
        self.prefix = prefix

    def _change(self, rule: Rule) -> None:
        rule.endpoint = self.prefix + rule.endpoint


class RuleTemplate:
    """Rules with ``$name`` placeholders; calling the template fills them in.

    ``RuleTemplate([Rule("/$kind/", endpoint="$kind_list")])(kind="user")``
    is a factory for ``Rule("/user/", endpoint="user_list")``. Placeholders
    work in the path, the endpoint, the subdomain, and string defaults.
    """

    def __init__(self, rules: Iterable[RuleFactory]) -> None:
        self.rules = list(rules)

    def __call__(self, *args: Any, **kwargs: Any) -> RuleTemplateFactory:
        """Return a factory with the placeholders filled from a mapping and/or keywords."""
        return RuleTemplateFactory(self.rules, dict(*args, **kwargs))


class RuleTemplateFactory(RuleFactory):
    """The rules of a ``RuleTemplate`` with its placeholders filled in."""

    def __init__(self, rules: Iterable[RuleFactory], context: Mapping[str, Any]) -> None:
        self.rules = rules
        self.context = context

    def _fill(self, value: Any) -> Any:
        return Template(value).substitute(self.context) if isinstance(value, str) else value

    def get_rules(self, map: Map) -> Iterator[Rule]:
        """Yield an unbound copy of every rule, its placeholders filled in."""
        for factory in self.rules:
            for rule in factory.get_rules(map):
                kwargs = dict(rule.get_empty_kwargs())
                kwargs["endpoint"] = self._fill(kwargs["endpoint"])
                kwargs["subdomain"] = self._fill(kwargs["subdomain"])
                if kwargs["defaults"]:
                    kwargs["defaults"] = {
                        key: self._fill(value) for key, value in kwargs["defaults"].items()
                    }
                yield type(rule)(self._fill(rule.rule), **kwargs)
