"""The main verbs: init, run, replay, score, status."""

from __future__ import annotations

import json
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from ..clock import ManualClock
from ..config.types import parse_schedule
from .common import (EXIT_BAD_INPUT, EXIT_FAILURE, CliError, common_options, echo_json, get_config, local_time,
                     open_app, table)


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--force", is_flag=True, help="Overwrite an existing config.yaml.")
@common_options(config_help="Write the config to this file instead of DIRECTORY/config.yaml (rules/ and storage/ "
                            "go beside it).",
                db_help="Database file to write as storage.path in the new config (default: storage/monitor.db "
                        "beside the config).")
def init(directory: str | None, force: bool) -> None:
    """Create a commented config.yaml plus rules/ and storage/ in DIRECTORY (default: here).

    Example: monitor init my-monitor && cd my-monitor && monitor run
    """
    meta = click.get_current_context().meta
    if meta.get("monitor.config"):
        config_file = Path(meta["monitor.config"])
        target = config_file.parent
        if directory is not None and Path(directory).resolve() != target.resolve():
            raise CliError(f"--config {config_file} is not in {directory}: give one or the other", EXIT_BAD_INPUT)
    else:
        target = Path(directory or ".")
        config_file = target / "config.yaml"
    target.mkdir(parents=True, exist_ok=True)
    if config_file.exists() and not force:
        raise CliError(f"{config_file} already exists (use --force to overwrite it)")
    from ..config import example_config_text

    text = example_config_text()
    if meta.get("monitor.db"):  # absolute: --db is relative to here, storage.path to the config's folder
        db = json.dumps(str(Path(meta["monitor.db"]).resolve()))  # a quoted YAML string
        text = re.sub(r"^(storage:\n  path:) \S+", lambda m: f"{m.group(1)} {db}", text, count=1, flags=re.M)
    config_file.write_text(text, "utf-8")
    rules_dir = target / "rules"
    rules_dir.mkdir(exist_ok=True)
    copied = kept = 0
    packs = builtin_rule_files()
    for pack in packs:
        dest = rules_dir / pack.name
        if not dest.exists() or force:
            dest.write_text(pack.read_text("utf-8"), "utf-8")
            copied += 1
        else:  # an edited pack is the user's: never overwritten without --force
            kept += 1
    schema = packs[0].with_name("schema.json") if packs else None
    if schema is not None and schema.exists():  # lets editors check the copied rule files
        (rules_dir / "schema.json").write_text(schema.read_text("utf-8"), "utf-8")
    (target / "storage").mkdir(exist_ok=True)
    written = f"{copied} rule pack(s)" + (f" (kept the {kept} already there)" if kept else "")
    click.echo(f"wrote {config_file}, {written} in {rules_dir}/ and {target / 'storage'}/")
    click.echo("next: monitor config check, then monitor run (or monitor run --once)")


def builtin_rule_files() -> list[Path]:
    from ..paths import builtin_rules_dir

    root = builtin_rules_dir()
    return sorted(root.glob("*.y*ml")) if root else []


@click.command("run")
@click.option("--once", is_flag=True,
              help="Run every collector once, then enrichment, detection and delivery, and exit "
                   "(non-zero if any source failed).")
@common_options
def run(once: bool) -> None:
    """Run the monitor: collect, enrich, detect and alert on the configured schedules.

    Example: monitor run --config config.yaml
    """
    app = open_app()
    if not once:
        from ..daemon import Daemon

        if not app.config.active_sources():
            click.echo("note: no active sources are configured (see `monitor init`); "
                       "the daemon will only process what other commands store", err=True)
        Daemon(app).run()
        return
    from ..pipeline import Pipeline

    with app.store.writer_lock():
        results = Pipeline(app).run_once()
    failed = [r for r in results if not r.ok]
    for r in results:
        status = "ok" if r.ok else "FAILED"
        click.echo(f"{r.source}: {status}: {r.ingest.inserted} new, {r.ingest.edited} edited, "
                   f"{r.ingest.unchanged} unchanged ({r.seconds:.1f}s)" + (f"\n  {r.error}" if r.error else ""))
    if not results:
        click.echo("no active sources are configured")
    if failed:
        raise CliError(f"{len(failed)} of {len(results)} source(s) failed: {', '.join(r.source for r in failed)}",
                       EXIT_FAILURE)


