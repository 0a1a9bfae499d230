"""Produce a digest, write it to files, and send it through the alerting outbox.

Sending enqueues one Notification(kind=DIGEST) per channel with the payload every digest-aware
channel reads:

    {"subject": str, "text": str, "html": str | None, "markdown": str | None,
     "images": [{"cid": str, "filename": str, "mime": "image/png", "content_b64": str}]}

E-mail sends text and HTML as multipart/alternative with the images inline by Content-ID
(see mime.py); Slack posts the Markdown and uploads the images. A period is sent at most once
per digest: the digest log row and the outbox rows are written in one transaction.
"""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..models import Notification, NotificationKind
from ..store.timefmt import to_db
from .settings import DigestSettings

if TYPE_CHECKING:
    from ..app import App
    from ..store import SqliteStore
    from .charts import Chart
    from .i18n import Translator
    from .model import Digest

log = logging.getLogger(__name__)


@dataclass
class DigestOutput:
    digest: "Digest"
    translator: "Translator"
    charts: dict[str, "Chart"]

    def render(self, fmt: str, image_mode: str = "data", file_prefix: str = "") -> str:
        from .render import render

        return render(self.digest, fmt, self.translator, self.charts, image_mode, file_prefix)  # type: ignore[arg-type]

    @property
    def subject(self) -> str:
        from .render import subject

        return subject(self.digest, self.translator)


@dataclass
class SendResult:
    name: str
    period_end: datetime
    notification_ids: list[int] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    skipped: str | None = None  # why nothing was enqueued


def produce(store: "SqliteStore", settings: DigestSettings, end: datetime, timezone: str,
            charts: bool = True) -> DigestOutput:
    from .build import build_digest
    from .charts import render_charts
    from .i18n import Translator

    translator = Translator(settings.lang, timezone)
    digest = build_digest(store, settings, end, timezone)
    return DigestOutput(digest, translator, render_charts(digest, translator) if charts else {})


def dedup_key(name: str, period_end: datetime) -> str:
    return f"digest/{name}/{to_db(period_end)}"


def build_payload(output: DigestOutput, settings: DigestSettings) -> dict[str, Any]:
    return {
        "subject": output.subject,
        "text": output.render("text"),
        "html": None if settings.format == "text" else output.render("html", image_mode="cid"),
        "markdown": output.render("md", image_mode="none"),
        "images": [{"cid": c.cid, "filename": c.filename, "mime": "image/png",
                    "content_b64": base64.b64encode(c.png).decode("ascii")} for c in output.charts.values()],
    }


def write_output(output: DigestOutput, fmt: str, path: Path) -> list[Path]:
    """Write the digest to `path`; a Markdown file gets its charts as PNG files beside it."""
    written = [path]
    if fmt == "md" and output.charts:
        prefix = f"{path.stem}-"
        for chart in output.charts.values():
            image = path.with_name(prefix + chart.filename)
            image.write_bytes(chart.png)
            written.append(image)
        text = output.render("md", image_mode="file", file_prefix=prefix)
    else:
        text = output.render(fmt, image_mode="data")
    path.write_text(text, encoding="utf-8")
    return written


def deliverable_channels(app: "App", settings: DigestSettings, names: list[str] | None = None) -> list[str]:
    """The digest's channels that are configured, enabled and have their environment variables."""
    entries = {c.name: c for c in app.config.settings.channels}
    out = []
    for name in names if names is not None else settings.channels:
        entry = entries.get(name)
        if entry is None:
            log.warning("digest %s: channel %r is not configured; skipped", settings.name, name)
        elif not entry.enabled or app.config.missing_env(entry):
            log.warning("digest %s: channel %r is disabled or misses its environment variables; skipped",
                        settings.name, name)
        else:
            out.append(name)
    return out


def send_digest(app: "App", settings: DigestSettings, end: datetime, channels: list[str] | None = None,
                force: bool = False, output: DigestOutput | None = None) -> SendResult:
    """Enqueue the digest of the period ending at `end` for its channels, once per period (unless forced)."""
    result = SendResult(settings.name, end)
    targets = deliverable_channels(app, settings, channels)
    if not targets:
        result.skipped = "no deliverable channel"
        return result
    if not force and app.store.digest_sent(settings.name, end):
        result.skipped = "already sent"
        return result
    output = output or produce(app.store, settings, end, app.config.settings.timezone)
    payload = build_payload(output, settings)
    now = app.clock.now()
    key = dedup_key(settings.name, end)
    notifications = [Notification(id=None, channel=name, kind=NotificationKind.DIGEST, incident_id=None,
                                  dedup_key=key, payload=payload) for name in targets]
    with app.store.transaction():
        # checked again under the write lock: two runs racing for one period send it once
        if not force and app.store.digest_sent(settings.name, end):
            result.skipped = "already sent"
            return result
        ids = app.store.enqueue(notifications, now)
        app.store.record_digest(settings.name, end - settings.period, end, targets, ids, now)
    result.notification_ids, result.channels = ids, targets
    log.info("digest %s for the period ending %s enqueued for %s", settings.name, to_db(end), ", ".join(targets))
    return result


def latest_fire_time(cron: str, timezone: str, now: datetime) -> datetime | None:
    """The last time at or before `now` that the cron expression fires (None if not within a year)."""
    from ..config.types import cron_trigger

    trigger = cron_trigger(cron, timezone)
    for lookback in (timedelta(hours=2), timedelta(days=2), timedelta(days=32), timedelta(days=367)):
        fire = trigger.get_next_fire_time(None, now - lookback)
        if fire is None or fire > now:
            continue
        # In UTC: adding a second to a local time in the hour repeated when daylight saving ends
        # moves it back an hour (the fold is lost), and this loop never ended.
        last = fire.astimezone(UTC)
        while True:
            nxt = trigger.get_next_fire_time(last, last + timedelta(seconds=1))
            if nxt is None or nxt > now:
                return last.astimezone(now.tzinfo)
            if nxt.astimezone(UTC) <= last:  # never go backwards, whatever the trigger answers
                raise RuntimeError(f"cron {cron!r} in {timezone}: no fire time after {last.isoformat()}")
            last = nxt.astimezone(UTC)
    return None


def run_scheduled(app: "App", settings: DigestSettings) -> SendResult | None:
    """The daemon's job: send the digest of the period that ended at the latest scheduled time.

    Run at startup too: a run missed while the daemon was down is sent if it is at most
    `catch_up` old, and a period already sent is never sent again.
    """
    now = app.clock.now()
    assert settings.schedule.cron, "digest schedules are cron expressions"
    end = latest_fire_time(settings.schedule.cron, app.config.settings.timezone, now)
    if end is None or now - end > settings.catch_up:
        log.debug("digest %s: nothing due (latest scheduled time %s)", settings.name, end)
        return None
    result = send_digest(app, settings, end)
    if result.skipped:
        log.info("digest %s for the period ending %s not sent: %s", settings.name, to_db(end), result.skipped)
    return result
