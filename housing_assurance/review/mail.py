"""E-mail: the weekly pack to the committee's list, and each manager's digest of clocks overdue or due soon.

Server settings come from the [email] table of settings/review.toml, the SMTP user and password only
from the environment, so no secret is ever in the repository. A digest carries case ids, clock
names and team names only: it travels through mail systems the landlord does not control.
"""

from __future__ import annotations

import difflib
import html
import os
import re
import smtplib
import ssl
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from email.message import EmailMessage
from pathlib import Path

from housing_assurance.clocks import DUE_SOON_WINDOW
from housing_assurance.due import window_last_day
from housing_assurance.settings import settings_dir
from housing_assurance.words import date_text

USER_ENV = "HOUSING_ASSURANCE_SMTP_USER"
PASSWORD_ENV = "HOUSING_ASSURANCE_SMTP_PASSWORD"
DIGEST_WORKING_DAYS = DUE_SOON_WINDOW.length  # the "Due soon" window of kpis.md, written once in clocks.py
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_KEYS = ("host", "port", "starttls", "sender", "pack_recipients")
_CREDENTIAL_WORDS = ("pass", "secret", "user", "login", "token")  # such a key's value is never echoed


class MailError(Exception):
    """E-mail could not be sent, in one line."""


class MailSettingsError(MailError):
    """The e-mail settings are wrong: one line per mistake, naming the file, the key and the value."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


@dataclass(frozen=True)
class EmailSettings:
    host: str
    port: int
    starttls: bool
    sender: str
    pack_recipients: tuple[str, ...]


@dataclass(frozen=True)
class SmtpCredentials:
    user: str
    password: str = field(repr=False)  # never printed, logged or shown in an error


@dataclass(frozen=True)
class DigestRow:
    """One clock for the digest: `deadline` is the last instant that meets it (Europe/London, as `due` gives it)."""

    id: str
    clock: str
    deadline: datetime
    team: str
    vulnerable: bool


def email_settings_file() -> Path:
    return settings_dir() / "review.toml"


def _is_email(value: object) -> bool:
    return isinstance(value, str) and _EMAIL.fullmatch(value) is not None


def load_email_settings(path: Path | None = None) -> EmailSettings:
    """The [email] table, checked whole: every mistake is reported at once, one line each."""
    path = path or email_settings_file()
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except FileNotFoundError:
        raise MailSettingsError([f"{path}: no such file; e-mail needs its [email] table"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise MailSettingsError([f"{path}: not valid TOML ({exc})"]) from None
    table = raw.get("email")
    if not isinstance(table, dict):
        raise MailSettingsError([f"{path}: no [email] table"])

    problems = []

    def wrong(key: str, expected: str) -> None:
        problems.append(f"{path}: [email] {key} = {table[key]!r}: expected {expected}")

    missing = [key for key in _KEYS if key not in table]
    for key in table:
        if key not in _KEYS and any(word in key.lower() for word in _CREDENTIAL_WORDS):
            problems.append(f"{path}: [email] {key} = (not shown): credentials are never kept in a settings file; "
                            f"set {USER_ENV} and {PASSWORD_ENV} in the environment")
        elif key not in _KEYS:
            near = difflib.get_close_matches(key, missing, n=1)
            hint = f"did you mean {near[0]}?" if near else f"the keys are {', '.join(_KEYS)}"
            problems.append(f"{path}: [email] {key} = {table[key]!r}: unknown key; {hint}")
            missing = [m for m in missing if m not in near]  # a misspelt key is one mistake, not two
    problems += [f"{path}: [email] {key} is missing" for key in missing]
    host, port, starttls = table.get("host"), table.get("port"), table.get("starttls")
    sender, recipients = table.get("sender"), table.get("pack_recipients")
    if host is not None and not (isinstance(host, str) and host.strip() and " " not in host.strip()):
        wrong("host", "a host name such as smtp.example.org")
    if port is not None and not (isinstance(port, int) and not isinstance(port, bool) and 0 < port < 65536):
        wrong("port", "a whole number from 1 to 65535, such as 587")
    if starttls is not None and not isinstance(starttls, bool):
        wrong("starttls", "true or false (no quotes)")
    if sender is not None and not _is_email(sender):
        wrong("sender", "an e-mail address")
    if recipients is not None and not (isinstance(recipients, list) and recipients
                                       and all(_is_email(r) for r in recipients)):
        wrong("pack_recipients", 'a list of e-mail addresses, such as ["committee@example.org"]')
    if problems:
        raise MailSettingsError(problems)
    return EmailSettings(host.strip(), port, starttls, sender, tuple(recipients))


def smtp_credentials(environ: Mapping[str, str] = os.environ) -> SmtpCredentials | None:
    """The SMTP login from the environment, or None for a relay that needs none."""
    user, password = environ.get(USER_ENV, ""), environ.get(PASSWORD_ENV, "")
    if not user and not password:
        return None
    if not user or not password:
        given, absent = (USER_ENV, PASSWORD_ENV) if user else (PASSWORD_ENV, USER_ENV)
        raise MailSettingsError([f"{given} is set but {absent} is not: set both for an SMTP login, or neither"])
    return SmtpCredentials(user, password)


def pdf_message(settings: EmailSettings, subject: str, text: str, pdf: bytes, filename: str,
                recipients: Iterable[str] | None = None) -> EmailMessage:
    """A plain-text message with the PDF attached, to `recipients` (default the pack's distribution list)."""
    to = list(settings.pack_recipients if recipients is None else recipients)
    if not to:
        raise MailError(f"no recipients for {subject!r}")
    if not pdf.startswith(b"%PDF-"):
        raise MailError(f"{filename} is not a PDF")
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.sender, ", ".join(to), subject
    message.set_content(text)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
    return message


def send(settings: EmailSettings, message: EmailMessage, credentials: SmtpCredentials | None = None,
         timeout: float = 30) -> None:
    """Deliver over SMTP (STARTTLS first when set); every recipient is accepted or MailError says who was not."""
    if credentials is not None and not settings.starttls:
        raise MailError("refusing to send the SMTP password unencrypted: set starttls = true in [email]")
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if credentials is not None:
                smtp.login(credentials.user, credentials.password)
            refused = smtp.send_message(message)
    except OSError as exc:  # smtplib's and ssl's errors are OSErrors too
        raise MailError(f"could not send {message['Subject']!r} through {settings.host}:{settings.port}: "
                        f"{exc}") from None
    if refused:
        raise MailError(f"{message['Subject']!r} was sent, but the server refused {', '.join(sorted(refused))}")


def digest_message(settings: EmailSettings, manager_email: str, rows: Iterable[DigestRow],
                   now: datetime, last_day: date | None = None) -> EmailMessage:
    """One manager's weekly digest: clocks already overdue, and clocks due in the next 5 working days.

    `now` is Europe/London local time, like the deadlines. Clocks due later are left for a later digest.
    `last_day`: the last day looked ahead to, when the caller's list has its own window (the "Due soon"
    list of the week ending D, sent as at the end of D, runs to the fifth working day after D).
    """
    if not _is_email(manager_email):
        raise MailError(f"{manager_email!r} is not an e-mail address")
    rows = list(rows)
    horizon = datetime.combine(last_day or window_last_day(now.date()), time.max)
    overdue = sorted((r for r in rows if r.deadline < now), key=lambda r: (r.deadline, r.id))
    due_soon = sorted((r for r in rows if now <= r.deadline <= horizon), key=lambda r: (r.deadline, r.id))
    groups = [
        (f"Overdue ({len(overdue)})", overdue),
        (f"Due in the next {DIGEST_WORKING_DAYS} working days, to {date_text(horizon.date())} ({len(due_soon)})",
         due_soon),
    ]
    intro = f"Clocks for your teams at {date_text(now)}, soonest deadline first."
    outro = "Open a case in the app by its id. This e-mail carries case ids and team names only."

    def line(r: DigestRow) -> str:
        flag = "  vulnerable household" if r.vulnerable else ""
        return f"  {r.id}  {r.clock}  deadline {date_text(r.deadline)}  {r.team}{flag}"

    text = [intro, ""]
    for title, group in groups:
        text += [title] + ([line(r) for r in group] or ["  none"]) + [""]
    text.append(outro)

    def table(group: list[DigestRow]) -> str:
        if not group:
            return "<p>None.</p>"
        cells = "".join(
            f"<tr><td>{html.escape(r.id)}</td><td>{html.escape(r.clock)}</td><td>{html.escape(date_text(r.deadline))}</td>"
            f"<td>{html.escape(r.team)}</td><td>{'vulnerable household' if r.vulnerable else ''}</td></tr>"
            for r in group)
        return ("<table><tr><th>Case</th><th>Clock</th><th>Deadline</th><th>Team</th><th></th></tr>"
                f"{cells}</table>")

    body = "".join(f"<h2>{html.escape(title)}</h2>{table(group)}" for title, group in groups)
    message = EmailMessage()
    message["From"], message["To"] = settings.sender, manager_email
    message["Subject"] = (f"Clocks for your teams, {date_text(now.date())}: {len(overdue)} overdue, "
                          f"{len(due_soon)} due in the next {DIGEST_WORKING_DAYS} working days")
    message.set_content("\n".join(text))
    message.add_alternative(f"<html><body><p>{html.escape(intro)}</p>{body}<p>{html.escape(outro)}</p>"
                            "</body></html>", subtype="html")
    return message

