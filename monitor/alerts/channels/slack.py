"""Slack: an incoming webhook, or the Web API with a bot token.

With the Web API (token + channel) each incident is one message; updates are replies in its
thread and the message itself is edited to show acknowledgement and resolution. Messages carry
metadata with the dedup key and notification id, so a retry after a crash finds the message it
already posted (conversations.history/replies) instead of posting it again. Digests post their
text and upload their charts into the digest's thread.

An incoming webhook cannot thread, edit or look anything up: every notification is a new
message, and a retry after a crash may post twice.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

import httpx
from pydantic import SecretStr, model_validator

from ...errors import DeliveryError, PermanentDeliveryError
from ..base import Channel, HttpOptions
from ..payload import AlertView, DigestView
from .http import Http
from .slack_blocks import alert_blocks, alert_text, digest_blocks

RETRYABLE = {"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
METADATA_TYPE = "monitor_notification"


class SlackOptions(HttpOptions):
    webhook_url: SecretStr | None = None  # incoming webhook
    webhook_url_env: str | None = None
    token: SecretStr | None = None  # Web API bot token (chat:write; channels:history for crash-safe retries;
    token_env: str | None = None  # files:write for digest charts)
    channel: str | None = None  # a channel ID (C0123...) for the Web API
    mention: str | None = None  # added to triggers and escalations, e.g. "<!subteam^S0123>" or "<!here>"
    broadcast_resolved: bool = True  # thread replies for resolve/escalate also go to the channel
    digest_markdown_block: bool = True  # digests as a Block Kit markdown block (else mrkdwn sections)

    @model_validator(mode="after")
    def _mode(self) -> "SlackOptions":
        webhook, api = self.has_secret("webhook_url"), self.has_secret("token")
        if webhook == api:
            raise ValueError("give either webhook_url (incoming webhook) or token with channel (Web API)")
        if api and not self.channel:
            raise ValueError("the Web API needs channel (a channel ID such as C0123ABC)")
        return self


class SlackChannel(Channel):
    type = "slack"
    Options = SlackOptions
    options: SlackOptions
    takes_digests = True

    def __init__(self, name: str, options: SlackOptions) -> None:
        super().__init__(name, options)
        self.webhook = options.resolve_secret("webhook_url") if options.has_secret("webhook_url") else None
        headers = {} if self.webhook else {"Authorization": f"Bearer {options.resolve_secret('token')}"}
        self.http = Http(options.base_url or "https://slack.com/api", options.timeout, f"slack {name}", headers=headers)

    # --- incident notifications -------------------------------------------------------

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        loud = alert.event in ("trigger", "escalate")
        mention = self.options.mention if loud else None
        if self.webhook:
            self._webhook({"text": alert_text(alert, mention), "blocks": alert_blocks(alert, mention)})
            return None
        ts, channel = refs.get("ts"), refs.get("channel") or self.options.channel
        meta = self._metadata(alert.dedup_key, alert.notification_id)
        if ts is None:  # the incident's message (or its trigger was dead-lettered: start one now)
            found = self._find(channel, None, alert.dedup_key, None) if alert.attempts > 1 else None
            if found:
                return {"ts": found, "channel": channel}
            answer = self._api("chat.postMessage", channel=channel, text=alert_text(alert, mention),
                               blocks=alert_blocks(alert, mention), metadata=meta, unfurl_links=False,
                               unfurl_media=False)
            return {"ts": answer["ts"], "channel": answer.get("channel") or channel}
        if alert.attempts <= 1 or not self._find(channel, ts, alert.dedup_key, alert.notification_id):
            self._api("chat.postMessage", channel=channel, thread_ts=ts, text=alert_text(alert, mention),
                      blocks=alert_blocks(alert, mention, brief=True), metadata=meta, unfurl_links=False,
                      unfurl_media=False,
                      reply_broadcast=bool(self.options.broadcast_resolved and alert.event in ("resolve", "escalate")))
        if alert.event in ("acknowledge", "resolve", "escalate"):
            # the root message shows the current state (editing is idempotent)
            self._api("chat.update", channel=channel, ts=ts, text=alert_text(alert), blocks=alert_blocks(alert))
        return {"ts": ts, "channel": channel}

    # --- digests ----------------------------------------------------------------------

    def send_digest(self, digest: DigestView) -> Mapping[str, str] | None:
        blocks = digest_blocks(digest, self.options.digest_markdown_block)
        text = digest.subject
        if self.webhook:
            self._webhook({"text": text, "blocks": blocks})
            return None
        channel = self.options.channel
        meta = self._metadata(f"digest/{digest.notification_id}", digest.notification_id)
        answer = self._api("chat.postMessage", channel=channel, text=text, blocks=blocks, metadata=meta,
                           unfurl_links=False, unfurl_media=False)
        channel_id, ts = answer.get("channel") or channel, answer["ts"]
        if digest.images:
            self._upload(digest, channel_id, ts)
        return {"ts": ts}

    def _upload(self, digest: DigestView, channel_id: str, thread_ts: str) -> None:
        files = []
        for image in digest.images:
            ticket = self._api("files.getUploadURLExternal", form=True, filename=image.filename,
                               length=str(len(image.content)))
            try:  # the upload URL is Slack's own: it needs no token
                response = httpx.post(ticket["upload_url"], files={"file": (image.filename, image.content, image.mime)},
                                      timeout=self.options.timeout)
            except httpx.HTTPError as exc:
                raise DeliveryError(f"slack {self.name}: uploading {image.filename} failed: {type(exc).__name__}") from None
            if response.status_code >= 400:
                raise DeliveryError(f"slack {self.name}: uploading {image.filename} failed: HTTP {response.status_code}")
            files.append({"id": ticket["file_id"], "title": image.filename})
        self._api("files.completeUploadExternal", form=True, files=json.dumps(files), channel_id=channel_id,
                  thread_ts=thread_ts)

    # --- plumbing ---------------------------------------------------------------------

    @staticmethod
    def _metadata(dedup: str, notification_id: int | None) -> dict:
        return {"event_type": METADATA_TYPE, "event_payload": {"dedup_key": dedup, "notification_id": notification_id}}

    def _find(self, channel: str | None, thread_ts: str | None, dedup: str, notification_id: int | None) -> str | None:
        """A message this monitor already posted (found by its metadata), for retries after a crash."""
        if not channel or not channel[:1] in "CGD":
            return None
        method, args = ("conversations.replies", {"ts": thread_ts}) if thread_ts else ("conversations.history", {})
        answer = self._api(method, form=True, channel=channel, limit="100", include_all_metadata="true", **args)
        for message in answer.get("messages") or ():
            payload = ((message.get("metadata") or {}).get("event_payload")) or {}
            if payload.get("dedup_key") == dedup and (notification_id is None
                                                     or payload.get("notification_id") == notification_id):
                return str(message.get("ts"))
        return None

    def _api(self, method: str, form: bool = False, **args: Any) -> dict:
        args = {k: v for k, v in args.items() if v is not None}
        kwargs = {"data": args} if form else {"json": args}
        answer = self.http.json(self.http.request("POST", f"/{method}", **kwargs))
        if not answer.get("ok"):
            error = str(answer.get("error") or "unknown_error")
            cls = DeliveryError if error in RETRYABLE else PermanentDeliveryError
            raise cls(f"slack {self.name}: {method} failed: {error}")
        return answer

    def _webhook(self, body: dict) -> None:
        assert self.webhook is not None
        self.http.request("POST", self.webhook, json=body)

    def close(self) -> None:
        self.http.close()
