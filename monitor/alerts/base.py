"""The Channel interface: a plugin that delivers Notifications from the outbox.

A channel gets an incident notification as an AlertView plus the references it returned
earlier for the same incident (an issue key, a message ts), or a digest as a DigestView. It
returns references to remember, raises DeliveryError (retried) or PermanentDeliveryError
(dead-lettered), or Unsupported when it does not take that kind (kept as suppressed).

Secrets are options like `token: ${SLACK_TOKEN}` (substituted when the config loads) or
`token_env: SLACK_TOKEN` (read when the channel is built, so `requires_env` can skip it).
"""

from __future__ import annotations

import os
import re
from abc import ABC
from typing import ClassVar, Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from ..errors import MonitorError, PermanentDeliveryError
from ..models import Notification, NotificationKind
from ..registry import Registry
from .payload import AlertView, DigestView

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class MissingSecret(MonitorError):
    """A secret option's environment variable is not set (the channel cannot be built)."""


class Unsupported(Exception):
    """This channel does not deliver this kind of notification (a digest to PagerDuty...)."""


class ChannelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str | None = None  # another endpoint: a proxy, a regional API, a test peer

    @model_validator(mode="after")
    def _secret_pairs(self) -> "ChannelOptions":
        for name in type(self).model_fields:
            if not name.endswith("_env"):
                continue
            env_name, plain = getattr(self, name), name[:-4]
            if env_name is None:
                continue
            if not _ENV_NAME.match(env_name):
                raise ValueError(f"{name}: {env_name!r} is not an environment variable name")
            if plain in type(self).model_fields and getattr(self, plain) is not None:
                raise ValueError(f"give either {plain} or {name}, not both")
        return self

    def has_secret(self, name: str) -> bool:
        return getattr(self, name, None) is not None or getattr(self, f"{name}_env", None) is not None

    def resolve_secret(self, name: str) -> str:
        """The secret option `name`, from the config or from the variable `name_env` names."""
        direct = getattr(self, name, None)
        if isinstance(direct, SecretStr):
            direct = direct.get_secret_value()
        if direct:
            return str(direct)
        env_name = getattr(self, f"{name}_env", None)
        if env_name:
            value = os.environ.get(env_name, "")
            if not value:
                raise MissingSecret(f"environment variable {env_name} (options.{name}_env) is not set")
            from ..logging import register_secrets

            register_secrets({value})
            return value
        raise MissingSecret(f"options.{name} (or {name}_env) is required")


def _register_secret_options(options: BaseModel) -> None:
    """Secrets written in the config itself are scrubbed from logs too (httpx logs request URLs)."""
    from ..logging import register_secrets

    values = []
    for name in type(options).model_fields:
        value = getattr(options, name)
        items = value if isinstance(value, list) else [value]
        values += [v.get_secret_value() for v in items if isinstance(v, SecretStr)]
    register_secrets(set(values))


def require_secret(options: ChannelOptions, name: str) -> None:
    if not options.has_secret(name):
        raise ValueError(f"{name} (or {name}_env, the name of an environment variable) is required")


class HttpOptions(ChannelOptions):
    timeout: float = Field(default=10.0, gt=0, le=120)  # seconds, per request


class Channel(ABC):
    type: ClassVar[str] = ""
    Options: ClassVar[type[ChannelOptions]] = ChannelOptions
    takes_alerts: ClassVar[bool] = True
    takes_digests: ClassVar[bool] = False

    def __init__(self, name: str, options: ChannelOptions) -> None:
        self.name = name
        self.options = options
        _register_secret_options(options)

    def deliver(self, notification: Notification, refs: Mapping[str, str] | None = None) -> Mapping[str, str]:
        """Send one outbox row; return references to remember for this incident and channel."""
        if notification.kind == NotificationKind.DIGEST:
            if not self.takes_digests:
                raise Unsupported(f"{self.type} channels do not send digests")
            try:
                digest = DigestView.from_notification(notification)
            except ValueError as exc:
                raise PermanentDeliveryError(str(exc)) from None
            return self.send_digest(digest) or {}
        if not self.takes_alerts:
            raise Unsupported(f"{self.type} channels send digests only")
        return self.send_alert(AlertView.from_notification(notification), dict(refs or {})) or {}

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        raise Unsupported(f"{self.type} channels do not send incident notifications")

    def send_digest(self, digest: DigestView) -> Mapping[str, str] | None:
        raise Unsupported(f"{self.type} channels do not send digests")

    def close(self) -> None:
        """Release connections (called when the app closes)."""


_BUILTINS = {name: f"monitor.alerts.channels.{name}:{cls}" for name, cls in (
    ("pagerduty", "PagerDutyChannel"), ("opsgenie", "OpsgenieChannel"), ("jira", "JiraChannel"),
    ("github", "GitHubChannel"), ("slack", "SlackChannel"), ("webhook", "WebhookChannel"),
    ("email", "EmailChannel"), ("apprise", "AppriseChannel"))}

CHANNELS: Registry[Channel] = Registry("channel", Channel, builtins=_BUILTINS)
