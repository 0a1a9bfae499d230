"""Scheduled digest settings (extended by the digest package)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class DigestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    schedule: str
    channels: list[str]
