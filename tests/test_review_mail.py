"""E-mail through a real SMTP server (aiosmtpd) on 127.0.0.1, with and without STARTTLS and a login."""

from __future__ import annotations

import ssl
import subprocess
from datetime import datetime
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from conftest import Inbox, free_port

from housing_assurance.review.mail import (
    PASSWORD_ENV,
    USER_ENV,
    DigestRow,
    EmailSettings,
    MailError,
    MailSettingsError,
    SmtpCredentials,
    digest_message,
    load_email_settings,
    pdf_message,
    send,
    smtp_credentials,
)
from housing_assurance.settings import PROJECT_ROOT

PDF = b"%PDF-1.7\n" + bytes(range(256)) * 4 + b"\n%%EOF\n"
COMMITTEE = ["chief.executive@example.org", "chair@example.org"]


def _settings(port: int, starttls: bool = False) -> EmailSettings:
    return EmailSettings("127.0.0.1", port, starttls, "assurance@example.org", tuple(COMMITTEE))


@pytest.fixture
def tls_smtp_server(tmp_path, monkeypatch):
    """A server that insists on STARTTLS and a login, with a certificate for 127.0.0.1 the client is told to trust."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # what a landlord with its own certificate authority sets
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"relay", b"s3cret")
        return AuthResult(success=ok, handled=False)  # handled=False: the server itself answers 235 or 535

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticator, auth_required=True)
    controller.start()
    yield inbox, controller.port
    controller.stop()


def test_the_pack_goes_to_each_recipient_with_the_pdf_attached_unchanged(smtp_server):
    inbox, port = smtp_server
    settings = _settings(port)
    message = pdf_message(settings, "Weekly assurance pack, week ending 22 Nov 2026", "The pack is attached.", PDF,
                          "pack-2026-11-22.pdf")
    send(settings, message)
    [(sender, recipients, received)] = inbox.received
    assert (sender, recipients) == ("assurance@example.org", COMMITTEE)
    assert received["Subject"] == "Weekly assurance pack, week ending 22 Nov 2026"
    [attachment] = list(received.iter_attachments())
    assert (attachment.get_content_type(), attachment.get_filename()) == ("application/pdf", "pack-2026-11-22.pdf")
    assert attachment.get_content() == PDF
    assert received.get_body(("plain",)).get_content().strip() == "The pack is attached."

    send(settings, pdf_message(settings, "Just one", "x", PDF, "p.pdf", recipients=["chair@example.org"]))
    assert inbox.received[1][1] == ["chair@example.org"]
    with pytest.raises(MailError, match="not a PDF"):
        pdf_message(settings, "Not a pack", "x", b"<html></html>", "pack.html")


def test_starttls_and_a_login_from_the_environment(tls_smtp_server, monkeypatch):
    inbox, port = tls_smtp_server
    settings = _settings(port, starttls=True)
    monkeypatch.setenv(USER_ENV, "relay")
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    send(settings, pdf_message(settings, "Pack", "Attached.", PDF, "pack.pdf"), smtp_credentials())
    [(_, recipients, received)] = inbox.received
    assert recipients == COMMITTEE
    assert next(received.iter_attachments()).get_content() == PDF

    with pytest.raises(MailError, match="could not send 'Pack' through 127.0.0.1") as caught:
        send(settings, pdf_message(settings, "Pack", "Attached.", PDF, "pack.pdf"), SmtpCredentials("relay", "wrong"))
    assert "wrong" not in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(MailError, match="could not send"):  # the server insists on STARTTLS
        send(_settings(port, starttls=False), pdf_message(settings, "Pack", "Attached.", PDF, "pack.pdf"))
    assert len(inbox.received) == 1


def test_a_password_is_never_sent_unencrypted(smtp_server):
    inbox, port = smtp_server
    settings = _settings(port, starttls=False)
    with pytest.raises(MailError, match="refusing to send the SMTP password unencrypted"):
        send(settings, pdf_message(settings, "Pack", "x", PDF, "p.pdf"), SmtpCredentials("relay", "s3cret"))
    assert inbox.received == []


def test_credentials_come_from_the_environment_both_or_neither():
    assert smtp_credentials({}) is None
    credentials = smtp_credentials({USER_ENV: "relay", PASSWORD_ENV: "s3cret"})
    assert credentials == SmtpCredentials("relay", "s3cret")
    assert "s3cret" not in repr(credentials)
    with pytest.raises(MailSettingsError) as caught:
        smtp_credentials({USER_ENV: "relay"})
    assert str(caught.value) == (f"{USER_ENV} is set but {PASSWORD_ENV} is not: set both for an SMTP login, "
                                 "or neither")


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "review.toml"
    path.write_text(body, encoding="utf-8")
    return path


GOOD = """[email]
host = "smtp.example.org"
port = 587
starttls = true
sender = "assurance@example.org"
pack_recipients = ["committee@example.org"]
"""


def test_the_shipped_settings_file_is_valid():
    """Valid also means no key beyond the five: a password written into it would be refused."""
    settings = load_email_settings(PROJECT_ROOT / "settings" / "review.toml")
    assert (settings.port, settings.starttls) == (587, True)


def test_a_misspelt_key_is_one_clear_line(tmp_path):
    path = _write(tmp_path, GOOD.replace("port = 587", "prot = 587"))
    with pytest.raises(MailSettingsError) as caught:
        load_email_settings(path)
    assert caught.value.problems == [f"{path}: [email] prot = 587: unknown key; did you mean port?"]
    assert str(caught.value) == caught.value.problems[0]


def test_a_password_written_into_the_settings_is_refused_without_being_repeated(tmp_path):
    path = _write(tmp_path, GOOD + 'smtp_password = "hunter2"\n')
    with pytest.raises(MailSettingsError) as caught:
        load_email_settings(path)
    assert caught.value.problems == [
        f"{path}: [email] smtp_password = (not shown): credentials are never kept in a settings file; "
        f"set {USER_ENV} and {PASSWORD_ENV} in the environment"]
    assert "hunter2" not in str(caught.value)


def test_every_mistake_is_one_line_naming_file_key_and_value(tmp_path):
    body = (GOOD.replace("port = 587", 'port = "587"').replace("starttls = true", 'starttls = "yes"')
            .replace('sender = "assurance@example.org"', 'sender = "assurance"')
            .replace('["committee@example.org"]', '"committee@example.org"').replace('host = "smtp.example.org"\n', ""))
    path = _write(tmp_path, body + "colour = 'blue'\n")
    with pytest.raises(MailSettingsError) as caught:
        load_email_settings(path)
    assert caught.value.problems == [
        f"{path}: [email] colour = 'blue': unknown key; the keys are host, port, starttls, sender, pack_recipients",
        f"{path}: [email] host is missing",
        f"{path}: [email] port = '587': expected a whole number from 1 to 65535, such as 587",
        f"{path}: [email] starttls = 'yes': expected true or false (no quotes)",
        f"{path}: [email] sender = 'assurance': expected an e-mail address",
        f"{path}: [email] pack_recipients = 'committee@example.org': expected a list of e-mail addresses, "
        'such as ["committee@example.org"]',
    ]
    assert load_email_settings(_write(tmp_path, GOOD)) == EmailSettings(
        "smtp.example.org", 587, True, "assurance@example.org", ("committee@example.org",))
    with pytest.raises(MailSettingsError, match=r"no \[email\] table"):
        load_email_settings(_write(tmp_path, "[mail]\nhost = 'x'\n"))
    with pytest.raises(MailSettingsError, match="no such file"):
        load_email_settings(tmp_path / "absent.toml")


def test_the_managers_digest_groups_overdue_and_the_next_five_working_days(smtp_server):
    inbox, port = smtp_server
    settings = _settings(port)
    now = datetime(2026, 12, 24, 9, 0)  # Thursday; Christmas, the Boxing Day holiday and New Year's Day follow
    team = "Repairs <North> & Co"
    rows = [
        DigestRow("DM000253", "Investigated within 10 working days", datetime(2026, 12, 24, 8, 59), team, False),
        DigestRow("CX000101", "Stage 1 response", datetime(2026, 12, 22, 23, 59, 59), team, True),
        DigestRow("DM000400", "Written summary", datetime(2027, 1, 5, 23, 59, 59), team, False),  # 5th working day
        DigestRow("DM000500", "Safety work", datetime(2027, 1, 6, 10, 0), team, False),  # 6th: a later digest
        DigestRow("RP000777", "Emergency made safe", datetime(2026, 12, 29, 17, 0), "Repairs South", True),
    ]
    message = digest_message(settings, "repairs.north@example.org", rows, now)
    assert message["Subject"] == "Clocks for your teams, 24 Dec 2026: 2 overdue, 2 due in the next 5 working days"
    send(settings, message)
    [(_, recipients, received)] = inbox.received
    assert recipients == ["repairs.north@example.org"]
    text = received.get_body(("plain",)).get_content().replace("\r\n", "\n")  # SMTP carries CRLF line ends
    overdue, due = text.split("Overdue (2)\n")[1].split("Due in the next 5 working days, to 5 Jan 2027 (2)\n")
    assert [line.split()[0] for line in overdue.strip().splitlines()] == ["CX000101", "DM000253"]
    assert [line.split()[0] for line in due.splitlines()[:2]] == ["RP000777", "DM000400"]
    assert "DM000500" not in text
    assert "CX000101  Stage 1 response  deadline 22 Dec 2026 23:59  Repairs <North> & Co  vulnerable household" in text
    html = received.get_body(("html",)).get_content()
    assert "<td>Repairs &lt;North&gt; &amp; Co</td>" in html and "<North>" not in html
    assert html.index("CX000101") < html.index("DM000253") < html.index("RP000777") < html.index("DM000400")
    assert "DM000500" not in html

    empty = digest_message(settings, "repairs.north@example.org", [], now).get_body(("plain",)).get_content()
    assert "Overdue (0)\n  none" in empty
    with pytest.raises(MailError, match="not an e-mail address"):
        digest_message(settings, "Repairs North", rows, now)
