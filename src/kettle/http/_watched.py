"""A metaclass that tells when a class attribute changes, so facts about classes stay exact.

On Python 3.11 a class attribute read through an instance (``self.charset``) is a
generic lookup each time; a fact about a class kept in a dict (``cls`` -> value)
costs one lookup for several such reads. Kept facts are only exact while the
classes they were learned from are unchanged: ``WatchedClass`` (the metaclass of
``kettle.http.response.Response``) clears every table made by ``fact_table`` when
an attribute is assigned or deleted on any of its classes after creation
(``Response.charset = "latin-1"``, ``MyResponse.status = property(...)``).

A fact is kept only for a class whose whole MRO, ``object`` aside, is watched so
(``keep``): a plain mixin's attribute could change unseen. A fact learned while a
change was being made (another thread) is dropped again (``_changes``). A negative
answer ("take the general path") is exact for any class and is kept regardless.

``WatchedClass`` derives from ``ABCMeta``, so a subclass may mix in an ABC; a
subclass with a metaclass of its own must derive that from ``type(Response)``.
"""

from __future__ import annotations

from abc import ABCMeta
from collections.abc import Callable
from typing import Any

from kettle._accelerators import accelerator

#: Bumped by every change (a learner compares it before and after).
_changes = [0]
_tables: list[dict[type, Any]] = []
#: Past this many classes a table starts again (classes made at run time stay collectable).
_MAX_CLASSES = 64
_MISSING: Any = object()
#: CPython's version tag of a class (``class_version`` of ``kettle.http._urlencoded``: it
#: changes when an attribute of the class or of a base is set or deleted), or None.
class_version: Callable[[type], int] | None = accelerator(
    "kettle.http._urlencoded", "class_version"
)


def forget() -> None:
    """Forget every fact (a watched class changed)."""
    _changes[0] += 1
    for table in _tables:
        table.clear()


class WatchedClass(ABCMeta):
    """The metaclass of ``Response``: an attribute set or deleted on a class forgets all facts."""

    def __setattr__(cls, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        forget()

    def __delattr__(cls, name: str) -> None:
        super().__delattr__(name)
        forget()


def fact_table() -> dict[type, Any]:
    """A new table of facts by class, cleared by every change of a watched class."""
    table: dict[type, Any] = {}
    _tables.append(table)
    return table


def changes() -> int:
    """The change count now: pass it to ``keep`` with what was learned after it."""
    return _changes[0]


def static_attribute(cls: type, name: str) -> Any:
    """``name`` as found in the class dicts of ``cls``'s MRO, no descriptor run (or a sentinel)."""
    for klass in cls.__mro__:
        found = klass.__dict__.get(name, _MISSING)
        if found is not _MISSING:
            return found
    return _MISSING


def _watched_whole(cls: type) -> bool:
    for klass in cls.__mro__:
        if klass is object:
            continue
        meta = type(klass)
        if not (
            isinstance(klass, WatchedClass)
            and meta.__setattr__ is WatchedClass.__setattr__
            and meta.__delattr__ is WatchedClass.__delattr__
        ):
            return False
    return True


def keep(table: dict[type, Any], cls: type, fact: Any, since: int, positive: bool) -> Any:
    """Keep ``fact`` about ``cls`` (learned after ``changes()`` was ``since``); return it.

    A ``positive`` fact (one that lets the caller skip reading the class) is kept
    only for a class watched whole, and not if a change came while it was learned.
    """
    if positive and not _watched_whole(cls):
        return fact
    if len(table) >= _MAX_CLASSES:
        table.clear()
    table[cls] = fact
    if positive and _changes[0] != since:
        table.pop(cls, None)
    return fact


def learned(
    cls: type, test: Callable[[type], bool], yes: dict[type, Any], no: dict[type, Any]
) -> bool:
    """``test(cls)`` for a watched class, learned once per class into ``yes`` or ``no``.

    ``yes`` and ``no`` are tables from ``fact_table``; a caller tests ``cls in yes``
    first and calls this on a miss. A class that is not watched is never "yes".
    """
    if cls in yes:
        return True
    if cls in no:
        return False
    since = changes()
    plain = isinstance(cls, WatchedClass) and test(cls)
    keep(yes if plain else no, cls, True, since, positive=plain)
    return plain


def keeps(
    cls: type, expected: tuple[tuple[str, Any], ...], yes: dict[type, Any], no: dict[type, Any]
) -> bool:
    """True when each ``(name, value)`` of ``expected`` is ``cls``'s own (``learned``)."""
    return learned(
        cls,
        lambda klass: all(static_attribute(klass, name) is value for name, value in expected),
        yes,
        no,
    )


def versioned_fact(
    table: dict[type, tuple[int, Any]], cls: type, learn: Callable[[type], Any]
) -> Any:
    """``learn(cls)``, kept in ``table`` while ``cls`` and its bases are unchanged.

    For classes that are not watched (a request class): the fact is kept with the
    class's ``class_version`` and learned again when it differs. Without the C
    accelerator (or a version tag) it is learned on every call: exact, slower.
    Past ``_MAX_CLASSES`` classes the table starts again.
    """
    version = 0 if class_version is None else class_version(cls)
    kept = table.get(cls)
    if kept is not None and version and kept[0] == version:
        return kept[1]
    fact = learn(cls)
    if version:
        if len(table) >= _MAX_CLASSES:
            table.clear()
        table[cls] = (version, fact)
    return fact
