"""Wiring: from a loaded config to a store, an enricher, detectors and channels.

Heavy parts (the sentiment model, the rule set, channel clients) are built on first use, so
commands that need only the store (status, posts search) start fast.
"""

from __future__ import annotations

import logging
import threading
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .alerts.base import CHANNELS, Channel
from .alerts.delivery import Dispatcher
from .alerts.grouping import IncidentManager, RuleMeta
from .alerts.policy import Router
from .clock import Clock, WallClock
from .config import AppConfig
from .errors import MonitorError
from .store import SqliteStore, open_store

if TYPE_CHECKING:
    from .detect.base import Detector
    from .enrich import Enricher

log = logging.getLogger(__name__)


class App:
    def __init__(self, config: AppConfig, db_path: str | Path | None = None, clock: Clock | None = None,
                 detectors: list["Detector"] | None = None) -> None:
        self.config = config
        self.db_path = Path(db_path) if db_path else config.db_path
        self.clock: Clock = clock or WallClock()
        self.store: SqliteStore = open_store(self.db_path)
        self._detectors = detectors
        self.stopping = threading.Event()  # set on SIGTERM: long loops stop after their current batch

    @cached_property
    def enricher(self) -> "Enricher":
        from .enrich import build_enricher

        return build_enricher(self.config.settings.enrichment, base_dir=self.config.base_dir)

    @property
    def detectors(self) -> list["Detector"]:
        if self._detectors is None:
            self._detectors = build_detectors(self)
        return self._detectors

    def rule_meta(self, rule_id: str) -> RuleMeta:
        for detector in self.detectors:
            lookup = getattr(detector, "rule_meta", None)
            if lookup is not None:
                meta = lookup(rule_id)
                if meta is not None:
                    return meta
        return RuleMeta()

    @cached_property
    def channels(self) -> dict[str, Channel]:
        """The channels that can send now; why the others cannot is in `unavailable_channels`."""
        out: dict[str, Channel] = {}
        for entry in self.config.settings.channels:
            missing = self.config.missing_env(entry)
            if not entry.enabled or missing:
                self.unavailable_channels[entry.name] = ("disabled" if not entry.enabled
                                                         else f"{', '.join(missing)} not set")
                continue
            try:
                cls = CHANNELS.get(entry.type)
                options = self.config.channel_options.get(entry.name) or cls.Options.model_validate(entry.options)
                out[entry.name] = cls(entry.name, options)
            except (MonitorError, LookupError, ImportError, ValueError) as exc:
                # one broken channel must not stop the others; its notifications dead-letter with this reason
                self.unavailable_channels[entry.name] = str(exc).replace("\n", "; ")
                log.error("channel %s cannot be used: %s", entry.name, exc)
        return out

    @cached_property
    def unavailable_channels(self) -> dict[str, str]:
        return {}

    @cached_property
    def incidents(self) -> IncidentManager:
        settings = self.config.settings
        return IncidentManager(self.store, self.rule_meta, Router(settings.routes, settings.route_defaults),
                               settings.inhibit_rules,
                               min_quiet=settings.detection.bucket + settings.detection.lateness,
                               settle=settings.detection.lateness)

    @cached_property
    def dispatcher(self) -> Dispatcher:
        # Delivery retries and leases are operational, so they run on the wall clock even in replay.
        d = self.config.settings.delivery
        channels = self.channels
        return Dispatcher(self.store, channels, WallClock(), max_attempts=d.max_attempts, base_delay=d.backoff,
                          max_delay=d.max_backoff, lease=d.lease, unavailable=self.unavailable_channels,
                          stopping=self.stopping)

    def close(self) -> None:
        for channel in self.__dict__.get("channels", {}).values():
            try:
                channel.close()
            except Exception:  # closing must not hide the real outcome of a command
                log.debug("closing channel %s failed", channel.name, exc_info=True)
        self.store.close()


def build_detectors(app: App) -> list["Detector"]:
    """The detectors configured for this app: the YAML rule engine over the configured rule paths."""
    from .detect.rules import build_rule_engine

    return [build_rule_engine(app)]
