"""A generic JSON webhook, signed: `X-Monitor-Signature: sha256=<hex HMAC-SHA256 of the body>`.

Receivers dedupe on `X-Monitor-Delivery` (the notification id, the same on every retry) and
group by `dedup_key` in the body. With base_url set, `url` may be a path under it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Mapping

from pydantic import Field, SecretStr

from ..base import Channel, HttpOptions
from ..payload import AlertView, DigestView
from ..render import markdown_body, text_body
from .http import Http


class WebhookOptions(HttpOptions):
    url: str
    secret: SecretStr | None = None  # HMAC key; without one the body is sent unsigned
    secret_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)  # extra headers (values may use ${VAR})


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel(Channel):
    type = "webhook"
    Options = WebhookOptions
    options: WebhookOptions
    takes_digests = True

    def __init__(self, name: str, options: WebhookOptions) -> None:
        super().__init__(name, options)
        self.secret = options.resolve_secret("secret") if options.has_secret("secret") else None
        self.http = Http(options.base_url or "", options.timeout, f"webhook {name}", headers=options.headers)

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        self._post(alert.notification_id, alert.kind.value, alert.event, alert.at, alert.dedup_key, {
            "text": text_body(alert), "markdown": markdown_body(alert),
            "incident": dict(alert.payload.get("incident") or {}), "summary": dict(alert.payload.get("summary") or {})})
        return None

    def send_digest(self, digest: DigestView) -> Mapping[str, str] | None:
        self._post(digest.notification_id, "digest", "digest", None, digest.dedup_key, {"digest": dict(digest.payload)})
        return None

    def _post(self, notification_id: int | None, kind: str, event: str, at: str | None, dedup: str,
              extra: dict[str, Any]) -> None:
        body = {"version": 1, "notification_id": notification_id, "channel": self.name, "kind": kind, "event": event,
                "at": at, "dedup_key": dedup, **extra}
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "X-Monitor-Event": event,
                   "X-Monitor-Delivery": str(notification_id), "Idempotency-Key": f"monitor-{notification_id}"}
        if self.secret:
            headers["X-Monitor-Signature"] = sign(self.secret, raw)
        self.http.request("POST", self.options.url, content=raw, headers=headers)

    def close(self) -> None:
        self.http.close()
