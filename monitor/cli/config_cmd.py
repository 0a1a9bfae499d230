"""`monitor config check|show`."""

from __future__ import annotations

import click
import yaml

from .common import common_options, get_config, get_db_path


@click.group("config")
def config_group() -> None:
    """Validate or print the configuration."""


@config_group.command("check")
@common_options
def check() -> None:
    """Validate the config (every source's and channel's options, and the rule files) without running anything.

    Example: monitor config check --config config.yaml
    """
    config = get_config()
    from ..detect.rules.loader import load_ruleset

    ruleset = load_ruleset(config)  # the daemon refuses a config whose rules do not load: say so here
    where = config.file or "built-in defaults (no config file)"
    s = config.settings
    click.echo(f"ok: {where}")
    click.echo(f"  database: {get_db_path(config)}")
    click.echo(f"  timezone: {s.timezone}")
    click.echo(f"  sources: {len(s.sources)} ({len(config.active_sources())} active)")
    for entry in s.sources:
        missing = config.missing_env(entry)
        state = "disabled" if not entry.enabled else (f"skipped: {', '.join(missing)} not set" if missing else "active")
        click.echo(f"    - {entry.name} ({entry.type}): {state}")
    click.echo(f"  channels: {len(s.channels)}; routes: {len(s.routes)}; digests: {len(s.digests)}")
    click.echo(f"  rule paths: {', '.join(s.rules.paths) or '-'}")
    click.echo(f"  rules: {len(ruleset)} ({len(ruleset.active)} enabled) in {len(ruleset.files)} file(s)")


@config_group.command("show")
@common_options
def show() -> None:
    """Print the config as loaded, with values from environment variables masked."""
    config = get_config()
    click.echo(yaml.safe_dump(config.masked(), sort_keys=False, allow_unicode=True).rstrip())


COMMANDS = [config_group]
