"""The compact attribute layout of the request objects, settled when a class is made.

CPython (3.11, 3.12) keeps the attributes of a class's instances in a
compact array whose slots are named by one table per class, the class's
*shared keys*. That table takes new names only while the class is young: it
starts with room for 30 names and each new instance takes one room away, so
after some 30 instances it is closed. An attribute whose name is not in the
table makes its instance build a real ``__dict__`` (about 100 ns), and every
later attribute read on that instance takes the slow path.

Which names got in used to depend on which requests a process served first:
a process whose first requests were ``/hello`` closed the table without
``args``, ``view_args`` or ``scope``, and every later query, URL value or
ASGI request paid for a dict (measured: ``query`` 4.0 -> 4.4 µs per request).
``settle_layout`` puts the names the request pipeline sets into the table
when the class is made, so the layout is the same whatever comes first.
"""

from __future__ import annotations

from collections.abc import Iterable

from kettle.http._watched import static_attribute

#: The attributes the pipeline and the lazy properties set on any request, the most
#: common first. A class adds its own in ``_layout_attributes`` (``kettle.wrappers``: what
#: the adapters keep), for at most 29 in all (the table's 30, less the instance made
#: here). (``form``, ``files`` and the body stream are kept through ``__dict__``, which a
#: form reads anyway: not listed.)
REQUEST_ATTRIBUTES = (
    *("method", "path", "_host_header", "_form_loaded", "_checked_host", "host_is_valid"),
    *("_stream", "owns_stream", "url_rule", "routing_exception", "view_args"),
    *("query_string", "args", "scheme", "remote_addr", "headers", "cookies"),
    *("content_length", "_parsed_content_type", "_cached_data", "_cached_json", "root_path"),
    *("_server", "accept_mimetypes"),
)


def _data_descriptor(cls: type, name: str) -> bool:
    """True when ``name`` is a data descriptor of ``cls`` (a property): not an instance slot."""
    kind = type(static_attribute(cls, name))
    return hasattr(kind, "__set__") or hasattr(kind, "__delete__")


def settle_layout(cls: type, names: Iterable[str] | None = None) -> None:
    """Put ``names`` (default: the class's ``_layout_attributes``, else
    ``REQUEST_ATTRIBUTES``) in the shared keys of ``cls``, while it has no instance yet.

    One instance is made without ``__init__`` and given each name (except a
    name the class makes a property) through ``object.__setattr__``, then
    dropped. A class that cannot be made so (a ``__new__`` of its own, slots, a
    finaliser) is left as it is: it only misses the speed-up.
    """
    new: object = cls.__new__
    if new is not object.__new__ or getattr(cls, "__del__", None) is not None:
        return
    if names is None:
        names = getattr(cls, "_layout_attributes", REQUEST_ATTRIBUTES)
    try:
        instance: object = object.__new__(cls)
        for name in names:
            if not _data_descriptor(cls, name):
                object.__setattr__(instance, name, None)
    except (TypeError, AttributeError):  # No instance dict, or abstract methods.
        return
