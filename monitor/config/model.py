"""The config file's schema. Unknown keys are errors everywhere: a typo must never silently
disable a rule or a channel."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ..alerts.settings import DeliverySettings, InhibitRuleSettings, RouteDefaults, RouteSettings
from ..digest.settings import DigestSettings
from ..enrich.settings import EnrichmentSettings
from .types import Duration, ScheduleField

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class StorageSettings(Strict):
    path: str = "storage/monitor.db"
    retention: Duration | None = timedelta(days=365)  # posts older than this are deleted; null keeps all
    housekeeping: ScheduleField = "30 3 * * *"  # applies `retention`, daily
    vacuum: ScheduleField = "0 4 * * 0"  # full VACUUM, weekly


class PluginEntry(Strict):
    """A source or a channel: `{name, type, options}`; options are validated by the plugin."""

    name: str
    type: str
    options: dict[str, Any] = Field(default_factory=dict)
    enabled: bool = True
    requires_env: list[str] = Field(default_factory=list)  # skipped (and shown so) when any is unset

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME.match(value):
            raise ValueError("use letters, digits, '.', '_' and '-' (starting with a letter or digit)")
        return value


class SourceEntry(PluginEntry):
    schedule: ScheduleField | None = None  # default: the source type's own


class ChannelEntry(PluginEntry):
    pass


class DetectionSettings(Strict):
    interval: Duration = timedelta(minutes=1)  # how often the daemon runs a detection pass
    bucket: Duration = timedelta(minutes=5)  # count-series bucket length (event time)
    lateness: Duration = timedelta(minutes=10)  # a bucket is judged this long after it ends
    batch_size: int = Field(default=1000, ge=1)


class RulesSettings(Strict):
    # Rule files or folders, relative to the config file. "@builtin" is the packs shipped with the
    # product (the default, so a monitor without a config still runs them); `monitor init` copies
    # the packs into ./rules and writes `paths: [rules]` so they can be edited.
    paths: list[str] = Field(default_factory=lambda: ["@builtin"])
    reload: bool = True  # watch the files and swap in valid changes without a restart


class Settings(Strict):
    storage: StorageSettings = StorageSettings()
    timezone: str = "UTC"
    sources: list[SourceEntry] = Field(default_factory=list)
    enrichment: EnrichmentSettings = EnrichmentSettings()
    detection: DetectionSettings = DetectionSettings()
    rules: RulesSettings = RulesSettings()
    channels: list[ChannelEntry] = Field(default_factory=list)
    routes: list[RouteSettings] = Field(default_factory=list)
    route_defaults: RouteDefaults = RouteDefaults()
    inhibit_rules: list[InhibitRuleSettings] = Field(default_factory=list)
    delivery: DeliverySettings = DeliverySettings()
    digests: list[DigestSettings] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name such as UTC or Asia/Singapore)") from None
        return value

    @model_validator(mode="after")
    def _unique_names(self) -> "Settings":
        for what, entries in (("source", self.sources), ("channel", self.channels), ("digest", self.digests)):
            seen: set[str] = set()
            for entry in entries:
                if entry.name in seen:
                    raise ValueError(f"duplicate {what} name {entry.name!r}")
                seen.add(entry.name)
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
