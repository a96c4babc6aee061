"""The ASGI entry point: ``uvicorn asgi:app`` (Kettle's ``app.asgi``; the rest is Flask code)."""

from app import create_app

app = create_app().asgi
