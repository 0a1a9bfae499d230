"""What every command shares: --config/--db, loading the app, errors and output helpers."""

from __future__ import annotations

import functools
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo

import click

from ..config import DEFAULT_CONFIG, AppConfig, load_config
from ..errors import ConfigError, LockedError, MonitorError

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class CliError(click.ClickException):
    def __init__(self, message: str, exit_code: int = EXIT_FAILURE) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    def show(self, file: Any = None) -> None:
        from ..logging import scrub  # messages may quote a failing URL that holds a ${VAR} secret

        click.echo(f"error: {scrub(self.format_message())}", err=True)


CONFIG_HELP = f"Config file (default: ./{DEFAULT_CONFIG}; built-in defaults when it does not exist)."
DB_HELP = "Database file (overrides storage.path from the config)."
UNUSED_HELP = "Accepted as on every command; this one reads no config or database."


def common_options(func: Callable | None = None, *, config_help: str = CONFIG_HELP,
                   db_help: str = DB_HELP) -> Callable:
    """Add --config and --db to a command (they may also be given before the verb).

    Every command takes both, so a script can pass them to any verb; a command that stands alone
    (a schema, an evaluation on public data) says in its help that it does not use them."""
    if func is None:
        return functools.partial(common_options, config_help=config_help, db_help=db_help)

    @click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help=config_help)
    @click.option("--db", "db_path", type=click.Path(dir_okay=False), default=None, help=db_help)
    @functools.wraps(func)
    def wrapper(*args: Any, config_path: str | None, db_path: str | None, **kwargs: Any) -> Any:
        ctx = click.get_current_context()
        root = ctx.find_root().params
        ctx.meta["monitor.config"] = config_path or root.get("config_path")
        ctx.meta["monitor.db"] = db_path or root.get("db_path")
        try:
            return func(*args, **kwargs)
        except ConfigError as exc:
            raise CliError(f"invalid configuration:\n{exc}", EXIT_BAD_INPUT) from None
        except LockedError as exc:
            raise CliError(str(exc)) from None
        except MonitorError as exc:
            raise CliError(str(exc)) from None

    return wrapper


def get_config() -> AppConfig:
    ctx = click.get_current_context()
    path = ctx.meta.get("monitor.config")
    return load_config(path or DEFAULT_CONFIG, explicit=path is not None)


def get_db_path(config: AppConfig) -> Path:
    override = click.get_current_context().meta.get("monitor.db")
    return Path(override) if override else config.db_path


def open_app(clock: Any = None, detectors: Any = None):
    from ..app import App

    config = get_config()
    return App(config, db_path=get_db_path(config), clock=clock, detectors=detectors)


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))


def local_time(dt: datetime | None, tz: ZoneInfo) -> str:
    if dt is None:
        return "-"
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z")


def parse_since(value: str | None, now: datetime) -> datetime | None:
    """`--since 7d` (a duration back from now), an ISO 8601 time, or a date (from its midnight, UTC)."""
    if not value:
        return None
    from ..config.types import parse_duration
    from ..jsonl import BadLine, parse_time

    try:
        return now - parse_duration(value)
    except ValueError:
        pass
    text = value + "T00:00" if len(value) == 10 else value  # a date alone: from its midnight (UTC)
    try:
        return parse_time(text if ("+" in text[10:] or text.endswith("Z")) else text + "Z")
    except BadLine:
        raise click.BadParameter(f"{value!r} is neither a duration (7d, 12h) nor an ISO 8601 date or time") from None


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(str(x)) for x in col) for col in zip(headers, *rows)] if rows else [len(h) for h in headers]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths))]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def stderr_is_tty() -> bool:
    return sys.stderr.isatty()
