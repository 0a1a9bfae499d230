"""The `monitor` command line. Each verb group lives in its own module here."""

from __future__ import annotations

import click

from .. import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="monitor")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, hidden=True)
@click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None, hidden=True)
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Verbosity of the log on stderr.")
def cli(config_path: str | None, db_path: str | None, log_level: str) -> None:
    """Feedback monitor: hear users complain in public before they file a ticket.

    Collect posts from X, app stores and forums, score their sentiment and category, detect
    incidents and page the right people. Every command takes --config PATH (default
    ./config.yaml) and --db PATH.
    """
    from ..logging import setup_logging

    setup_logging(log_level)


def _register() -> None:
    from . import alerts, config_cmd, core, digest, posts, rules, sources
    from .eval import eval_cmd
    from .spikes import spikes

    for module in (core, config_cmd, posts, sources, alerts, digest, rules):
        for command in module.COMMANDS:
            cli.add_command(command)
    cli.add_command(spikes)
    cli.add_command(eval_cmd)


_register()


def main() -> None:
    cli(prog_name="monitor")
