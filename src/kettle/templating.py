"""Templates: the app's Jinja2 environment, ``render_template`` and ``stream_template``.

``app.jinja_env`` is built on first use. Its loader looks in the app's
``templates`` folder, then in each blueprint's, in registration order (as
Flask). ``.html``, ``.htm``, ``.xml``, ``.xhtml`` and ``.svg`` templates are
autoescaped. The environment's globals are ``config``, ``url_for``,
``get_flashed_messages`` and the ``request``, ``session`` and ``g`` proxies
(so an imported macro sees them too, as in Flask); each render's context
gets the current ``request``, ``session`` and ``g`` from the default context
processor (first in ``app.template_context_processors[None]``, as Flask's),
then the other context processors of the app and of the blueprints of the
current request.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from jinja2 import (
    BaseLoader,
    FileSystemLoader,
    Template,
    TemplateNotFound,
)
from jinja2 import (
    Environment as _BaseEnvironment,
)

from kettle.ctx import _cv_get
from kettle.globals import g, request, session
from kettle.signals import before_render_template, template_rendered

if TYPE_CHECKING:
    from kettle.app import Kettle

F = TypeVar("F", bound=Callable[..., Any])

_AUTOESCAPE_SUFFIXES = (".html", ".htm", ".xml", ".xhtml", ".svg")


def _default_template_ctx_processor() -> dict[str, Any]:
    """The first context processor of every app: the current ``g``, ``request``, ``session``."""
    ctx = _cv_get(None)
    if ctx is None:
        return {}
    if ctx.request is None:
        return {"g": ctx.g}
    # The session proxy, not the session: it is opened (and marked accessed, so
    # ``Vary: Cookie``) only if the template reads it.
    return {"g": ctx.g, "request": ctx.request, "session": session}


def _scaffold_loader(scaffold: Any) -> BaseLoader | None:
    loader = getattr(scaffold, "jinja_loader", None)
    if isinstance(loader, BaseLoader):
        return loader
    folder = getattr(scaffold, "template_folder", None)
    if folder is None:
        return None
    return FileSystemLoader(os.path.join(scaffold.root_path, folder))


class DispatchingJinjaLoader(BaseLoader):
    """Look a template up in the app's folder, then in each blueprint's."""

    def __init__(self, app: Kettle) -> None:
        self.app = app

    def _sources(self) -> Iterator[tuple[Any, BaseLoader]]:
        """Yield ``(app or blueprint, loader)`` in lookup order."""
        app: Any = self.app
        loader = app.jinja_loader
        if loader is not None:
            yield app, loader
        iterate = getattr(app, "iter_blueprints", None)
        for blueprint in iterate() if iterate is not None else app.blueprints.values():
            loader = _scaffold_loader(blueprint)
            if loader is not None:
                yield blueprint, loader

    def get_source(
        self, environment: _BaseEnvironment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """Return the first folder's source for ``template``."""
        if self.app.config["EXPLAIN_TEMPLATE_LOADING"]:
            return self._explained_source(environment, template)
        for _, loader in self._sources():
            try:
                return loader.get_source(environment, template)
            except TemplateNotFound:
                continue
        raise self._not_found(template)

    def _not_found(self, template: str) -> TemplateNotFound:
        """``TemplateNotFound`` whose message names every folder searched (``.name`` stays)."""
        folders = [
            str(path) for _, loader in self._sources() for path in getattr(loader, "searchpath", ())
        ]
        where = ", ".join(folders) if folders else "no template folder (template_folder=None)"
        return TemplateNotFound(template, f"{template!r} was not found in: {where}")

    def _explained_source(
        self, environment: _BaseEnvironment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        """Ask every loader, log what each answered (EXPLAIN_TEMPLATE_LOADING), use the first."""
        attempts = []
        for owner, loader in self._sources():
            try:
                source = loader.get_source(environment, template)
            except TemplateNotFound:
                source = None
            attempts.append((owner, loader, source))
        _explain_attempts(self.app, template, attempts)
        for _, _, source in attempts:
            if source is not None:
                return source
        raise self._not_found(template)

    def list_templates(self) -> list[str]:
        """Every template name any folder offers."""
        names: set[str] = set()
        for _, loader in self._sources():
            names.update(loader.list_templates())
        return sorted(names)


def _explain_attempts(app: Any, template: str, attempts: list[tuple[Any, BaseLoader, Any]]) -> None:
    """Log, at INFO on ``app.logger``, which loaders were tried for ``template`` and how."""
    lines = [f"Locating template {template!r}:"]
    for number, (owner, loader, source) in enumerate(attempts, 1):
        if owner is app:
            where = f"application {owner.import_name!r}"
        else:
            where = f"blueprint {owner.name!r} ({owner.import_name})"
        lines.append(f"{number:5}: trying loader of {where}")
        lines.append(f"       class: {type(loader).__module__}.{type(loader).__name__}")
        for path in getattr(loader, "searchpath", ()):
            lines.append(f"       searchpath: {path}")
        lines.append("       -> no match" if source is None else f"       -> found ({source[1]!r})")
    found = sum(source is not None for _, _, source in attempts)
    if found == 0:
        lines.append("Error: the template could not be found.")
        ctx = _cv_get(None)
        blueprint = ctx.request.blueprint if ctx is not None and ctx.request is not None else None
        if blueprint is not None:
            lines.append(
                f"  The template was looked up from an endpoint that belongs to the blueprint"
                f" {blueprint!r}.\n  Maybe you did not place a template in the right folder?"
                "\n  See https://flask.palletsprojects.com/blueprints/#templates"
            )
    elif found > 1:
        lines.append("Warning: multiple loaders returned a match for the template.")
    app.logger.info("\n".join(lines))


class Environment(_BaseEnvironment):
    """A Jinja2 environment that knows its app (and loads from its folders)."""

    def __init__(self, app: Kettle, **options: Any) -> None:
        if "loader" not in options:
            options["loader"] = app.create_global_jinja_loader()
        super().__init__(**options)
        self.app = app


class TemplatingMixin:
    """The template side of ``Kettle``: ``jinja_env`` and the filter/test/global registries."""

    jinja_environment = Environment
    jinja_options: dict[str, Any] = {}

    @cached_property
    def jinja_env(self) -> Environment:
        """The Jinja2 environment, created on first use."""
        return self.create_jinja_environment()

    @cached_property
    def jinja_loader(self) -> BaseLoader | None:
        """The loader for this app's own template folder, or None."""
        app: Any = self
        if app.template_folder is None:
            return None
        return FileSystemLoader(os.path.join(app.root_path, app.template_folder))

    def create_global_jinja_loader(self) -> DispatchingJinjaLoader:
        """Return the loader that searches the app, then its blueprints."""
        return DispatchingJinjaLoader(self)  # type: ignore[arg-type]

    def select_jinja_autoescape(self, filename: str | None) -> bool:
        """Autoescape strings and .html/.htm/.xml/.xhtml/.svg templates."""
        return filename is None or filename.endswith(_AUTOESCAPE_SUFFIXES)

    def create_jinja_environment(self) -> Environment:
        """Build the environment with Flask's globals and the auto-reload setting."""
        from kettle.helpers import get_flashed_messages, url_for

        app: Any = self
        options = dict(self.jinja_options)
        options.setdefault("autoescape", self.select_jinja_autoescape)
        if "auto_reload" not in options:
            reload = app.config["TEMPLATES_AUTO_RELOAD"]
            options["auto_reload"] = app.debug if reload is None else bool(reload)
        env = self.jinja_environment(app, **options)
        env.globals.update(
            url_for=url_for,
            get_flashed_messages=get_flashed_messages,
            config=app.config,
            request=request,
            session=session,
            g=g,
        )
        env.policies["json.dumps_function"] = app.json.dumps
        for kind, name, func in app.extensions.pop("kettle.template_callables", ()):
            getattr(env, {"filter": "filters", "test": "tests", "global": "globals"}[kind])[
                name
            ] = func
        return env

    def update_template_context(self, context: dict[str, Any]) -> None:
        """Add the context processors' values (request, session, g first; user values win)."""
        app: Any = self
        ctx = _cv_get(None)
        names: Iterable[str | None] = (None,)
        if ctx is not None and ctx.request is not None:
            names = (None, *reversed(ctx.request.blueprints))
        original = context.copy()
        processors = app.template_context_processors
        for name in names:
            for func in processors.get(name, ()):
                context.update(app.ensure_sync(func)())
        context.update(original)

    def add_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register a Jinja filter (``name`` defaults to the function's)."""
        self.jinja_env.filters[name or f.__name__] = f

    def add_template_test(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register a Jinja test."""
        self.jinja_env.tests[name or f.__name__] = f

    def add_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register a Jinja global."""
        self.jinja_env.globals[name or f.__name__] = f

    def template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Decorate a function to register it as a Jinja filter."""

        def decorator(f: F) -> F:
            self.add_template_filter(f, name=name)
            return f

        return decorator

    def template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Decorate a function to register it as a Jinja test."""

        def decorator(f: F) -> F:
            self.add_template_test(f, name=name)
            return f

        return decorator

    def template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Decorate a function to register it as a Jinja global."""

        def decorator(f: F) -> F:
            self.add_template_global(f, name=name)
            return f

        return decorator


def _app() -> Any:
    ctx = _cv_get(None)
    if ctx is None:
        raise RuntimeError(
            "Rendering a template needs an application context: use it in a view or inside"
            " 'with app.app_context():'."
        )
    return ctx.app


def _render(app: Any, template: Template, context: dict[str, Any]) -> str:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    rv = template.render(context)
    if template_rendered.receivers:
        template_rendered.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )
    return rv


def render_template(
    template_name_or_list: str | Template | list[str | Template], **context: Any
) -> str:
    """Render a template from the template folders with ``context``."""
    app = _app()
    template = app.jinja_env.get_or_select_template(template_name_or_list)
    return _render(app, template, context)


def get_template_attribute(template_name: str, attribute: str) -> Any:
    """Return a macro or variable a template exports: ``get_template_attribute("m.html", "f")``."""
    return getattr(_app().jinja_env.get_template(template_name).module, attribute)


def render_template_string(source: str, **context: Any) -> str:
    """Render a template given as a string (autoescaped)."""
    app = _app()
    return _render(app, app.jinja_env.from_string(source), context)


def _stream(app: Any, template: Template, context: dict[str, Any]) -> Iterator[str]:
    app.update_template_context(context)
    if before_render_template.receivers:
        before_render_template.send(
            app, _async_wrapper=app.ensure_sync, template=template, context=context
        )

    def generate() -> Iterator[str]:
        yield from template.generate(context)
        if template_rendered.receivers:
            template_rendered.send(
                app, _async_wrapper=app.ensure_sync, template=template, context=context
            )

    ctx = _cv_get(None)
    if ctx is not None and ctx.request is not None:
        from kettle.streaming import stream_with_context

        return stream_with_context(generate())  # type: ignore[no-any-return]
    return generate()


def stream_template(
    template_name_or_list: str | Template | list[str | Template], **context: Any
) -> Iterator[str]:
    """Render a template piece by piece, for a streamed response (keeps the request context)."""
    app = _app()
    return _stream(app, app.jinja_env.get_or_select_template(template_name_or_list), context)


def stream_template_string(source: str, **context: Any) -> Iterator[str]:
    """Stream a template given as a string."""
    app = _app()
    return _stream(app, app.jinja_env.from_string(source), context)
