"""Blueprints: groups of routes, hooks and handlers registered on an app later.

Theory of operation: a ``Blueprint`` records what it is asked to do as
deferred functions, each taking a ``BlueprintSetupState``. ``register`` (run
by ``app.register_blueprint``) replays them against the app with the
blueprint's name, URL prefix, subdomain and URL defaults, then merges the
blueprint's registries (hooks, error handlers, processors) into the app's
dicts under the blueprint's dotted name, and registers nested blueprints with
the combined prefix. Nothing of this runs per request: the pipeline only
looks up ``request.blueprints`` in the app's dicts.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from kettle.scaffold import Scaffold, _endpoint_from_view_func, setupmethod

if TYPE_CHECKING:
    from kettle.app import Kettle

F = TypeVar("F", bound=Callable[..., Any])
DeferredSetupFunction = Callable[["BlueprintSetupState"], None]

_sentinel: Any = object()


class BlueprintSetupState:
    """The blueprint, the app and the options of one registration, for deferred functions."""

    def __init__(
        self, blueprint: Blueprint, app: Kettle, options: dict[str, Any], first_registration: bool
    ) -> None:
        self.app = app
        self.blueprint = blueprint
        self.options = options
        #: False when the same blueprint was registered on this app before.
        self.first_registration = first_registration
        subdomain = options.get("subdomain")
        self.subdomain: str | None = blueprint.subdomain if subdomain is None else subdomain
        url_prefix = options.get("url_prefix")
        self.url_prefix: str | None = blueprint.url_prefix if url_prefix is None else url_prefix
        self.name: str = options.get("name", blueprint.name)
        self.name_prefix: str = options.get("name_prefix", "")
        self.url_defaults: dict[str, Any] = dict(blueprint.url_values_defaults)
        self.url_defaults.update(options.get("url_defaults", ()))

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        **options: Any,
    ) -> None:
        """Register a rule on the app, prefixed with the blueprint's URL prefix and name."""
        if self.url_prefix is not None:
            if rule:
                rule = "/".join((self.url_prefix.rstrip("/"), rule.lstrip("/")))
            else:
                rule = self.url_prefix
        options.setdefault("subdomain", self.subdomain)
        if endpoint is None:
            endpoint = _endpoint_from_view_func(view_func)  # type: ignore[arg-type]
        defaults = self.url_defaults
        if "defaults" in options:
            defaults = dict(defaults, **options.pop("defaults"))
        self.app.add_url_rule(
            rule,
            f"{self.name_prefix}.{self.name}.{endpoint}".lstrip("."),
            view_func,
            defaults=defaults,  # As Flask: a dict, empty when none ({}: rule.defaults is not None).
            **options,
        )


def _add_template_callable(app: Kettle, kind: str, f: Callable[..., Any], name: str | None) -> None:
    """Register a template filter/test/global on the app, whichever way it offers.

    The templating module owns ``app.jinja_env``; until the app exposes
    ``add_template_<kind>`` the callable is kept in ``app.extensions`` for it.
    """
    adder = getattr(app, f"add_template_{kind}", None)
    if adder is not None:
        adder(f, name=name)
        return
    pending = app.extensions.setdefault("kettle.template_callables", [])
    pending.append((kind, name or f.__name__, f))


