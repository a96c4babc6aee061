"""Teach ASGI servers the status codes Kettle allows (any from 100 to 999).

uvicorn writes status lines from tables built for 100-599 only: under its
h11 protocol a view returning ``666`` (one of the material's examples) ends
in ``KeyError: 666`` and an empty reply, under httptools likewise. Nothing
in HTTP limits a status to that range (RFC 9110 section 15: three digits),
and h11 itself accepts up to 999. So, once per server process, the missing
codes are added to the tables of whichever uvicorn protocol modules are
loaded; the installed files are left as they are. granian and gunicorn
send any three-digit code as given and need nothing.
"""

from __future__ import annotations

import sys

from kettle.http.status import reason_phrase

#: uvicorn's protocol modules, the table each one keeps, and how an entry looks.
_UVICORN_TABLES = (
    ("uvicorn.protocols.http.h11_impl", "STATUS_PHRASES", "phrase"),
    ("uvicorn.protocols.http.httptools_impl", "STATUS_LINE", "line"),
    ("uvicorn.protocols.websockets.websockets_sansio_impl", "STATUS_PHRASES", "text"),
)


def _entry(code: int, kind: str) -> bytes | str:
    phrase = reason_phrase(code)
    if kind == "line":
        return f"HTTP/1.1 {code} {phrase}\r\n".encode("latin-1")
    if kind == "phrase":
        return phrase.encode("latin-1")
    return phrase


def teach_server_status_codes() -> None:
    """Add codes 100-999 to the status tables of the loaded uvicorn protocol modules.

    Cheap and idempotent: call it when the server has loaded its protocol
    (the lifespan startup, or ``kettle run`` before serving).
    """
    for module_name, table_name, kind in _UVICORN_TABLES:
        module = sys.modules.get(module_name)
        table = getattr(module, table_name, None)
        if not isinstance(table, dict) or 999 in table:
            continue
        for code in range(100, 1000):
            if code not in table:
                table[code] = _entry(code, kind)
