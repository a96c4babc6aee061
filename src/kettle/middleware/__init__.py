"""Middleware that wraps ``app.wsgi_app`` or ``app.asgi``."""

from kettle.middleware.proxy_fix import ProxyFix as ProxyFix

__all__ = ["ProxyFix"]
