"""The week's review, between the figures and the review store: which figures the committee must
explain, which figure a commentary is about, signing a week off with its pack, and sending that pack.

No Streamlit: the Weekly review page, the `review` and `report` commands and the pack call this.
Figures come from the figure store (the same as every page and the pack), red/amber/green from
targets.py, who may do what from the store's own rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from housing_assurance import audit
from housing_assurance.access import User
from housing_assurance.db import Extract
from housing_assurance.figures import FigureStore
from housing_assurance.progress import Progress
from housing_assurance.review import mail
from housing_assurance.review.restatements import signed_figures, taken_at
from housing_assurance.review.store import (
    Commentary,
    Figure,
    ReviewError,
    ReviewInputError,
    ReviewStore,
    SignOff,
)
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.targets import targets
from housing_assurance.weeks import review_week_problem
from housing_assurance.words import date_text, local_text

TO_EXPLAIN = ("red", "amber")  # the figures the committee reads first, red first


@dataclass(frozen=True)
class FigureToExplain:
    """A red or amber figure of the week, and the commentary on it (None: not yet explained)."""

    kpi_id: str
    value: float | None
    numerator: int | None
    denominator: int | None
    rag: str
    figure: Figure  # what a commentary on it is about
    commentary: Commentary | None


def commentary_scope(scope: Scope) -> tuple[str | None, str | None] | None:
    """(region, team) of the figure a commentary in this scope is about, or None when the scope is several
    teams (a manager's "all my teams"): a commentary is on the whole landlord, a region or one team."""
    if scope.teams is None:
        return scope.region, None
    if len(scope.teams) == 1:
        return None, scope.teams[0]
    return None


def scope_of(region: str | None, team: str | None) -> Scope:
    """The figures' scope of a commentary's (region, team)."""
    return Scope(region=region, teams=(team,) if team is not None else None)


def figure_for(kpi_id: str, as_of: date, scope: Scope) -> Figure | None:
    where = commentary_scope(scope)
    return None if where is None else Figure(kpi_id, as_of, *where)


def week_problem(extract: Extract, as_of: date) -> str | None:
    """Why the week cannot be reviewed from this extract (weeks.review_week_problem), or None."""
    return review_week_problem(extract.span(), as_of)


def figures_to_explain(figures: FigureStore, as_of: date, scope: Scope,
                       commentaries: list[Commentary]) -> list[FigureToExplain]:
    """The week's red figures, then its amber ones (catalogue order within each), for the one scope a
    commentary can be about, each with its commentary. Empty when the scope is several teams."""
    where = commentary_scope(scope)
    if where is None:
        return []
    goals = targets()
    frame = figures.figures([as_of], scope_of(*where))
    written = {c.figure.kpi_id: c for c in commentaries if (c.figure.region, c.figure.team) == where}
    found = []
    for f in frame.iter_rows(named=True):
        goal = goals.get(f["kpi_id"])
        rag = goal.rag(f["value"]) if goal else None
        if rag in TO_EXPLAIN:
            found.append(FigureToExplain(f["kpi_id"], f["value"], f["numerator"], f["denominator"], rag,
                                         Figure(f["kpi_id"], as_of, *where), written.get(f["kpi_id"])))
    return sorted(found, key=lambda x: TO_EXPLAIN.index(x.rag))


def red_kpis(figures: FigureStore, as_of: date) -> list[str]:
    """The whole landlord's red KPIs for the week, in catalogue order: each needs a commentary before sign-off."""
    return [f.kpi_id for f in figures_to_explain(figures, as_of, WHOLE_LANDLORD, []) if f.rag == "red"]


def pack_filename(as_of: date) -> str:
    """The whole landlord's pack for a week, named as the app's download names it."""
    return f"assurance_pack_{as_of.isoformat()}.pdf"


def sign_off_week(store: ReviewStore, extract: Extract, user: User, allowed: Scope, as_of: date, *,
                  figures: FigureStore | None = None, progress: Progress | None = None,
                  build: Callable[..., bytes] | None = None) -> SignOff:
    """Sign off the week for the whole landlord: the week's pack built (with its commentary, actions and who
    signs, and when), archived unchanged with its SHA-256, and the figures with the rows behind them.

    Refused before the pack is built (seconds of work) for a user who may not sign off, a week already
    signed off or any red KPI without a whole-landlord commentary (the store's exceptions, naming them).
    `build` makes the PDF from the pack's keyword arguments (default pack.build_pack).
    """
    problem = week_problem(extract, as_of)
    if problem:
        raise ReviewInputError(problem)
    figures = figures or FigureStore(extract)
    signed = signed_figures(extract, as_of, figures)
    red = [f.kpi_id for f in signed if f.rag == "red"]
    store.check_sign_off(user, allowed, as_of, red)
    at = datetime.now(UTC)
    from housing_assurance.review.pack_section import pack_review

    review = pack_review(store, extract, as_of, WHOLE_LANDLORD, user, allowed, figures=figures,
                         signing=(user.email, at))
    if build is None:
        from housing_assurance.pack import build_pack as build
    pdf = build(extract=extract, as_of=as_of, scope=WHOLE_LANDLORD, progress=progress, review=review)
    return store.sign_off(user, allowed, as_of, pdf, pack_filename(as_of), signed, red, at=at,
                          extract_taken_at=taken_at(extract))


def pack_email(signoff: SignOff, landlord: str) -> tuple[str, str]:
    """The subject and text that go with a signed-off pack."""
    subject = f"{landlord}: weekly assurance pack, week ending {date_text(signoff.as_of)} (signed off)"
    text = (f"The weekly assurance pack for the week ending {date_text(signoff.as_of)}, signed off by "
            f"{signoff.signed_by} on {local_text(signoff.signed_at)}, is attached.\n\n"
            f"This is the pack exactly as signed off (SHA-256 {signoff.pdf_sha256}).\n"
            "It contains personal data: keep it within the organisation, store it securely and delete it when "
            "no longer needed.\n")
    return subject, text


def email_signed_pack(store: ReviewStore, reader: User, allowed: Scope, as_of: date, landlord: str, *,
                      actor: str, on_behalf_of: str | None = None, settings: mail.EmailSettings | None = None,
                      credentials: mail.SmtpCredentials | None = None) -> list[str]:
    """Send the week's signed-off pack, exactly as archived, to the distribution list; returns the recipients.

    Only a signed-off pack goes out (ReviewInputError otherwise). Audited before it is sent, like every
    write: a send that cannot be audited is not made. Raises mail.MailError when the server refuses it.
    """
    signoff = store.signoff_for(as_of)
    if signoff is None:
        raise ReviewInputError(f"the week ending {date_text(as_of)} is not signed off: only a signed-off pack "
                               "is sent to the distribution list")
    pdf = store.signed_off_pdf(reader, allowed, as_of)
    settings = settings or mail.load_email_settings()
    credentials = credentials if credentials is not None else mail.smtp_credentials()
    subject, text = pack_email(signoff, landlord)
    message = mail.pdf_message(settings, subject, text, pdf, signoff.pdf_filename)
    if not audit.record(actor, "review_email_pack", WHOLE_LANDLORD, f"{signoff.pdf_filename} to "
                        f"{', '.join(settings.pack_recipients)}", as_of.isoformat(), on_behalf_of=on_behalf_of):
        raise ReviewError("this could not be recorded in the audit trail, so the pack was not sent; "
                          "please tell an administrator")
    mail.send(settings, message, credentials)
    return list(settings.pack_recipients)
