"""The ``kettle`` command (its subcommands come with the CLI work)."""

from __future__ import annotations

import platform

import click


def _version_text() -> str:
    from kettle import __version__

    return f"Python {platform.python_version()}\nKettle {__version__}\nClick {click.__version__}"


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(_version_text())
    ctx.exit()


@click.group(help="Manage a Kettle application.")
@click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_print_version,
    help="Show the Kettle version.",
)
def cli() -> None:
    """The root command group."""


def main() -> None:
    """Run the ``kettle`` command."""
    cli(prog_name="kettle")
