"""The delivery worker: sends due outbox rows through their channels, with retries.

A row is marked sent only after the channel reports success; a failure schedules the next try
with exponential backoff and jitter (or the receiver's Retry-After), and after the last attempt
the row is dead-lettered for `monitor outbox retry`.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Mapping

from ..clock import Clock
from ..errors import DeliveryError, PermanentDeliveryError
from ..store import SqliteStore
from .base import Channel

log = logging.getLogger(__name__)


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0


class Dispatcher:
    def __init__(self, store: SqliteStore, channels: Mapping[str, Channel], clock: Clock, max_attempts: int = 8,
                 base_delay: timedelta = timedelta(seconds=30), max_delay: timedelta = timedelta(hours=1),
                 lease: timedelta = timedelta(minutes=5), rng: random.Random | None = None) -> None:
        self.store = store
        self.channels = channels
        self.clock = clock
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.lease = lease
        self.rng = rng or random.Random()

    def run(self, limit: int = 100) -> DeliveryReport:
        report = DeliveryReport()
        while True:
            batch = self.store.claim_due(self.clock.now(), limit, self.lease)
            if not batch:
                return report
            for notification in batch:
                channel = self.channels.get(notification.channel)
                try:
                    if channel is None:
                        raise PermanentDeliveryError(f"channel {notification.channel!r} is not configured")
                    refs = channel.deliver(notification)
                except DeliveryError as exc:
                    self._failed(notification.id, notification.attempts, exc, report)
                    continue
                except Exception as exc:  # a bug in a channel must not stop the others
                    log.exception("channel %s crashed delivering notification %s", notification.channel,
                                  notification.id)
                    self._failed(notification.id, notification.attempts, DeliveryError(repr(exc)), report)
                    continue
                with self.store.transaction():
                    self.store.mark_sent(notification.id, self.clock.now())
                    if refs and notification.incident_id is not None:
                        self.store.merge_incident_refs(notification.incident_id,
                                                       {f"{notification.channel}.{k}": v for k, v in refs.items()})
                report.sent += 1
            if len(batch) < limit:
                return report

    def _failed(self, notification_id: int, attempts: int, exc: DeliveryError, report: DeliveryReport) -> None:
        now = self.clock.now()
        if isinstance(exc, PermanentDeliveryError) or attempts >= self.max_attempts:
            self.store.mark_failed(notification_id, str(exc), None)
            report.dead += 1
            log.error("notification %s dead-lettered after %d attempts: %s", notification_id, attempts, exc)
            return
        if exc.retry_after is not None:
            delay = timedelta(seconds=exc.retry_after)
        else:
            cap = min(self.max_delay.total_seconds(), self.base_delay.total_seconds() * 2 ** (attempts - 1))
            delay = timedelta(seconds=self.rng.uniform(cap / 2, cap))
        self.store.mark_failed(notification_id, str(exc), now + delay)
        report.failed += 1
        log.warning("notification %s failed (attempt %d), next try in %ds: %s", notification_id, attempts,
                    delay.total_seconds(), exc)
