"""The digest as an e-mail: multipart/alternative with a plain-text part and an HTML part whose
charts travel inline, referenced by Content-ID.

    multipart/alternative
    ├── text/plain
    └── multipart/related
        ├── text/html            (<img src="cid:volume.chart@feedback-monitor">)
        └── image/png            (Content-ID: <volume.chart@feedback-monitor>, inline)

The alerting package's e-mail channel sends what `build_email` returns, so the digest's
payload contract and its MIME layout live in one place.
"""

from __future__ import annotations

import base64
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Mapping, Sequence


def build_email(payload: Mapping[str, Any], sender: str, recipients: Sequence[str]) -> EmailMessage:
    """An EmailMessage from a digest payload ({"subject", "text", "html", "markdown", "images"})."""
    if not recipients:
        raise ValueError("an e-mail needs at least one recipient")
    msg = EmailMessage()
    subject = _one_line(str(payload.get("subject") or ""))
    msg["Subject"] = subject if subject.isascii() else _EncodedSubject(subject)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    msg.set_content(str(payload.get("text") or ""), subtype="plain", charset="utf-8")
    html = payload.get("html")
    images = list(payload.get("images") or [])
    if html:
        msg.add_alternative(str(html), subtype="html", charset="utf-8")
        html_part = msg.get_payload()[-1]
        for image in images:
            maintype, _, subtype = str(image.get("mime", "image/png")).partition("/")
            html_part.add_related(base64.b64decode(image["content_b64"]), maintype=maintype, subtype=subtype,
                                  cid=f"<{image['cid']}>", filename=image.get("filename"), disposition="inline")
    else:  # plain-text digest: the charts come along as attachments
        for image in images:
            maintype, _, subtype = str(image.get("mime", "image/png")).partition("/")
            msg.add_attachment(base64.b64decode(image["content_b64"]), maintype=maintype, subtype=subtype,
                               filename=image.get("filename"))
    return msg


class _EncodedSubject(str):
    """A non-ASCII Subject folded into RFC 2047 encoded words that keep their spaces.

    Python 3.11's header folder can break a line at the space between two encoded words, and
    decoders drop whitespace there ("08:00 至" arrives as "08:00至"). email.header.Header
    splits inside the encoded text instead; the policy uses this object's fold() as it is.
    """

    name = "Subject"

    def fold(self, *, policy) -> str:  # noqa: ANN001 - an email.policy.Policy
        encoded = Header(str(self), "utf-8", header_name=self.name).encode(linesep="\n")
        return f"{self.name}: " + encoded.replace("\n", policy.linesep) + policy.linesep


def _one_line(text: str) -> str:
    # a header must not carry line breaks (header injection)
    return " ".join(text.split())
