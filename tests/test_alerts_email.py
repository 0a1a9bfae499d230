"""The e-mail channel against aiosmtpd on loopback: plain with auth, STARTTLS, implicit TLS, and a
digest with inline charts parsed back."""

import shutil
import socket
import ssl
import subprocess
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from alert_samples import PNG, digest_notification, incident_notification

from monitor.alerts.base import CHANNELS
from monitor.errors import DeliveryError, PermanentDeliveryError

aiosmtpd = pytest.importorskip("aiosmtpd", reason="aiosmtpd is part of the test extra")
from aiosmtpd.controller import Controller  # noqa: E402
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 OK"

    def parsed(self, i=-1):
        return message_from_bytes(self.envelopes[i].content, policy=default_policy)


def check_login(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"bot", b"s3cret-pass")
    return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), authenticator=check_login,
                            auth_require_tls=False)
    controller.start()
    yield inbox, controller.port
    controller.stop()


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True)
    return cert, key


def email_channel(port: int, **extra):
    options = {"host": "127.0.0.1", "port": port, "security": "none", "sender": "Monitor <monitor@example.com>",
               "to": ["oncall@example.com", "cm@example.com"], **extra}
    cls = CHANNELS.get("email")
    return cls("mail", cls.Options.model_validate(options))


def test_incident_mail_is_text_and_html_escaped_and_threaded(smtp):
    inbox, port = smtp
    mail = email_channel(port, username="bot", password="s3cret-pass")
    mail.deliver(incident_notification("trigger", notification_id=1))
    mail.deliver(incident_notification("update", notification_id=2))
    first, second = inbox.parsed(0), inbox.parsed(1)
    assert inbox.envelopes[0].rcpt_tos == ["oncall@example.com", "cm@example.com"]
    assert first["Subject"].startswith("[monitor] [FIRING] HIGH: Withdrawal complaints surge")
    assert first.get_content_type() == "multipart/alternative"
    text = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert "42 observed vs 3.5 expected" in text and "(20x)" in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "javascript:" not in html
    assert second["In-Reply-To"] == first["Message-ID"] == second["References"]


def test_digest_mail_carries_inline_charts_by_content_id(smtp):
    inbox, port = smtp
    email_channel(port).deliver(digest_notification(images=2))
    msg = inbox.parsed()
    assert msg["Subject"] == "[monitor] Daily digest: 1,234 posts, 2 incidents"
    assert msg.get_content_type() == "multipart/alternative"
    plain, related = msg.get_payload()
    assert plain.get_content_type() == "text/plain" and related.get_content_type() == "multipart/related"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html"
    cids = [image["Content-ID"] for image in images]
    assert cids == ["<chart0>", "<chart1>"] and all(f'src="cid:{c[1:-1]}"' in html.get_content() for c in cids)
    assert all(image.get_content_type() == "image/png" and image.get_content() == PNG for image in images)
    assert images[0].get_content_disposition() == "inline"


def test_digest_without_html_attaches_the_charts(smtp):
    inbox, port = smtp
    email_channel(port).deliver(digest_notification(html=False))
    msg = inbox.parsed()
    attachments = list(msg.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["chart0.png"] and attachments[0].get_content() == PNG


def test_wrong_password_is_permanent_and_a_dead_server_is_retried(smtp):
    _, port = smtp
    with pytest.raises(PermanentDeliveryError, match="refused the login"):
        email_channel(port, username="bot", password="wrong").deliver(incident_notification())
    with pytest.raises(DeliveryError) as exc:
        email_channel(free_port()).deliver(incident_notification())
    assert not isinstance(exc.value, PermanentDeliveryError)


def test_starttls_with_auth(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context, require_starttls=True,
                            authenticator=check_login, auth_require_tls=True)
    controller.start()
    try:
        mail = email_channel(controller.port, security="starttls", username="bot", password="s3cret-pass",
                             ca_file=str(cert))
        mail.deliver(incident_notification())
        assert len(inbox.envelopes) == 1
        with pytest.raises(PermanentDeliveryError, match="not trusted"):
            email_channel(controller.port, security="starttls").deliver(incident_notification())
    finally:
        controller.stop()


def test_implicit_tls(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), ssl_context=context)
    controller.start()
    try:
        email_channel(controller.port, base_url=f"smtps://127.0.0.1:{controller.port}", security="none",
                      ca_file=str(cert)).deliver(digest_notification())
        assert len(inbox.envelopes) == 1
    finally:
        controller.stop()


def test_email_options_are_checked():
    cls = CHANNELS.get("email")
    with pytest.raises(ValueError, match="host"):
        cls.Options.model_validate({"sender": "a@b.c", "to": ["x@y.z"]})
    with pytest.raises(ValueError, match="password"):
        cls.Options.model_validate({"host": "h", "sender": "a@b.c", "to": ["x@y.z"], "username": "u"})
    with pytest.raises(ValueError, match="smtp://"):
        cls.Options.model_validate({"base_url": "http://h", "sender": "a@b.c", "to": ["x@y.z"]})
