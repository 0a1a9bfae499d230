"""`monitor sources list|test`."""

from __future__ import annotations

import json

import click

from ..errors import SourceError
from ..jsonl import post_to_object
from ..logging import scrub
from ..pipeline import build_source
from ..sources import preview
from ..text.escape import strip_controls
from .common import CliError, common_options, get_config, open_app, table


@click.group("sources")
def sources_group() -> None:
    """List the configured sources or try one."""


@sources_group.command("list")
@common_options
def list_sources() -> None:
    """List configured sources with their type, schedule and state."""
    from ..sources.base import SOURCES

    config = get_config()
    rows = []
    for entry in config.settings.sources:
        missing = config.missing_env(entry)
        state = "disabled" if not entry.enabled else (f"needs {', '.join(missing)}" if missing else "active")
        schedule = str(entry.schedule) if entry.schedule else f"{SOURCES.get(entry.type).default_schedule} (default)"
        rows.append([entry.name, entry.type, schedule, state])
    click.echo(table(rows, ["name", "type", "schedule", "state"]) if rows else "no sources configured")


@sources_group.command("test")
@click.argument("name")
@click.option("--limit", default=20, show_default=True, help="Print at most this many posts.")
@click.option("--from-cursor", is_flag=True, help="Start from the stored cursor instead of from scratch.")
@click.option("--json", "as_json", is_flag=True, help="Print posts as post JSONL.")
@common_options
def test_source(name: str, limit: int, from_cursor: bool, as_json: bool) -> None:
    """Fetch once from source NAME and print what would be stored. Stores nothing.

    Example: monitor sources test okx-google-play --limit 5
    """
    app = open_app()
    entry = next((e for e in app.config.settings.sources if e.name == name), None)
    if entry is None:
        known = ", ".join(e.name for e in app.config.settings.sources) or "none"
        raise CliError(f"no source named {name!r} in the config (configured: {known})")
    source = build_source(app, entry)
    cursor = app.store.get_cursor(name) if from_cursor else {}
    try:
        result = preview(source, cursor, limit=limit)
    except SourceError as exc:
        raise CliError(_plain(f"{name}: {type(exc).__name__}: {exc}")) from None
    for note in result.notes:
        click.echo(f"note: {_plain(note)}", err=True)
    for post in result.posts:
        if as_json:
            click.echo(json.dumps(post_to_object(post), ensure_ascii=False))
            continue
        stars = "*" * post.rating if post.rating else ""
        click.echo(_plain(f"{post.created_at:%Y-%m-%d %H:%M}Z {post.key} {stars} {post.author or ''}"))
        body = _plain(f"{post.title + ': ' if post.title else ''}{post.text}")
        click.echo(f"    {body[:200]}")
    more = " (more available)" if result.truncated else ""
    click.echo(f"{len(result.posts)} post(s) fetched{more}; nothing was stored", err=True)


def _plain(text: str) -> str:
    """Text from the internet (ids, names, posts, server answers) for a terminal: one line, no
    control characters, so a post cannot inject escape sequences; secrets masked."""
    return " ".join(scrub(strip_controls(text)).split())


COMMANDS = [sources_group]
