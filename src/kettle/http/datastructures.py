"""The MultiDict family: one key, many values, as HTML forms and query strings need.

``MultiDict`` is a dict of key -> list of values whose ``[]`` gives the first
value; a missing key raises ``BadRequestKeyError`` (a KeyError that is also a
400), so ``request.args["page"]`` without ``page`` answers Bad Request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, NoReturn, TypeVar

from kettle._accelerators import accelerator
from kettle.http._convert import convert_all, convert_or
from kettle.http.exceptions import BadRequestKeyError

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

_missing: Any = object()

#: ``dict.get`` itself: the stored value of a key, whatever a subclass overrides.
_dict_get = dict.get
#: ``type``, under a name the ``get`` methods' ``type`` parameter does not hide.
_class_of = type
#: ``dict.__getitem__`` itself: ``ImmutableMultiDict``'s ``[]`` (its dict holds first values).
_dict_getitem = dict.__getitem__
#: The C ``get`` and ``getlist`` (``_multidict.c``), or None: the functions themselves.
_Method = accelerator("kettle.http._multidict", "Method")
_F = TypeVar("_F", bound=Callable[..., Any])


def _accelerated(function: _F, kind: str) -> _F:
    """``function`` (ImmutableMultiDict's ``get`` or ``getlist``), answered in C when built.

    The C method answers the common call and calls ``function`` for any other.
    """
    return function if _Method is None else _Method(function, kind)


#: dict's own reads and update, untyped: an ImmutableMultiDict's dict holds values, not lists.
_stored_items: Any = dict.items
_stored_values: Any = dict.values
_store_update: Any = dict.update


def _get_through_getitem(
    mapping: Any, key: Any, default: Any, type: Callable[[Any], Any] | None
) -> Any:
    """``get`` for a subclass with its own ``__getitem__``: the value it gives, else ``default``."""
    try:
        value = mapping[key]
    except KeyError:
        return default
    if type is None:
        return value
    return convert_or(value, type, default)


def _fill(target: dict[Any, list[Any]], mapping: Any) -> None:
    """Add the pairs of ``mapping`` (see ``_pairs``) to a dict of lists.

    A list of pairs (a parsed form or query string, the common case) is
    built in C by one dict comprehension when its keys are distinct, else by
    one plain loop (``?tag=a&tag=b``), never through ``_pairs``' generator.
    """
    if mapping.__class__ is list:
        lists = {key: [value] for key, value in mapping}
        if len(lists) != len(mapping):
            lists = _grouped(mapping)
        dict.update(target, lists)
        return
    setdefault = dict.setdefault
    for key, value in _pairs(mapping):
        setdefault(target, key, []).append(value)


def _grouped(pairs: Iterable[Any]) -> dict[Any, list[Any]]:
    """The values of (key, value) ``pairs`` grouped by key, in the order keys first come."""
    lists: dict[Any, list[Any]] = {}
    for key, value in pairs:
        values = lists.get(key)
        if values is None:
            lists[key] = [value]
        else:
            values.append(value)
    return lists


def _pairs(mapping: Any) -> Iterator[tuple[Any, Any]]:
    """Yield (key, value) pairs from a MultiDict, a mapping of lists, or pairs."""
    if isinstance(mapping, MultiDict):
        yield from mapping.items(multi=True)
    elif isinstance(mapping, Mapping):
        for key, value in mapping.items():
            if isinstance(value, list | tuple):
                for item in value:
                    yield key, item
            else:
                yield key, value
    else:
        yield from mapping


class MultiDict(dict[K, list[V]]):
    """A dict that keeps every value given for a key.

    ``d[key]`` and ``d.get(key)`` give the first value; ``getlist`` all of them.
    """

    def __init__(self, mapping: Any = None) -> None:
        super().__init__()
        if mapping is not None:
            _fill(self, mapping)

    def __getitem__(self, key: K) -> V:  # type: ignore[override]
        values: list[V] | None = _dict_get(self, key)
        if values:
            return values[0]
        raise BadRequestKeyError(key)

    def __setitem__(self, key: K, value: V) -> None:  # type: ignore[override]
        dict.__setitem__(self, key, [value])

    def add(self, key: K, value: V) -> None:
        """Append ``value`` to the values of ``key``."""
        dict.setdefault(self, key, []).append(value)

    def get(self, key: K, default: Any = None, type: Callable[[V], T] | None = None) -> Any:
        """Return the first value of ``key``, converted by ``type``, or ``default``.

        A conversion that raises ValueError or TypeError gives ``default``.
        """
        # While the class keeps this ``__getitem__`` (read on the class each time: one
        # assigned later counts), the stored values are read here instead of calling
        # ``self[key]`` and catching the KeyError (building a BadRequestKeyError is most
        # of a missed ``get``'s cost).
        if _class_of(self).__getitem__ is not _MULTIDICT_GETITEM:
            return _get_through_getitem(self, key, default, type)
        values: list[V] | None = _dict_get(self, key)
        if not values:
            return default
        value = values[0]
        if type is None:
            return value
        return convert_or(value, type, default)

    def getlist(self, key: K, type: Callable[[V], T] | None = None) -> list[Any]:
        """Return every value of ``key``; values ``type`` rejects are skipped."""
        values: list[V] | None = _dict_get(self, key)
        if type is None:
            return values[:] if values else []
        return convert_all(values or (), type)

    def setlist(self, key: K, new_list: Iterable[V]) -> None:
        """Replace the values of ``key`` with ``new_list``."""
        dict.__setitem__(self, key, list(new_list))

    def setdefault(self, key: K, default: Any = None) -> Any:
        """Return the first value of ``key``, setting it to ``default`` if absent."""
        if key not in self:
            self[key] = default
        return self[key]

    def setlistdefault(self, key: K, default_list: Iterable[V] | None = None) -> list[V]:
        """Return the value list of ``key``, setting it from ``default_list`` if absent."""
        if key not in self:
            dict.__setitem__(self, key, list(default_list or ()))
        return dict.__getitem__(self, key)

    def items(self, multi: bool = False) -> Iterator[tuple[K, V]]:  # type: ignore[override]
        """Yield (key, first value), or every (key, value) pair with ``multi``."""
        for key, values in dict.items(self):
            if multi:
                for value in values:
                    yield key, value
            elif values:
                yield key, values[0]

    def lists(self) -> Iterator[tuple[K, list[V]]]:
        """Yield (key, list of values) pairs."""
        for key, values in dict.items(self):
            yield key, list(values)

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """Yield the first value of each key."""
        for values in dict.values(self):
            if values:
                yield values[0]

    def listvalues(self) -> Iterator[list[V]]:
        """Yield the value list of each key."""
        return iter(dict.values(self))

    def to_dict(self, flat: bool = True) -> dict[K, Any]:
        """Return a plain dict: first values, or lists with ``flat=False``."""
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def update(self, mapping: Any = None, /, **kwargs: Any) -> None:
        """Add the values of ``mapping`` to the existing ones (no replacing)."""
        for source in (mapping, kwargs):
            if source:
                for key, value in _pairs(source):
                    self.add(key, value)

    def pop(self, key: K, default: Any = _missing) -> Any:
        """Remove ``key`` and return its first value (or ``default``)."""
        try:
            values = dict.pop(self, key)
        except KeyError:
            if default is _missing:
                raise BadRequestKeyError(key) from None
            return default
        if not values:
            if default is _missing:
                raise BadRequestKeyError(key)
            return default
        return values[0]

    def poplist(self, key: K) -> list[V]:
        """Remove ``key`` and return all its values ([] when absent)."""
        return dict.pop(self, key, [])

    def popitem(self) -> tuple[K, V]:  # type: ignore[override]
        """Remove an item and return (key, first value)."""
        key, values = dict.popitem(self)
        return key, values[0]

    def popitemlist(self) -> tuple[K, list[V]]:
        """Remove an item and return (key, values)."""
        return dict.popitem(self)

    def copy(self) -> MultiDict[K, V]:
        """Return a shallow copy."""
        return self.__class__(self)

    def deepcopy(self, memo: Any = None) -> MultiDict[K, V]:
        """Return a deep copy."""
        import copy

        return self.__class__(copy.deepcopy(self.to_dict(flat=False), memo))

    def __copy__(self) -> MultiDict[K, V]:
        return self.copy()

    def __deepcopy__(self, memo: Any) -> MultiDict[K, V]:
        return self.deepcopy(memo)

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Every value, rebuilt through the constructor (a dict subclass would otherwise be
        # pickled as (key, first value) items set one by one, which an immutable refuses).
        return type(self), (list(self.items(multi=True)),)

    def __iter__(self) -> Iterator[K]:
        return dict.__iter__(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self.items(multi=True))!r})"


#: ``MultiDict``'s own ``__getitem__`` (``get`` reads the stored lists while a class keeps it).
_MULTIDICT_GETITEM = MultiDict.__getitem__


class _Immutable:
    """Refuses every write, as Werkzeug's immutable dicts do."""

    def _refuse(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError(f"{type(self).__name__!r} objects are immutable")

    __setitem__ = __delitem__ = add = setlist = setdefault = setlistdefault = _refuse
    update = pop = poplist = popitem = popitemlist = clear = _refuse
    # ``d |= other`` would otherwise be dict's own update, past every method above.
    __ior__ = _refuse


class ImmutableMultiDict(_Immutable, MultiDict[K, V]):
    """A MultiDict that cannot be changed (request.args, request.form).

    Stored otherwise than a MultiDict, since nothing can change it: the dict
    holds each key's first value, so ``d[key]`` is dict's own lookup (in C; a
    missing key still raises ``BadRequestKeyError``, from ``__missing__``),
    and ``_lists`` the value lists of the keys that have more than one (None
    when none has). The reads below are MultiDict's for this layout.
    """

    #: The value lists of the keys with several values (None: every key has one).
    #: ``kettle.http.urls.query_multidict`` builds this layout itself.
    _lists: dict[K, list[V]] | None = None

    def __init__(self, mapping: Any = None) -> None:
        dict.__init__(self)
        if mapping is None:
            return
        lists: dict[K, list[V]]
        if mapping.__class__ is list:  # (key, value) pairs: a parsed form's, the common input.
            first = dict(mapping)  # In C, no frame: a key that repeats keeps its last value,
            if len(first) == len(mapping):  # but none repeats: these are the first values.
                _store_update(self, first)
                return
            lists = _grouped(mapping)
        else:
            lists = {}
            _fill(lists, mapping)
        _store(self, {key: values[0] for key, values in lists.items()}, lists)

    __getitem__ = dict.__getitem__  # type: ignore[assignment]

    def __missing__(self, key: K) -> NoReturn:
        raise BadRequestKeyError(key)

    def get(self, key: K, default: Any = None, type: Callable[[V], T] | None = None) -> Any:
        """Return the first value of ``key``, converted by ``type``, or ``default``.

        A conversion that raises ValueError or TypeError gives ``default``.
        """
        if _class_of(self).__getitem__ is not _dict_getitem:  # As ``MultiDict.get``.
            return _get_through_getitem(self, key, default, type)
        if type is None:  # The dict holds first values: its own ``get`` is the answer.
            return _dict_get(self, key, default)
        value = _dict_get(self, key, _missing)
        if value is _missing:
            return default
        return convert_or(value, type, default)

    def getlist(self, key: K, type: Callable[[V], T] | None = None) -> list[Any]:
        """Return every value of ``key``; values ``type`` rejects are skipped."""
        lists = self._lists
        if lists is not None:
            values = lists.get(key)
            if values is not None:
                # ``copy()``: a slice builds a slice object first (about 250 instructions more).
                return values.copy() if type is None else convert_all(values, type)
        value = _dict_get(self, key, _missing)
        values = [] if value is _missing else [value]
        return values if type is None else convert_all(values, type)

    get = _accelerated(get, "get")
    getlist = _accelerated(getlist, "getlist")

    def items(self, multi: bool = False) -> Iterator[tuple[K, V]]:  # type: ignore[override]
        """Yield (key, first value), or every (key, value) pair with ``multi``."""
        lists = self._lists
        if not multi or lists is None:
            yield from _stored_items(self)
            return
        for key, value in _stored_items(self):
            values = lists.get(key)
            if values is None:
                yield key, value
            else:
                for each in values:
                    yield key, each

    def lists(self) -> Iterator[tuple[K, list[V]]]:
        """Yield (key, list of values) pairs."""
        lists = self._lists or {}
        for key, value in _stored_items(self):
            values = lists.get(key)
            yield key, [value] if values is None else values[:]

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """Yield the first value of each key."""
        yield from _stored_values(self)

    def listvalues(self) -> Iterator[list[V]]:
        """Yield the value list of each key (a copy: this dict cannot change)."""
        for _, values in self.lists():
            yield values

    def __eq__(self, other: object) -> bool:
        # What a MultiDict's dict of lists compares (``{"a": ["1"]}`` equals it too).
        if isinstance(other, MultiDict):
            other = other.to_dict(flat=False)
        return dict(self.lists()) == other

    def __ne__(self, other: object) -> bool:
        return not self == other

    def copy(self) -> MultiDict[K, V]:
        """Return a mutable copy."""
        return MultiDict(self)

    def __copy__(self) -> ImmutableMultiDict[K, V]:
        # Immutable, so ``copy.copy`` gives the object itself, as for a tuple (and Werkzeug).
        return self

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(tuple(self.items(multi=True)))


def _store(target: ImmutableMultiDict[K, V], first: dict[K, V], lists: dict[K, list[V]]) -> None:
    """Fill an empty ImmutableMultiDict: ``first`` values, and the ``lists`` longer than one."""
    _store_update(target, first)
    repeated = {key: values for key, values in lists.items() if len(values) > 1}
    if repeated:
        target._lists = repeated


class CombinedMultiDict(ImmutableMultiDict[K, V]):
    """A read-only view over several MultiDicts, searched in order.

    ``request.values`` combines ``args`` and ``form`` this way.
    """

    def __init__(self, dicts: Iterable[MultiDict[K, V]] | None = None) -> None:
        dict.__init__(self)
        self.dicts: list[MultiDict[K, V]] = list(dicts or ())

    def __getitem__(self, key: K) -> V:  # type: ignore[override]
        for d in self.dicts:
            if key in d:
                return d[key]
        raise BadRequestKeyError(key)

    def get(self, key: K, default: Any = None, type: Callable[[V], T] | None = None) -> Any:
        """Return the first value of ``key`` in the first dict holding it."""
        for d in self.dicts:
            if key in d:
                return d.get(key, default, type)
        return default

    def getlist(self, key: K, type: Callable[[V], T] | None = None) -> list[Any]:
        """Return the values of ``key`` from every dict, in order."""
        result: list[Any] = []
        for d in self.dicts:
            result.extend(d.getlist(key, type))
        return result

    def _keys(self) -> list[K]:
        seen: dict[K, None] = {}
        for d in self.dicts:
            for key in d:
                seen.setdefault(key, None)
        return list(seen)

    def keys(self) -> Any:
        """Return the keys of every dict, once each."""
        return self._keys()

    def __iter__(self) -> Iterator[K]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def __contains__(self, key: object) -> bool:
        return any(key in d for d in self.dicts)

    def __bool__(self) -> bool:
        return any(self.dicts)

    def items(self, multi: bool = False) -> Iterator[tuple[K, V]]:  # type: ignore[override]
        """Yield (key, first value), or every pair with ``multi``."""
        if multi:
            for d in self.dicts:
                yield from d.items(multi=True)
            return
        for key in self._keys():
            yield key, self[key]

    def lists(self) -> Iterator[tuple[K, list[V]]]:
        """Yield (key, all values across dicts)."""
        for key in self._keys():
            yield key, self.getlist(key)

    def values(self) -> Iterator[V]:  # type: ignore[override]
        """Yield the first value of each key."""
        for key in self._keys():
            yield self[key]

    def listvalues(self) -> Iterator[list[V]]:
        """Yield every key's values across dicts."""
        for key in self._keys():
            yield self.getlist(key)

    def to_dict(self, flat: bool = True) -> dict[K, Any]:
        """Return a plain dict: first values, or lists with ``flat=False``."""
        if flat:
            return dict(self.items())
        return dict(self.lists())

    def copy(self) -> MultiDict[K, V]:
        """Return a mutable MultiDict holding every value."""
        return MultiDict(list(self.items(multi=True)))

    def __eq__(self, other: object) -> bool:
        return self.to_dict(flat=False) == (
            other.to_dict(flat=False) if isinstance(other, MultiDict) else other
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.dicts!r})"

    def __copy__(self) -> CombinedMultiDict[K, V]:
        return type(self)(self.dicts)

    def __deepcopy__(self, memo: Any) -> CombinedMultiDict[K, V]:
        import copy

        return type(self)(copy.deepcopy(self.dicts, memo))

    def __reduce_ex__(self, protocol: Any) -> Any:
        return type(self), (self.dicts,)


class ImmutableDict(_Immutable, dict[K, V]):
    """A dict that cannot be changed."""

    def copy(self) -> dict[K, V]:
        """Return a mutable copy."""
        return dict(self)

    def __hash__(self) -> int:  # type: ignore[override]
        return hash(frozenset(self.items()))
