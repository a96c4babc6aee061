"""The edges: WSGI and ASGI. The only code in Kettle that does I/O."""
