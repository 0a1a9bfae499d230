"""Settings of a digest: one entry of the config's `digests:` list.

    digests:
      - name: daily-en
        schedule: "0 8 * * *"        # 5-field cron, in the config's timezone
        period: 24h                  # the digest covers the period ending at each run
        lang: en                     # en | zh
        channels: [community-mail, community-slack]
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..config.types import Duration, ScheduleField, parse_schedule

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class Section(StrEnum):
    """The parts of a digest, in the order they appear."""

    OVERVIEW = "overview"  # headline numbers and what stands out
    VOLUME = "volume"  # posts per source and per category against the previous period
    SENTIMENT = "sentiment"  # sentiment shares and their trend
    RATINGS = "ratings"  # average store rating per app version and store
    INCIDENTS = "incidents"  # opened, acknowledged, resolved; time to acknowledge and resolve
    CLUSTERS = "clusters"  # top complaint clusters (near-duplicates merged)
    TERMS = "terms"  # emerging terms and hashtags
    SECURITY = "security"  # security reports, sensitive data masked
    UNREPLIED = "unreplied"  # store reviews still without a reply from the team, oldest first


DigestFormat = Literal["html", "md", "text", "json"]
DigestLang = Literal["en", "zh"]


class DigestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "digest"
    # When it is sent: a 5-field cron expression in the config's timezone.
    schedule: ScheduleField = parse_schedule("0 8 * * *")
    period: Duration = timedelta(hours=24)  # the window each digest covers, ending at its run time
    format: DigestFormat = "html"  # what `monitor digest --name N` prints; "text" sends plain-text mail only
    lang: DigestLang = "en"
    channels: list[str] = Field(default_factory=list)  # names under `channels:`
    enabled: bool = True
    title: str | None = None  # subject line prefix; default: "Feedback digest"
    sources: list[str] = Field(default_factory=list)  # only these sources; empty means all
    sections: list[Section] = Field(default_factory=lambda: list(Section))
    max_items: int = Field(default=5, ge=1, le=100)  # rows per list (clusters, terms, reviews...)
    rating_drop: float = Field(default=0.75, gt=0, le=4)  # stars below the store's baseline that flag a release
    min_reviews: int = Field(default=3, ge=1)  # reviews a version needs before it can be flagged
    unreplied_window: Duration = timedelta(days=14)  # how far back to look for reviews without a reply
    unreplied_max_rating: int = Field(default=5, ge=1, le=5)  # e.g. 3: only reviews of 1-3 stars
    cluster_min_size: int = Field(default=2, ge=1)  # a complaint "cluster" has at least this many posts
    catch_up: Duration = timedelta(hours=6)  # a run missed while the daemon was down is sent if this recent

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError("use letters, digits, '.', '_' and '-' (starting with a letter or digit)")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron_only(cls, value):  # noqa: ANN001 - a Schedule
        if not value.cron:
            raise ValueError("a digest's schedule is a 5-field cron expression, e.g. \"0 8 * * *\"")
        return value

    @field_validator("period")
    @classmethod
    def _period(cls, value: timedelta) -> timedelta:
        if value < timedelta(hours=1) or value > timedelta(days=92):
            raise ValueError("a digest's period is between 1h and 92d")
        return value

    @field_validator("sections")
    @classmethod
    def _sections(cls, value: list[Section]) -> list[Section]:
        if not value:
            raise ValueError("list at least one section")
        return sorted(set(value), key=list(Section).index)
