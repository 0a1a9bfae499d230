"""E-mail over SMTP (STARTTLS, implicit TLS or plain; optional auth).

An incident notification is multipart/alternative (text and HTML); its Message-ID is derived
from the notification id (a resend carries the same one) and every message of an incident
references the first, so mail clients thread them. A digest is multipart/alternative with the
HTML in a multipart/related part that carries the charts inline by Content-ID.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Literal, Mapping
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, model_validator

from ...errors import DeliveryError, PermanentDeliveryError
from ..base import ChannelOptions, Channel
from ..payload import AlertView, DigestView
from ..render import clip, headline, html_body, text_body

DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}


class EmailOptions(ChannelOptions):
    host: str | None = None  # or base_url: smtp://host:port (smtps:// for implicit TLS)
    port: int | None = None
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    password_env: str | None = None
    sender: str  # From:
    to: list[str] = Field(min_length=1)
    subject_prefix: str = "[monitor]"
    timeout: float = Field(default=20.0, gt=0, le=300)
    ca_file: str | None = None  # a CA bundle for a server with a private certificate
    verify: bool = True  # verify the server's certificate (keep on outside tests)

    @model_validator(mode="after")
    def _server(self) -> "EmailOptions":
        if self.base_url:
            parts = urlsplit(self.base_url)
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                raise ValueError("base_url must look like smtp://host:port or smtps://host:port")
            self.host, self.port = parts.hostname, parts.port or self.port
            if parts.scheme == "smtps":
                self.security = "tls"
        if not self.host:
            raise ValueError("host (or base_url) is required")
        if self.username and not self.has_secret("password"):
            raise ValueError("username needs password (or password_env)")
        return self


class EmailChannel(Channel):
    type = "email"
    Options = EmailOptions
    options: EmailOptions
    takes_digests = True

    def __init__(self, name: str, options: EmailOptions) -> None:
        super().__init__(name, options)
        self.password = options.resolve_secret("password") if options.username else None
        self.domain = options.sender.rpartition("@")[2].strip("> ") or "feedback-monitor.local"

    def send_alert(self, alert: AlertView, refs: dict[str, str]) -> Mapping[str, str] | None:
        msg = self._message(headline(alert, 200), alert.notification_id)
        root = f"<monitor.incident.{hashlib.sha256(alert.dedup_key.encode()).hexdigest()[:24]}@{self.domain}>"
        if alert.event == "trigger":
            msg.replace_header("Message-ID", root)
        else:
            msg["In-Reply-To"] = root
            msg["References"] = root
        msg.set_content(text_body(alert))
        msg.add_alternative(html_body(alert), subtype="html")
        self._send(msg)
        return None

    def send_digest(self, digest: DigestView) -> Mapping[str, str] | None:
        # the digest owns its MIME layout (text + HTML with inline charts); this channel owns
        # the envelope: prefix, a Message-ID stable across resends, and auto-reply suppression
        from ...digest.mime import build_email

        payload = {**digest.payload, "subject": f"{self.options.subject_prefix} {digest.subject}".strip()}
        msg = build_email(payload, self.options.sender, self.options.to)
        msg.replace_header("Message-ID", f"<monitor.notification.{digest.notification_id}@{self.domain}>")
        msg["Auto-Submitted"] = "auto-generated"
        self._send(msg)
        return None

    def _message(self, subject: str, notification_id: int | None) -> EmailMessage:
        o = self.options
        msg = EmailMessage()
        msg["Subject"] = clip(f"{o.subject_prefix} {subject}".strip(), 250)
        msg["From"] = o.sender
        msg["To"] = ", ".join(o.to)
        msg["Date"] = formatdate(usegmt=True)
        msg["Message-ID"] = f"<monitor.notification.{notification_id}@{self.domain}>"
        msg["Auto-Submitted"] = "auto-generated"
        return msg

    def _context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.options.ca_file)
        if not self.options.verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def _send(self, msg: EmailMessage) -> None:
        o = self.options
        port = o.port or DEFAULT_PORTS[o.security]
        what = f"email {self.name}"
        try:
            if o.security == "tls":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(o.host, port, timeout=o.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(o.host, port, timeout=o.timeout)
            with smtp:
                if o.security == "starttls":
                    smtp.starttls(context=self._context())
                if o.username:
                    smtp.login(o.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentDeliveryError(f"{what}: the server refused the login ({exc.smtp_code})") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise PermanentDeliveryError(f"{what}: recipients refused: {', '.join(exc.recipients)}") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise PermanentDeliveryError(f"{what}: {exc}") from None
        except smtplib.SMTPResponseException as exc:
            cls = DeliveryError if 400 <= exc.smtp_code < 500 else PermanentDeliveryError
            raise cls(f"{what}: SMTP {exc.smtp_code}: {exc.smtp_error[:200]!r}") from None
        except ssl.SSLCertVerificationError as exc:
            raise PermanentDeliveryError(f"{what}: certificate not trusted: {exc.verify_message}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{what}: {type(exc).__name__}: {exc}") from None
