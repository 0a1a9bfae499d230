"""Any apprise URL for the long tail: Telegram, Discord, Microsoft Teams, Matrix, ntfy...

Put secrets in the URL through the environment (`urls: ["tgram://${TG_TOKEN}/${TG_CHAT}"]`).
Apprise reports only success or failure, so every failure is retried; it cannot find an
earlier message, so a retry after a crash may post twice. Digest charts go as attachments.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal, Mapping

import apprise
from pydantic import Field, SecretStr, field_validator, model_validator

from ...errors import DeliveryError
from ..base import Channel, ChannelOptions
from ..payload import AlertView, DigestView
from ..render import headline, markdown_body, text_body

BODY_LIMIT = 30000


class AppriseOptions(ChannelOptions):
    urls: list[SecretStr] = Field(min_length=1)  # apprise URLs (secret: they usually hold tokens)
    body_format: Literal["markdown", "text"] = "markdown"

    @field_validator("urls")
    @classmethod
    def _known(cls, urls: list[SecretStr]) -> list[SecretStr]:
        for i, url in enumerate(urls):
            if apprise.Apprise.instantiate(url.get_secret_value()) is None:
                raise ValueError(f"urls.{i}: not an apprise URL that apprise can load (see the apprise wiki)")
        return urls

    @model_validator(mode="after")
    def _no_base_url(self) -> "AppriseOptions":
        if self.base_url is not None:
            raise ValueError("base_url does not apply to apprise: each entry of urls names its own endpoint")
        return self


class AppriseChannel(Channel):
    type = "apprise"
    Options = AppriseOptions
    options: AppriseOptions
    takes_digests = True

    def __init__(self, name: str, options: AppriseOptions) -> None:
        super().__init__(name, options)
        from ...logging import register_secrets

        register_secrets({u.get_secret_value() for u in options.urls})
        self.client = apprise.Apprise()
        for url in options.urls:
            self.client.add(url.get_secret_value())

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        markdown = self.options.body_format == "markdown"
        body = markdown_body(alert, BODY_LIMIT) if markdown else text_body(alert, BODY_LIMIT)
        self._notify(headline(alert, 250), body, markdown, alert.event)
        return None

    def send_digest(self, digest: DigestView) -> Mapping[str, str] | None:
        markdown = self.options.body_format == "markdown" and bool(digest.markdown)
        body = (digest.markdown if markdown else digest.text) or digest.subject
        if not digest.images:
            self._notify(digest.subject, body, markdown, "digest")
            return None
        with tempfile.TemporaryDirectory(prefix="monitor-digest-") as folder:
            attach = apprise.AppriseAttachment()
            for image in digest.images:
                path = Path(folder) / Path(image.filename).name
                path.write_bytes(image.content)
                attach.add(str(path))
            self._notify(digest.subject, body, markdown, "digest", attach)
        return None

    def _notify(self, title: str, body: str, markdown: str | bool, event: str, attach=None) -> None:
        notify_type = {"resolve": apprise.NotifyType.SUCCESS, "trigger": apprise.NotifyType.FAILURE,
                       "escalate": apprise.NotifyType.FAILURE}.get(event, apprise.NotifyType.INFO)
        result = self.client.notify(body=body, title=title, notify_type=notify_type, attach=attach,
                                    body_format=apprise.NotifyFormat.MARKDOWN if markdown else apprise.NotifyFormat.TEXT)
        if not result:
            raise DeliveryError(f"apprise {self.name}: {getattr(result, 'failed_count', '?')} of "
                                f"{len(self.options.urls)} service(s) failed")
