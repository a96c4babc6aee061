"""``cached_property`` without the lock of Python 3.11's.

``functools.cached_property`` takes an RLock on every first read until
Python 3.12 (which dropped it as a design mistake); a request reads a few
of its lazy attributes once each, so that lock was a visible part of, say,
``request.args``. This one computes, stores the value in the instance
``__dict__`` (where later reads find it without calling anything), and
returns it. Two threads reading the same new attribute of one object at
once may both compute it, as on Python 3.12.

A hot attribute (``Request.args``, ``Request.form``) is its own small
descriptor class instead, whose ``__get__`` computes and stores the value
as this one does: its first read is then one Python frame, not two
(``__get__`` and the function it calls).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, Self, TypeVar, overload

T = TypeVar("T")
#: ``object.__setattr__``: a class that keeps it stores a computed value with ``setattr``.
PLAIN_SETATTR = object.__setattr__


class cached_property(Generic[T]):
    """A property computed on first read and then stored on the instance."""

    def __init__(self, func: Callable[[Any], T]) -> None:
        self.func = func
        self.attrname: str = func.__name__
        self.__doc__ = func.__doc__
        self.__module__ = func.__module__

    def __set_name__(self, owner: type, name: str) -> None:
        self.attrname = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> Self: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> Self | T:
        if instance is None:
            return self
        value = self.func(instance)
        store(instance, self.attrname, value)
        return value


def store(instance: object, name: str, value: Any) -> None:
    """Keep a computed ``value`` on ``instance`` under ``name``, as ``cached_property`` does.

    Not through ``instance.__dict__``: on Python 3.11 reading ``__dict__`` turns the
    instance's compact attribute array into a real dict (built, then freed with the
    object); a set attribute stays in the array (``kettle.http._layout``). ``name``
    must have no data descriptor on the class. A class with its own ``__setattr__``
    is not asked: the value goes in its ``__dict__``.
    """
    if type(instance).__setattr__ is PLAIN_SETATTR:
        setattr(instance, name, value)
    else:
        instance.__dict__[name] = value
