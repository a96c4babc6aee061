"""The view arguments of a match: its values decoded, its defaults, its refusals.

``StateMachine.resolve`` (``matcher.py``) decodes the usual one or two values
of a rule without defaults or alias in place (``Rule._arity``); these are the
rest: any other count of values, a value a converter refuses (a 404, as
Werkzeug 2.2+), the rule's defaults and an alias's redirect, and the NoMatch a
miss returns.
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
    rule: Rule, values: Sequence[Any], misses: set[str] | None, redirect_defaults: bool
) -> tuple[Rule, dict[str, Any]] | NoMatch:
    """What ``resolve`` returns for ``rule`` and its values in order, when its ``_arity`` is 0.

    The NoMatch when a decoder refuses a value (``refused``); the rule's
    defaults added (``completed``).
    """
    args: dict[str, Any] = {}
    decoders = rule._decoders
    for index, name in enumerate(rule._names):
        decode = decoders[index]
        try:
            args[name] = values[index] if decode is None else decode(values[index])
        except ValueError as error:
            return refused(error, decode, misses)
    if rule.defaults or rule.alias:
        return completed(rule, args, redirect_defaults)
    return rule, args


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
