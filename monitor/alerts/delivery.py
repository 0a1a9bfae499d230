"""The delivery worker: sends due outbox rows through their channels, with retries.

A row is claimed with a lease, sent, and marked sent only after the channel reports success
(together with the references the channel returned, e.g. a Jira issue key). A worker killed
mid-send leaves the row leased; once the lease runs out it is sent again, and the receivers
dedupe it (PagerDuty dedup_key, Opsgenie alias, the Jira/GitHub label search, Slack message
metadata). A failure schedules the next try with exponential backoff and jitter (or the
receiver's Retry-After); a permanent failure, or the last attempt, dead-letters the row for
`monitor outbox retry`. Delivery runs on the wall clock, also during a replay.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from ..clock import Clock
from ..errors import DeliveryError, PermanentDeliveryError
from ..logging import scrub
from ..models import Notification, NotificationKind
from ..store import SqliteStore
from .base import Channel, Unsupported

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # will be retried
    dead: int = 0
    skipped: int = 0  # the channel does not take this kind of notification


class Dispatcher:
    def __init__(self, store: SqliteStore, channels: Mapping[str, Channel], clock: Clock, max_attempts: int = 8,
                 base_delay: timedelta = timedelta(seconds=30), max_delay: timedelta = timedelta(hours=1),
                 lease: timedelta = timedelta(minutes=2), rng: random.Random | None = None,
                 unavailable: Mapping[str, str] | None = None, stopping: threading.Event | None = None) -> None:
        self.store = store
        self.channels = channels
        self.clock = clock
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease = lease
        self.rng = rng or random.Random()
        self.unavailable = dict(unavailable or {})  # channel name -> why it is not active
        self.stopping = stopping

    def run(self, limit: int = 100) -> DeliveryReport:
        report = DeliveryReport()
        # claim_due hands out one row per incident and channel at a time (they go in order), so
        # keep claiming until nothing is due; a failed row gets a later next try and drops out
        while not (self.stopping is not None and self.stopping.is_set()):
            batch = self.store.claim_due(self.clock.now(), limit, self.lease)
            if not batch:
                break
            for notification in batch:
                self.deliver_one(notification, report)
        return report

    def deliver_one(self, notification: Notification, report: DeliveryReport) -> None:
        assert notification.id is not None
        channel = self.channels.get(notification.channel)
        if notification.incident_id is not None and notification.kind != NotificationKind.RESOLVE:
            # a dead letter retried after the incident's resolve went out would open a page
            # (or an issue, a "firing" message) that nothing would ever close
            resolve_id = self.store.later_resolve_sent(notification)
            if resolve_id is not None:
                self.store.mark_suppressed(notification.id, f"not sent: the incident's resolve (notification "
                                                            f"{resolve_id}) already went out to this channel")
                report.skipped += 1
                return
        try:
            if channel is None:
                why = self.unavailable.get(notification.channel, "it is not defined under channels")
                raise PermanentDeliveryError(f"channel {notification.channel!r} is not active: {why}")
            refs = channel.deliver(notification, self._refs(notification))
        except Unsupported as exc:
            self.store.mark_suppressed(notification.id, str(exc))
            report.skipped += 1
            log.info("notification %s not sent: %s", notification.id, exc)
            return
        except DeliveryError as exc:
            self._failed(notification, exc, report)
            return
        except Exception as exc:  # a bug in one channel must not stop the others
            log.exception("channel %s crashed delivering notification %s", notification.channel, notification.id)
            self._failed(notification, DeliveryError(f"{type(exc).__name__}: {exc}"), report)
            return
        with self.store.transaction():
            self.store.mark_sent(notification.id, self.clock.now())
            if refs and notification.incident_id is not None:
                self.store.merge_incident_refs(notification.incident_id,
                                               {f"{notification.channel}.{k}": str(v) for k, v in refs.items()})
        report.sent += 1

    def _refs(self, notification: Notification) -> dict[str, str]:
        """What this channel stored earlier for the same incident (an issue key, a message ts)."""
        if notification.incident_id is None:
            return {}
        incident = self.store.get_incident(notification.incident_id)
        prefix = notification.channel + "."
        return {k[len(prefix):]: v for k, v in (incident.refs if incident else {}).items() if k.startswith(prefix)}

    def next_delay(self, attempts: int, exc: DeliveryError) -> timedelta:
        if exc.retry_after is not None:
            return timedelta(seconds=max(1.0, exc.retry_after))
        cap = min(self.max_delay.total_seconds(), self.base_delay.total_seconds() * 2 ** max(0, attempts - 1))
        return timedelta(seconds=self.rng.uniform(cap / 2, cap))

    def _failed(self, notification: Notification, exc: DeliveryError, report: DeliveryReport) -> None:
        assert notification.id is not None
        message = scrub(str(exc))[:1000]
        attempts = notification.attempts
        if isinstance(exc, PermanentDeliveryError) or attempts >= self.max_attempts:
            self.store.mark_failed(notification.id, message, None)
            report.dead += 1
            log.error("notification %s to %s dead-lettered after %d attempt(s): %s", notification.id,
                      notification.channel, attempts, message)
            return
        delay = self.next_delay(attempts, exc)
        next_try: datetime = self.clock.now() + delay
        self.store.mark_failed(notification.id, message, next_try)
        report.failed += 1
        log.warning("notification %s to %s failed (attempt %d of %d), next try in %ds: %s", notification.id,
                    notification.channel, attempts, self.max_attempts, delay.total_seconds(), message)
