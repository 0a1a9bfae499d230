"""`monitor incidents`, `monitor silence` and `monitor outbox`."""

from __future__ import annotations

import getpass

import click

from .common import CliError, common_options, echo_json, local_time, open_app, parse_since, table

STATES = ["open", "acknowledged", "resolved", "unresolved", "all"]
STATUSES = ["pending", "sent", "dead", "suppressed", "all"]


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "cli"


def _incident_dict(incident) -> dict:
    return {"id": incident.id, "key": incident.key, "rule_id": incident.rule_id, "state": incident.state.value,
            "severity": incident.severity.value, "title": incident.title, "group": dict(incident.group),
            "first_seen": incident.first_seen, "last_seen": incident.last_seen, "opened_at": incident.opened_at,
            "acknowledged_at": incident.acknowledged_at, "resolved_at": incident.resolved_at,
            "findings": incident.finding_count, "posts": incident.post_count, "refs": dict(incident.refs),
            "summary": {k: v for k, v in incident.summary.items() if k not in ("refreshed_at_findings", "refreshed_posts")}}


def _notification_dict(n) -> dict:
    return {"id": n.id, "channel": n.channel, "kind": n.kind.value, "event": n.payload.get("event"),
            "incident_id": n.incident_id, "status": n.status.value, "attempts": n.attempts,
            "next_try_at": n.next_try_at, "created_at": n.created_at, "sent_at": n.sent_at, "last_error": n.last_error}


# --- incidents -----------------------------------------------------------------------------


@click.group("incidents")
def incidents() -> None:
    """List, inspect, acknowledge and resolve incidents."""


