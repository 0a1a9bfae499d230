"""The `monitor` command line. Each verb group lives in its own module here."""

from __future__ import annotations

import click

from .. import __version__


@click.group()
@click.version_option(__version__, prog_name="monitor")
def cli() -> None:
    """Feedback monitor: collect public posts, score them, detect incidents, alert."""


def main() -> None:
    cli()
