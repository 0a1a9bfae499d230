"""Alert routing and delivery settings (extended by the alerting package)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field

from ..config.types import Duration


class RouteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channels: list[str]
    severity_at_least: str | None = None


class DeliverySettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    interval: Duration = timedelta(seconds=30)
    max_attempts: int = Field(default=8, ge=1)
