"""`monitor rules`: validate, test, backtest and explain detection rules."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from ..text.escape import strip_controls
from .common import (EXIT_BAD_INPUT, EXIT_FAILURE, UNUSED_HELP, CliError, common_options, echo_json, get_config,
                     parse_since, table)


@click.group("rules")
def rules() -> None:
    """Write, prove and inspect YAML detection rules (see docs/rules.md)."""


def _paths(paths: tuple[str, ...]) -> list[Path] | None:
    return [Path(p) for p in paths] if paths else None


def _load(paths: tuple[str, ...], check_routes: bool = True):
    from ..detect.rules import load_ruleset

    return load_ruleset(get_config(), _paths(paths), check_routes=check_routes)


@rules.command("validate")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--strict", is_flag=True, help="Treat warnings (such as rules without tests) as errors.")
@common_options
def validate(paths: tuple[str, ...], strict: bool) -> None:
    """Check rule files: schema, regexes, duplicate ids, routes, window and spike parameters.

    Checks PATHS (files or folders), or the config's rules.paths. Every problem names the
    file, line and column; the exit code is 2 when there is any.

    Example: monitor rules validate rules/
    """
    ruleset = _load(paths)
    for warning in ruleset.warnings:
        click.echo(f"warning: {warning}", err=True)
    by_type: dict[str, int] = {}
    for rule in ruleset.rules:
        by_type[rule.type] = by_type.get(rule.type, 0) + 1
    kinds = ", ".join(f"{n} {t}" for t, n in sorted(by_type.items()))
    click.echo(f"ok: {len(ruleset)} rules ({len(ruleset.active)} enabled{'; ' + kinds if kinds else ''}) "
               f"in {len(ruleset.files)} file(s)")
    if strict and ruleset.warnings:
        raise CliError(f"{len(ruleset.warnings)} warning(s) with --strict", EXIT_BAD_INPUT)


@rules.command("list")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@common_options
def list_rules(paths: tuple[str, ...], as_json: bool) -> None:
    """List the rules with their type, severity, state and file.

    Example: monitor rules list
    """
    ruleset = _load(paths, check_routes=False)
    rows = [{"id": r.id, "type": r.type, "severity": r.spec.severity.value, "enabled": r.enabled,
             "title": r.spec.title, "tests": len(r.spec.tests), "file": f"{r.location.file}:{r.location.line}"}
            for r in ruleset.rules]
    if as_json:
        echo_json(rows)
        return
    click.echo(table([[x["id"], x["type"], x["severity"], "yes" if x["enabled"] else "no", str(x["tests"]),
                       _plain(x["title"])[:60]] for x in rows], ["id", "type", "severity", "enabled", "tests", "title"]))


@rules.command("test")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--rule", "rule_ids", multiple=True, help="Only this rule (repeatable).")
@click.option("-v", "--verbose", is_flag=True, help="Also list the cases that pass.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@common_options
def test(paths: tuple[str, ...], rule_ids: tuple[str, ...], verbose: bool, as_json: bool) -> None:
    """Run every rule's inline tests; for each failure show the post, what was expected, what
    happened and which condition decided it. Exit code 1 when any case fails.

    Example: monitor rules test rules/security.yaml
    """
    from ..detect.rules.testing import run_tests, summary
    from ..enrich import build_enricher

    config = get_config()
    ruleset = _load(paths, check_routes=False)
    unknown = [r for r in rule_ids if ruleset.get(r) is None]
    if unknown:
        raise CliError(f"no such rule: {', '.join(unknown)}")
    enricher = build_enricher(config.settings.enrichment, base_dir=config.base_dir)
    results = run_tests(ruleset, config, enricher.enrich, rule_ids or None)
    stats = summary(results)
    if as_json:
        echo_json({"summary": stats, "results": [r.__dict__ for r in results]})
    else:
        for r in results:
            if r.ok and not verbose:
                continue
            click.echo(f"{'PASS' if r.ok else 'FAIL'} {r.label} [{r.kind}]")
            if not r.ok:
                click.echo(f"  expected: {r.expected}")
                click.echo(f"  happened: {r.actual}")
                for line in r.details:
                    click.echo(f"  {_line(line)}")
        untested = [rule.id for rule in ruleset.rules if not rule.spec.tests and (not rule_ids or rule.id in rule_ids)]
        if untested:
            click.echo(f"rules without tests: {', '.join(untested)}")
        click.echo(f"{stats['passed']} passed, {stats['failed']} failed ({stats['cases']} cases in "
                   f"{stats['rules']} rules)")
    if stats["failed"]:
        sys.exit(EXIT_FAILURE)


@rules.command("explain")
@click.argument("rule_id")
@click.option("--post", "post_key", required=True, help="A stored post: its id, or source:external_id.")
@click.option("--rules-path", "paths", multiple=True, type=click.Path(), help="Rule files instead of the config's.")
@common_options
def ex_plain(rule_id: str, post_key: str, paths: tuple[str, ...]) -> None:
    """Show which of a rule's conditions hold for a stored post, and why.

    Example: monitor rules explain security.account_takeover --post okx-google-play:gp:AOqpTO...
    """
    from ..detect.rules.conditions import PostContext
    from ..detect.rules.explain import explain_lines
    from ..models import EnrichedPost
    from .common import open_app

    ruleset = _load(paths, check_routes=False)
    rule = ruleset.get(rule_id)
    if rule is None:
        raise CliError(f"no such rule: {rule_id} (see monitor rules list)")
    app = open_app(detectors=[])
    post = app.store.find_post(post_key)
    if post is None:
        raise CliError(f"no stored post {post_key!r} (use the row id or source:external_id)")
    enrichment = app.store.get_enrichments([post.id]).get(post.id)
    note = None
    if enrichment is None:
        enrichment = app.enricher.enrich([post])[0]
        note = "the post is not enriched yet: enriched now with the configured enricher"
    pc = PostContext(EnrichedPost(post, enrichment), ruleset.matcher)
    for line in explain_lines(rule, pc, note):
        click.echo(_line(line))


@rules.command("backtest")
@click.argument("rule_ids", nargs=-1)
@click.option("--since", default="30d", show_default=True, help="How far back: a duration (30d) or an ISO time.")
@click.option("--until", default=None, help="End of the period (default: now).")
@click.option("--rules-path", "paths", multiple=True, type=click.Path(),
              help="Rule files to backtest instead of the config's (e.g. a draft).")
@click.option("--samples", default=3, show_default=True, help="Sample posts per rule.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@common_options
def backtest_cmd(rule_ids: tuple[str, ...], since: str, until: str | None, paths: tuple[str, ...], samples: int,
                 as_json: bool) -> None:
    """Replay stored history through rules (all, or RULE_IDS) and show the findings and incidents
    they would have produced, per day, with sample posts. Disabled rules run too, so you can see
    a rule's noise before enabling it. Works on a scratch copy: the database is only read.

    Example: monitor rules backtest --since 14d incidents.withdrawals_stuck
    """
    from ..clock import WallClock
    from ..detect.rules.backtest import backtest
    from ..enrich import build_enricher
    from ..store import open_store
    from .common import get_db_path

    config = get_config()
    ruleset = _load(paths, check_routes=False)
    unknown = [r for r in rule_ids if ruleset.get(r) is None]
    if unknown:
        raise CliError(f"no such rule: {', '.join(unknown)}")
    if rule_ids:
        ruleset = ruleset.select(rule_ids)
    db_path = get_db_path(config)
    if not db_path.exists():
        raise CliError(f"no database at {db_path} (nothing to backtest)")
    now = WallClock().now()
    start, end = parse_since(since, now), parse_since(until, now) if until else now
    enricher = build_enricher(config.settings.enrichment, base_dir=config.base_dir)
    store = open_store(db_path)
    try:
        report = backtest(config, store, ruleset, start, end, enricher.enrich, samples=samples,
                          progress=lambda n: click.echo(f"backtest: {n:,} posts replayed", err=True))
    finally:
        store.close()
    if as_json:
        echo_json(report.as_dict())
        return
    click.echo(f"backtest {report.since} .. {report.until}: {report.posts:,} posts, {len(report.rules)} rules")
    for r in report.rules:
        state = "" if r.enabled else " (disabled)"
        click.echo(f"\n{r.rule_id} [{r.type}]{state}: {r.findings} findings, {r.incidents} incidents")
        if r.per_day:
            rows = [[d, str(v["findings"]), str(v["incidents"])] for d, v in r.per_day.items()]
            for line in table(rows, ["day", "findings", "incidents"]).splitlines():
                click.echo("  " + line)
        for s in r.samples:
            group = f" {s.group}" if s.group else ""
            click.echo(f"  e.g. {s.time} {s.post}{group}: {_plain(s.text)[:160]}")


@rules.command("schema")
@click.option("--write", "target", type=click.Path(dir_okay=False), default=None,
              help="Write the schema to this file instead of stdout.")
@common_options(config_help=UNUSED_HELP, db_help=UNUSED_HELP)
def schema(target: str | None) -> None:
    """Print the JSON Schema of rule files (for editors; rules/schema.json is generated by this).

    Example: monitor rules schema --write rules/schema.json
    """
    from ..detect.rules.schema import schema_text

    text = schema_text()
    if target:
        Path(target).write_text(text, encoding="utf-8")
        click.echo(f"wrote {target}")
    else:
        click.echo(text, nl=False)


def _line(text: str) -> str:
    """A line we composed (which may quote post text): no control characters, indentation kept."""
    return strip_controls(text).replace("\n", " ")


def _plain(text: str) -> str:
    """Post text for a terminal: no control characters (escape sequences), one line."""
    return " ".join(strip_controls(text).split())


COMMANDS = [rules]
