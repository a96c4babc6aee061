"""HTTP status codes and their reason phrases (RFC 9110, plus the usual extras).

Any integer from 100 to 999 is a valid status for Kettle: the material returns
``666``. Codes without a registered phrase get ``"UNKNOWN"``, as Werkzeug does.
"""

from __future__ import annotations

HTTP_STATUS_CODES: dict[int, str] = {
    100: "Continue",
    101: "Switching Protocols",
    102: "Processing",
    103: "Early Hints",
    200: "OK",
    201: "Created",
    202: "Accepted",
    203: "Non Authoritative Information",
    204: "No Content",
    205: "Reset Content",
    206: "Partial Content",
    207: "Multi Status",
    208: "Already Reported",
    226: "IM Used",
    300: "Multiple Choices",
    301: "Moved Permanently",
    302: "Found",
    303: "See Other",
    304: "Not Modified",
    305: "Use Proxy",
    306: "Switch Proxy",
    307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request",
    401: "Unauthorized",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    409: "Conflict",
    410: "Gone",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Request Entity Too Large",
    414: "Request URI Too Long",
    415: "Unsupported Media Type",
    416: "Requested Range Not Satisfiable",
    417: "Expectation Failed",
    418: "I'm a teapot",
    421: "Misdirected Request",
    422: "Unprocessable Entity",
    423: "Locked",
    424: "Failed Dependency",
    425: "Too Early",
    426: "Upgrade Required",
    428: "Precondition Required",
    429: "Too Many Requests",
    431: "Request Header Fields Too Large",
    449: "Retry With",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates",
    507: "Insufficient Storage",
    508: "Loop Detected",
    510: "Not Extended",
    511: "Network Authentication Failed",
}

# Precomputed "200 OK"-style status lines: built once, looked up per response.
_STATUS_LINES: dict[int, str] = {
    code: f"{code} {phrase.upper()}" for code, phrase in HTTP_STATUS_CODES.items()
}


def reason_phrase(code: int) -> str:
    """Return the reason phrase for ``code``, or ``"UNKNOWN"``."""
    return HTTP_STATUS_CODES.get(code, "UNKNOWN")


def status_line(code: int) -> str:
    """Return the WSGI status string for ``code``, e.g. ``"404 NOT FOUND"``.

    Raise ValueError for codes outside 100-999.
    """
    line = _STATUS_LINES.get(code)
    if line is not None:
        return line
    if not 100 <= code <= 999:
        raise ValueError(f"Status code {code!r} is out of range 100-999.")
    return f"{code} UNKNOWN"


def parse_status(status: str | int) -> tuple[int, str]:
    """Split a status given as an int or as ``"201 CREATED"`` into (code, line).

    A bare number string (``"201"``) gets the standard phrase. Raise ValueError
    when the status has no valid leading integer.
    """
    if isinstance(status, int):
        return status, status_line(status)
    text = status.strip()
    head, _, tail = text.partition(" ")
    if not (head.isascii() and head.isdigit()):
        raise ValueError(f"Invalid status {status!r}: it must start with a number.")
    if not (tail.isascii() and tail.isprintable()):
        # The reason phrase is written into the status line: no CR/LF, no control characters.
        raise ValueError(f"Invalid status {status!r}: the reason phrase must be printable ASCII.")
    code = int(head)
    if not 100 <= code <= 999:
        raise ValueError(f"Status code {code!r} is out of range 100-999.")
    if not tail:
        return code, status_line(code)
    return code, f"{code} {tail.upper()}"