@click.command("replay")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--chunk-size", default=2000, show_default=True, help="Posts per stored and processed chunk.")
@click.option("--until", "until_text", default=None,
              help="Keep the clock running after the last post: a duration (2h) or an ISO 8601 time, so "
                   "later windows close and quiet incidents resolve.")
@common_options
def replay_cmd(file: str, chunk_size: int, until_text: str | None) -> None:
    """Replay a JSONL file of posts through the whole pipeline in event time.

    Each line needs source, id, created_at (ISO 8601 with a timezone) and text. Rejected lines
    are reported with their line number; the exit code is 2 when any were rejected.

    Example: monitor replay history.jsonl --db /tmp/test.db
    """
    from ..replay import ReplaySummary, replay

    app = open_app(clock=ManualClock())
    until = _parse_until(until_text)

    def progress(s: ReplaySummary) -> None:
        click.echo(f"replay: {s.lines:,} lines, {s.ingest.inserted:,} new posts, {s.findings:,} findings "
                   f"({s.posts_per_second:,.0f} lines/s)", err=True)

    try:
        stream = sys.stdin if file == "-" else open(file, encoding="utf-8", errors="replace")
    except OSError as exc:
        raise CliError(f"cannot read {file}: {exc.strerror}") from None
    with stream, app.store.writer_lock():
        summary = replay(app, stream, chunk_size=chunk_size, progress=progress, until=until)
    for r in summary.rejected[:50]:
        click.echo(f"{file}:{r.line}: rejected: {r.reason}", err=True)
    if len(summary.rejected) > 50:
        click.echo(f"... and {len(summary.rejected) - 50} more rejected lines", err=True)
    i = summary.ingest
    click.echo(f"posts stored: {i.inserted} new, {i.edited} edited; duplicates: {i.unchanged + i.refreshed + i.duplicates}; "
               f"rejected lines: {len(summary.rejected)}")
    click.echo(f"findings: {summary.findings}; incidents opened: {summary.incidents_opened}, "
               f"resolved: {summary.incidents_resolved}; notifications: {summary.notifications}")
    click.echo(f"{summary.lines:,} lines in {summary.seconds:.1f}s ({summary.posts_per_second:,.0f} lines/s)")
    if summary.rejected:
        sys.exit(EXIT_BAD_INPUT)


def _parse_until(text: str | None):
    if not text:
        return None
    from ..config.types import parse_duration
    from ..jsonl import BadLine, parse_time

    try:
        return parse_duration(text)
    except ValueError:
        pass
    try:
        return parse_time(text)
    except BadLine as exc:
        raise click.BadParameter(f"{text!r} is neither a duration (2h) nor an ISO 8601 time with a timezone "
                                 f"({exc})", param_hint="--until") from None