@incidents.command("list")
@click.option("--state", type=click.Choice(STATES), default="unresolved", show_default=True)
@click.option("--since", help="Only incidents seen since then: a duration back from now (7d) or an ISO time.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@common_options
def incidents_list(state: str, since: str | None, limit: int, as_json: bool) -> None:
    """List incidents, most recently active first.

    Example: monitor incidents list --state all --since 7d
    """
    from ..models import IncidentState

    app = open_app()
    if state == "unresolved":
        states: tuple = (IncidentState.OPEN, IncidentState.ACKNOWLEDGED)
    else:
        states = () if state == "all" else (IncidentState(state),)
    items = app.store.list_incidents(states, since=parse_since(since, app.clock.now()), limit=limit)
    if as_json:
        echo_json([_incident_dict(i) for i in items])
        return
    if not items:
        click.echo("no incidents")
        return
    tz = app.config.settings.tz
    click.echo(table([[str(i.id), i.state.value, i.severity.value, i.title[:60], str(i.post_count),
                       local_time(i.first_seen, tz), local_time(i.last_seen, tz)] for i in items],
                     ["id", "state", "severity", "title", "posts", "first seen", "last seen"]))


@incidents.command("show")
@click.argument("incident_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@common_options
def incidents_show(incident_id: int, as_json: bool) -> None:
    """Show one incident: its summary, external references and notifications."""
    from ..alerts.payload import IncidentSummary

    app = open_app()
    incident = app.store.get_incident(incident_id)
    if incident is None:
        raise CliError(f"there is no incident {incident_id}")
    notifications = list(reversed(app.store.list_outbox(incident_id=incident_id, limit=1000)))
    if as_json:
        echo_json({**_incident_dict(incident), "notifications": [_notification_dict(n) for n in notifications]})
        return
    tz = app.config.settings.tz
    s = IncidentSummary.from_mapping(incident.summary)
    lines = [f"incident {incident.id}: {incident.title}", f"  key:        {incident.key}",
             f"  state:      {incident.state.value} ({incident.severity.value})",
             f"  seen:       {local_time(incident.first_seen, tz)} .. {local_time(incident.last_seen, tz)}",
             f"  volume:     {incident.post_count} posts in {incident.finding_count} findings; trend {s.trend}"]
    if s.observed is not None:
        lines.append(f"  observed:   {s.observed:g}" + (f" vs {s.expected:g} expected" if s.expected is not None else ""))
    for label, counts in (("languages", s.languages), ("sources", s.sources), ("categories", s.categories)):
        if counts:
            lines.append(f"  {label + ':':<11} " + ", ".join(f"{k} {v}" for k, v in list(counts.items())[:8]))
    if incident.acknowledged_at:
        lines.append(f"  acknowledged: {local_time(incident.acknowledged_at, tz)}")
    if incident.resolved_at:
        lines.append(f"  resolved:   {local_time(incident.resolved_at, tz)} ({s.resolved_because or '-'})")
    if s.note:
        lines.append(f"  note:       {s.note}")
    for key, value in sorted(incident.refs.items()):
        lines.append(f"  ref {key}: {value}")
    if s.clusters:
        lines.append("  top complaints:")
        lines += [f"    ({c.size}x) {c.text}" + (f"\n           {c.url}" if c.url else "") for c in s.clusters]
    click.echo("\n".join(lines))
    if notifications:
        click.echo("")
        click.echo(table([[str(n.id), n.channel, str(n.payload.get("event") or n.kind.value), n.status.value,
                           str(n.attempts), (n.last_error or "")[:60]] for n in notifications],
                         ["id", "channel", "event", "status", "tries", "last error"]))


def _manual(action: str, incident_id: int, comment: str | None, by: str | None) -> None:
    app = open_app()
    manager = app.incidents
    now = app.clock.now()
    before = sum(app.store.outbox_counts().values())
    if action == "ack":
        incident = manager.acknowledge(incident_id, now, by=_who(by), comment=comment)
    else:
        incident = manager.resolve(incident_id, now, by=_who(by), comment=comment)
    queued = sum(app.store.outbox_counts().values()) - before
    click.echo(f"incident {incident.id} is {incident.state.value}; {queued} notification(s) queued "
               "(the daemon sends them, or run `monitor outbox deliver`)")


@incidents.command("ack")
@click.argument("incident_id", type=int)
@click.option("--comment", help="Shown with the acknowledgement.")
@click.option("--by", help="Who acknowledges (default: the current user).")
@common_options
def incidents_ack(incident_id: int, comment: str | None, by: str | None) -> None:
    """Acknowledge an open incident (PagerDuty and Opsgenie are told; reminders stop)."""
    _manual("ack", incident_id, comment, by)


@incidents.command("resolve")
@click.argument("incident_id", type=int)
@click.option("--comment", help="Shown with the resolution.")
@click.option("--by", help="Who resolves (default: the current user).")
@common_options
def incidents_resolve(incident_id: int, comment: str | None, by: str | None) -> None:
    """Resolve an incident by hand (channels get a resolve; new findings open a new incident)."""
    _manual("resolve", incident_id, comment, by)


# --- silences ------------------------------------------------------------------------------


@click.group("silence")
def silence() -> None:
    """Mute notifications of matching incidents for a while."""


@silence.command("add")
@click.option("--match", "matchers", multiple=True, required=True,
              help="label=value, label!=value, label=~regex or label!~regex (repeatable; all must hold). "
                   "Labels: rule, severity, category, tags, owner, state and the rule's group_by fields.")
@click.option("--for", "duration", help="How long, from --start (e.g. 2h, 1d).")
@click.option("--until", "until", help="Or until this ISO 8601 time.")
@click.option("--start", help="When it starts (ISO 8601; default now). A past start mutes replayed history too.")
@click.option("--comment", required=True, help="Why (shown in `monitor silence list`).")
@click.option("--by", help="Who (default: the current user).")
@common_options
def silence_add(matchers: tuple[str, ...], duration: str | None, until: str | None, start: str | None,
                comment: str, by: str | None) -> None:
    """Add a silence. Example: monitor silence add --match rule=withdrawals-stuck --for 2h --comment "known issue" """
    from ..alerts.matchers import parse_matcher
    from ..config.types import parse_duration

    for text in matchers:
        try:
            parse_matcher(text)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--match") from None
    if bool(duration) == bool(until):
        raise click.UsageError("give either --for DURATION or --until TIME")
    app = open_app()
    now = app.clock.now()
    starts = parse_since(start, now) if start else now
    if duration:
        try:
            ends = starts + parse_duration(duration)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--for") from None
    else:
        ends = parse_since(until, now)
    if ends <= starts:
        raise click.UsageError("the silence would end before it starts")
    s = app.store.add_silence(list(matchers), starts, ends, comment, _who(by), now)
    tz = app.config.settings.tz
    click.echo(f"silence {s.id} added: {' '.join(s.matchers)} from {local_time(s.starts_at, tz)} "
               f"until {local_time(s.ends_at, tz)}")


@silence.command("list")
@click.option("--all", "show_all", is_flag=True, help="Also silences that have ended or were expired.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@common_options
def silence_list(show_all: bool, as_json: bool) -> None:
    """List silences that are active or pending (with --all, every one)."""
    app = open_app()
    now = app.clock.now()
    items = app.store.list_silences(now, include_ended=show_all)
    if as_json:
        echo_json([{"id": s.id, "matchers": list(s.matchers), "starts_at": s.starts_at, "ends_at": s.ends_at,
                    "comment": s.comment, "created_by": s.created_by, "expired_at": s.expired_at,
                    "active": s.active_at(now)} for s in items])
        return
    if not items:
        click.echo("no silences")
        return
    tz = app.config.settings.tz
    click.echo(table([[str(s.id), "active" if s.active_at(now) else ("pending" if s.starts_at > now else "ended"),
                       " ".join(s.matchers), local_time(s.starts_at, tz), local_time(s.ends_at, tz), s.created_by,
                       s.comment[:50]] for s in items],
                     ["id", "state", "matchers", "starts", "ends", "by", "comment"]))


@silence.command("expire")
@click.argument("silence_id", type=int)
@common_options
def silence_expire(silence_id: int) -> None:
    """End a silence now (held notifications of still-open incidents then go out)."""
    app = open_app()
    if not app.store.expire_silence(silence_id, app.clock.now()):
        raise CliError(f"silence {silence_id} does not exist or has already ended")
    click.echo(f"silence {silence_id} expired")


# --- outbox --------------------------------------------------------------------------------


@click.group("outbox")
def outbox() -> None:
    """The notification queue: list, retry dead letters, deliver now."""


@outbox.command("list")
@click.option("--status", type=click.Choice(STATUSES), default="all", show_default=True)
@click.option("--incident", "incident_id", type=int, help="Only this incident's notifications.")
@click.option("--limit", default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@common_options
def outbox_list(status: str, incident_id: int | None, limit: int, as_json: bool) -> None:
    """List notifications, newest first. Example: monitor outbox list --status dead"""
    from ..models import DeliveryStatus

    app = open_app()
    statuses = () if status == "all" else (DeliveryStatus(status),)
    items = app.store.list_outbox(statuses, limit=limit, incident_id=incident_id)
    if as_json:
        echo_json([_notification_dict(n) for n in items])
        return
    if not items:
        click.echo("the outbox is empty" if status == "all" else f"no {status} notifications")
        return
    tz = app.config.settings.tz
    click.echo(table([[str(n.id), n.channel, str(n.payload.get("event") or n.kind.value),
                       str(n.incident_id or "-"), n.status.value, str(n.attempts), local_time(n.created_at, tz),
                       (n.last_error or "")[:60]] for n in items],
                     ["id", "channel", "event", "incident", "status", "tries", "queued", "last error"]))


@outbox.command("retry")
@click.argument("ids", nargs=-1, type=int)
@click.option("--all", "retry_all", is_flag=True, help="Every dead-lettered notification.")
@common_options
def outbox_retry(ids: tuple[int, ...], retry_all: bool) -> None:
    """Put dead-lettered notifications back in the queue. Example: monitor outbox retry 12 13"""
    if bool(ids) == retry_all:
        raise click.UsageError("give notification ids, or --all")
    from ..clock import WallClock

    app = open_app()
    count = app.store.retry_outbox(None if retry_all else list(ids), WallClock().now())  # delivery time is wall time
    click.echo(f"{count} notification(s) queued again")


@outbox.command("deliver")
@common_options
def outbox_deliver() -> None:
    """Send the notifications that are due now (the daemon does this every delivery.interval)."""
    app = open_app()
    report = app.dispatcher.run()
    for name, why in app.unavailable_channels.items():
        click.echo(f"channel {name} is not active: {why}", err=True)
    click.echo(f"sent {report.sent}, failed {report.failed} (will retry), dead-lettered {report.dead}, "
               f"skipped {report.skipped}")


COMMANDS = [incidents, silence, outbox]
__all__ = ["COMMANDS"]
