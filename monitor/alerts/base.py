"""The Channel interface: a plugin that delivers Notifications (extended by the alerting package)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ConfigDict

from ..models import Notification
from ..registry import Registry


class ChannelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str | None = None


class Channel(ABC):
    type: ClassVar[str] = ""
    Options: ClassVar[type[ChannelOptions]] = ChannelOptions

    def __init__(self, name: str, options: ChannelOptions) -> None:
        self.name = name
        self.options = options

    @abstractmethod
    def deliver(self, notification: Notification) -> dict[str, str]:
        """Send; return references to remember (e.g. an issue key). Raise DeliveryError on failure."""


CHANNELS: Registry[Channel] = Registry("channel", Channel, builtins={})