@click.command("score")
@click.option("--text", "text_mode", is_flag=True, help="Input is plain text, one post per line.")
@click.option("--batch-size", default=512, show_default=True, help="Lines scored together.")
@click.option("--no-rules", is_flag=True, help="Skip rule matching (faster; `rules` is always []).")
@common_options
def score(text_mode: bool, batch_size: int, no_rules: bool) -> None:
    """Score posts from stdin: one JSON object per input line on stdout, in order.

    Input is post JSONL (or plain text with --text). Output:
    {"id", "lang", "sentiment": {"label", "score"}, "categories", "security", "rules"}.
    Unparsable lines produce {"id", "line", "error"} and the exit code 2.

    Example: monitor score --text < reviews.txt
    """
    from ..score import score_stream

    config = get_config()
    from ..enrich import build_enricher

    enricher = build_enricher(config.settings.enrichment, base_dir=config.base_dir)
    match_rules = None
    if not no_rules:
        from ..detect.rules import load_match_function

        match_rules = load_match_function(config)
    stdin = sys.stdin
    try:  # undecodable bytes become U+FFFD instead of stopping the stream
        stdin.reconfigure(encoding="utf-8", errors="replace")
    except (AttributeError, ValueError, OSError):
        pass
    stats = score_stream(stdin, sys.stdout, enricher.enrich, match_rules, text_mode=text_mode, batch_size=batch_size)
    sys.stdout.flush()
    if stats.errors:
        click.echo(f"{stats.errors} of {stats.lines} lines could not be scored", err=True)
        sys.exit(EXIT_BAD_INPUT)


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@common_options
def status(as_json: bool) -> None:
    """Show source health, post counts, open incidents and the notification queue.

    Example: monitor status --json
    """
    from ..models import IncidentState

    app = open_app()
    store = app.store
    now = app.clock.now()
    config = app.config
    health = {h.source: h for h in store.source_health()}
    sources = []
    names = [e.name for e in config.settings.sources] + [n for n in health if n not in
                                                         {e.name for e in config.settings.sources}]
    entries = {e.name: e for e in config.settings.sources}
    for name in names:
        h, entry = health.get(name), entries.get(name)
        expected = _expected_period(config, entry) if entry is not None else None
        last_activity = h.last_new_post_at if h else None
        silent_since = h.silent_since if h else None
        stale = bool(expected and silent_since and now - silent_since > expected)
        state = "configured" if h is None else ("failing" if h.consecutive_failures else "ok")
        if entry is not None and not entry.enabled:
            state = "disabled"
        elif entry is not None and config.missing_env(entry):
            state = f"skipped ({', '.join(config.missing_env(entry))} not set)"
        elif entry is None:
            state = "not in config"
        sources.append({
            "name": name, "type": entry.type if entry else (h.source_type if h else None), "state": state,
            "stale": stale, "last_run": _iso(h.last_run_at if h else None),
            "last_success": _iso(h.last_success_at if h else None),
            "posts_last_run": h.posts_last_run if h else 0, "posts_total": h.posts_total if h else 0,
            "last_new_post": _iso(last_activity), "last_error": h.last_error if h and h.consecutive_failures else None,
            "consecutive_failures": h.consecutive_failures if h else 0, "note": h.note if h else None,
        })
    outbox = store.outbox_counts()
    report = {
        "database": str(app.db_path),
        "posts": store.count_posts(),
        "posts_pending_enrichment": store.pending_enrichment(),
        "findings": store.count_findings(),
        "incidents_open": store.count_incidents(IncidentState.OPEN) + store.count_incidents(IncidentState.ACKNOWLEDGED),
        "notifications_pending": outbox.get("pending", 0),
        "notifications_failed": outbox.get("dead", 0),
        "notifications_sent": outbox.get("sent", 0),
        "warnings": _warnings(store),
        "sources": sources,
    }
    if as_json:
        echo_json(report)
        return
    tz = config.settings.tz
    click.echo(f"database: {report['database']}")
    click.echo(f"posts: {report['posts']:,} ({report['posts_pending_enrichment']:,} awaiting enrichment); "
               f"findings: {report['findings']:,}; open incidents: {report['incidents_open']}")
    click.echo(f"notifications: {report['notifications_pending']} pending, {report['notifications_failed']} failed, "
               f"{report['notifications_sent']} sent")
    for warning in report["warnings"]:
        click.echo(f"warning: {warning}")
    if sources:
        rows = []
        for s, name in zip(sources, names):
            h = health.get(name)
            rows.append([s["name"], s["type"] or "-", s["state"] + (" STALE" if s["stale"] else ""),
                         local_time(h.last_run_at if h else None, tz), local_time(h.last_success_at if h else None, tz),
                         str(s["posts_last_run"]), str(s["posts_total"]), (s["last_error"] or "")[:80]])
        click.echo("")
        click.echo(table(rows, ["source", "type", "state", "last run", "last success", "last", "total", "last error"]))
    else:
        click.echo("no sources configured")


def _expected_period(config, entry):
    """The source's `expected_period` option, else its type's default (None when unknown)."""
    from ..sources.base import SOURCES

    options = config.source_options.get(entry.name)
    period = getattr(options, "expected_period", None)
    if period is not None:
        return period
    try:
        return SOURCES.get(entry.type).expected_period
    except (LookupError, ImportError):
        return None


def _iso(dt: datetime | None) -> str | None:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if dt else None


def _warnings(store) -> list[str]:
    return [f"{component}: {w}" for component, items in sorted(store.warnings().items()) for w in items]


COMMANDS = [init, run, replay_cmd, score, status]
__all__ = ["parse_schedule"]
