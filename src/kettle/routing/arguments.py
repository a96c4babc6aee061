"""The view arguments of a match: its values decoded, its defaults, its refusals.

``StateMachine.resolve`` (``matcher.py``) decodes the usual two values in
place; these are the rest: any other count of values, a value a converter
refuses (a 404, as Werkzeug 2.2+), the rule's defaults and an alias's
redirect, and the NoMatch a miss returns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

from kettle.routing.exceptions import NoMatch, RequestAliasRedirect, ValidationError

if TYPE_CHECKING:
    from kettle.routing.rules import Rule

__all__ = [
    "NOTHING_MATCHED",
    "WEBSOCKET_MISMATCH",
    "completed",
    "decoded_arguments",
    "no_match",
    "refused",
]

#: Recorded among the refused methods when a rule of the other protocol matched;
#: the space keeps it apart from any real method name.
WEBSOCKET_MISMATCH: Final = " websocket"


def decoded_arguments(
    rule: Rule, values: Sequence[Any], misses: set[str] | None
) -> dict[str, Any] | NoMatch:
    """The view arguments of ``rule`` from its values in order (two: see ``resolve``).

    The NoMatch when a decoder refuses a value (``refused``).
    """
    args: dict[str, Any] = {}
    for name, value, decode in zip(rule._names, values, rule._decoders, strict=False):
        try:
            args[name] = value if decode is None else decode(value)
        except ValueError as error:
            return refused(error, decode, misses)
    return args


def refused(
    error: ValueError, decode: Callable[[str], Any] | None, misses: set[str] | None
) -> NoMatch:
    """The NoMatch for a value the rule's converter refused; raise any other error."""
    # As Werkzeug 2.2+: a refused value ends the match, it does not fall
    # through to the next rule. (A plain int converter's decoder is int
    # itself, which refuses over 4300 digits with a ValueError.)
    if isinstance(error, ValidationError) or decode is int:
        return no_match(misses)
    raise error


def completed(
    rule: Rule, args: dict[str, Any], redirect_defaults: bool
) -> tuple[Rule, dict[str, Any]]:
    """Add the rule's defaults to its arguments; raise RequestAliasRedirect for an alias
    (under ``redirect_defaults``)."""
    if rule.defaults:
        args.update(rule.defaults)
    if rule.alias and redirect_defaults:
        raise RequestAliasRedirect(args, rule.endpoint)
    return rule, args


# What a miss with nothing refused returns (the common 404): never raised (the
# map raises an HTTP error instead), so one instance serves every request.
NOTHING_MATCHED = NoMatch(set(), False)


def no_match(misses: set[str] | None) -> NoMatch:
    """The NoMatch for these refusals: the methods, and if a rule of the other protocol matched."""
    if not misses:
        return NOTHING_MATCHED
    return NoMatch(misses - {WEBSOCKET_MISMATCH}, WEBSOCKET_MISMATCH in misses)
