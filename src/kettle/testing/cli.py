"""The CLI test runner: invoke the app's ``kettle`` commands without a shell."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from click.testing import CliRunner, Result

from kettle.cli import ScriptInfo

if TYPE_CHECKING:
    from kettle.app import Kettle


class KettleCliRunner(CliRunner):
    """A click ``CliRunner`` whose ``invoke`` runs ``app.cli`` with the app already loaded."""

    def __init__(self, app: Kettle, **kwargs: Any) -> None:
        self.app = app
        super().__init__(**kwargs)

    def invoke(self, cli: Any = None, args: Any = None, **kwargs: Any) -> Result:  # type: ignore[override]
        """Invoke ``cli`` (``app.cli`` by default) with ``args`` in an isolated environment."""
        if cli is None:
            cli = self.app.cli
        if "obj" not in kwargs:
            kwargs["obj"] = ScriptInfo(create_app=lambda: self.app, set_debug_flag=False)
        return super().invoke(cli, args, **kwargs)
