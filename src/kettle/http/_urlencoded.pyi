"""The optional C parse of ``kettle.http.urls.query_multidict`` (``_urlencoded.c``)."""

def fill_multidict(result: object, data: bytes, max_fields: int, /) -> dict[str, list[str]] | None:
    """Fill ``result`` with each key's first value; return the lists of the keys that repeat."""