class Blueprint(Scaffold):
    """A set of routes and hooks to register on an app: ``Blueprint("admin", __name__)``."""

    _got_registered_once = False

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | os.PathLike[str] | None = None,
        static_url_path: str | None = None,
        template_folder: str | os.PathLike[str] | None = None,
        url_prefix: str | None = None,
        subdomain: str | None = None,
        url_defaults: dict[str, Any] | None = None,
        root_path: str | None = None,
        cli_group: str | None = _sentinel,
    ) -> None:
        super().__init__(import_name, static_folder, static_url_path, template_folder, root_path)
        if not name:
            raise ValueError("'name' may not be empty.")
        if "." in name:
            raise ValueError("'name' may not contain a dot '.' character.")
        self.name = name
        self.url_prefix = url_prefix
        self.subdomain = subdomain
        self.deferred_functions: list[DeferredSetupFunction] = []
        self.url_values_defaults: dict[str, Any] = url_defaults or {}
        self.cli_group = cli_group
        self._blueprints: list[tuple[Blueprint, dict[str, Any]]] = []
        self._cli: click.Group | None = None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @property
    def cli(self) -> click.Group:
        """The click group of this blueprint's commands, added to the app's CLI on registration."""
        if self._cli is None:
            from kettle import cli as cli_module

            # The CLI module may define AppGroup (commands in an app context).
            group_class = getattr(cli_module, "AppGroup", click.Group)
            self._cli = cast(click.Group, group_class(self.name))
        return self._cli

    # -- deferred registration ---------------------------------------------
    def _check_setup_finished(self, f_name: str) -> None:
        if self._got_registered_once:
            raise AssertionError(
                f"The setup method '{f_name}' can no longer be called on the blueprint"
                f" '{self.name}'. It has already been registered at least once, any changes"
                " will not be applied consistently.\nMake sure all imports, decorators,"
                " functions, etc. needed to set up the blueprint are done before registering"
                " it."
            )

    def record(self, func: DeferredSetupFunction) -> None:
        """Run ``func(state)`` each time the blueprint is registered on an app."""
        self._check_setup_finished("record")
        self.deferred_functions.append(func)

    def record_once(self, func: DeferredSetupFunction) -> None:
        """Like ``record``, but only on the blueprint's first registration on an app."""

        def wrapper(state: BlueprintSetupState) -> None:
            if state.first_registration:
                func(state)

        self.record(wrapper)

    def make_setup_state(
        self, app: Kettle, options: dict[str, Any], first_registration: bool = False
    ) -> BlueprintSetupState:
        """Return the state object passed to deferred functions."""
        return BlueprintSetupState(self, app, options, first_registration)

    @setupmethod
    def register_blueprint(self, blueprint: Blueprint, **options: Any) -> None:
        """Nest ``blueprint`` in this one; its names and URL prefix are combined with ours."""
        if blueprint is self:
            raise ValueError("Cannot register a blueprint on itself")
        self._blueprints.append((blueprint, options))

    def register(self, app: Kettle, options: dict[str, Any]) -> None:
        """Register this blueprint on ``app`` (called by ``app.register_blueprint``)."""
        name_prefix = options.get("name_prefix", "")
        self_name = options.get("name", self.name)
        if "." in self_name:
            raise ValueError("'name' may not contain a dot '.' character.")
        name = f"{name_prefix}.{self_name}".lstrip(".")
        if name in app.blueprints:
            which = "this" if app.blueprints[name] is self else "a different"
            existing_at = f" '{name}'" if self_name != name else ""
            raise ValueError(
                f"The name '{self_name}' is already registered for {which} blueprint"
                f"{existing_at}. Use 'name=' to provide a unique name."
            )
        first_bp_registration = not any(bp is self for bp in app.blueprints.values())
        first_name_registration = name not in app.blueprints
        app.blueprints[name] = self
        self._got_registered_once = True
        state = self.make_setup_state(app, options, first_bp_registration)
        if self.has_static_folder:
            state.add_url_rule(
                f"{self.static_url_path}/<path:filename>",
                view_func=self.send_static_file,
                endpoint="static",
            )
        if first_bp_registration or first_name_registration:
            self._merge_blueprint_funcs(app, name)
        for deferred in self.deferred_functions:
            deferred(state)
        self._register_cli(app, options.get("cli_group", self.cli_group), name)
        for blueprint, bp_options in self._blueprints:
            blueprint.register(app, self._child_options(state, blueprint, bp_options, name))

    @staticmethod
    def _child_options(
        state: BlueprintSetupState, child: Blueprint, options: dict[str, Any], name: str
    ) -> dict[str, Any]:
        options = dict(options)
        subdomain = options.get("subdomain")
        if subdomain is None:
            subdomain = child.subdomain
        if state.subdomain is not None and subdomain is not None:
            options["subdomain"] = f"{subdomain}.{state.subdomain}"
        elif subdomain is not None or state.subdomain is not None:
            options["subdomain"] = subdomain if subdomain is not None else state.subdomain
        url_prefix = options.get("url_prefix")
        if url_prefix is None:
            url_prefix = child.url_prefix
        if state.url_prefix is not None and url_prefix is not None:
            options["url_prefix"] = f"{state.url_prefix.rstrip('/')}/{url_prefix.lstrip('/')}"
        elif url_prefix is not None or state.url_prefix is not None:
            options["url_prefix"] = url_prefix if url_prefix is not None else state.url_prefix
        options["name_prefix"] = name
        return options

    def _register_cli(self, app: Kettle, group: Any, name: str) -> None:
        if self._cli is None or not self._cli.commands:
            return
        app_cli = getattr(app, "cli", None)
        if not isinstance(app_cli, click.Group):
            return
        if group is _sentinel:
            self._cli.name = name
            app_cli.add_command(self._cli)
        elif group is None:
            app_cli.commands.update(self._cli.commands)
        else:
            self._cli.name = group
            app_cli.add_command(self._cli)

    def _merge_blueprint_funcs(self, app: Kettle, name: str) -> None:
        def key_of(key: str | None) -> str:
            return name if key is None else f"{name}.{key}"

        for key, spec in self.error_handler_spec.items():
            app.error_handler_spec[key_of(key)] = defaultdict(
                dict, {code: dict(handlers) for code, handlers in spec.items()}
            )
        for endpoint, func in self.view_functions.items():
            # As Flask, ``@bp.endpoint("name")`` serves the app-level endpoint "name";
            # it serves the blueprint's own "<bp>.name" rule too.
            app.view_functions[endpoint] = func
            app.view_functions[key_of(endpoint)] = func
        registries = (
            (app.before_request_funcs, self.before_request_funcs),
            (app.after_request_funcs, self.after_request_funcs),
            (app.teardown_request_funcs, self.teardown_request_funcs),
            (app.url_default_functions, self.url_default_functions),
            (app.url_value_preprocessors, self.url_value_preprocessors),
            (app.template_context_processors, self.template_context_processors),
        )
        for app_dict, bp_dict in registries:
            for key, funcs in bp_dict.items():
                if funcs:
                    app_dict.setdefault(key_of(key), []).extend(funcs)

    # -- routes ---------------------------------------------------------------
    @setupmethod
    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        provide_automatic_options: bool | None = None,
        **options: Any,
    ) -> None:
        """Record a rule to register, as ``<blueprint>.<endpoint>``, on each registration."""
        if endpoint and "." in endpoint:
            raise ValueError("'endpoint' may not contain a dot '.' character.")
        if view_func is not None and "." in getattr(view_func, "__name__", ""):
            raise ValueError("'view_func' name may not contain a dot '.' character.")
        self.record(
            lambda s: s.add_url_rule(
                rule,
                endpoint,
                view_func,
                provide_automatic_options=provide_automatic_options,
                **options,
            )
        )

    # -- registrations on the app -------------------------------------------------
    def before_app_request(self, f: F) -> F:
        """Run ``f`` before every request of the app, not only this blueprint's."""
        self.record_once(lambda s: s.app.before_request_funcs.setdefault(None, []).append(f))
        return f

    def after_app_request(self, f: F) -> F:
        """Run ``f(response)`` after every request of the app."""
        self.record_once(lambda s: s.app.after_request_funcs.setdefault(None, []).append(f))
        return f

    def teardown_app_request(self, f: F) -> F:
        """Run ``f(exc)`` when any request of the app is torn down."""
        self.record_once(lambda s: s.app.teardown_request_funcs.setdefault(None, []).append(f))
        return f

    def app_context_processor(self, f: F) -> F:
        """Register a template context processor for the whole app."""
        self.record_once(lambda s: s.app.template_context_processors.setdefault(None, []).append(f))
        return f

    def app_errorhandler(self, code: type[Exception] | int) -> Callable[[F], F]:
        """Register an error handler for the whole app, not only this blueprint."""

        def decorator(f: F) -> F:
            self.record_once(lambda s: s.app.register_error_handler(code, f))
            return f

        return decorator

    def app_url_value_preprocessor(self, f: F) -> F:
        """Register a URL value preprocessor for the whole app."""
        self.record_once(lambda s: s.app.url_value_preprocessors.setdefault(None, []).append(f))
        return f

    def app_url_defaults(self, f: F) -> F:
        """Register a URL defaults function for the whole app."""
        self.record_once(lambda s: s.app.url_default_functions.setdefault(None, []).append(f))
        return f

    def app_template_filter(self, name: str | None = None) -> Callable[[F], F]:
        """Register a template filter for the whole app: ``@bp.app_template_filter()``."""

        def decorator(f: F) -> F:
            self.add_app_template_filter(f, name=name)
            return f

        return decorator

    def add_app_template_filter(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register ``f`` as a template filter of the app (non-decorator form)."""
        self.record_once(lambda s: _add_template_callable(s.app, "filter", f, name))

    def app_template_test(self, name: str | None = None) -> Callable[[F], F]:
        """Register a template test for the whole app: ``@bp.app_template_test()``."""

        def decorator(f: F) -> F:
            self.add_app_template_test(f, name=name)
            return f

        return decorator

    def add_app_template_test(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register ``f`` as a template test of the app (non-decorator form)."""
        self.record_once(lambda s: _add_template_callable(s.app, "test", f, name))

    def app_template_global(self, name: str | None = None) -> Callable[[F], F]:
        """Register a template global for the whole app: ``@bp.app_template_global()``."""

        def decorator(f: F) -> F:
            self.add_app_template_global(f, name=name)
            return f

        return decorator

    def add_app_template_global(self, f: Callable[..., Any], name: str | None = None) -> None:
        """Register ``f`` as a template global of the app (non-decorator form)."""
        self.record_once(lambda s: _add_template_callable(s.app, "global", f, name))
