"""The committee's weekly review: commentary on figures, actions, and the week's sign-off.

Every function takes the acting user and the scope they may see (`access.user_scope`), checks
what they may do, and audits every write. Nothing here computes a KPI: the caller says which
figures are red and what the signed-off figures were.

Edits never overwrite silently: each one names the version it started from, and if someone else
saved since, `EditConflict` hands back what they wrote so the user can decide.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime

from sqlalchemy import Engine, Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from housing_assurance import audit
from housing_assurance.access import User
from housing_assurance.kpis import KPIS
from housing_assurance.review.database import lock_for_writing, make_engine, upgrade_to_head
from housing_assurance.review.models import (
    ACTION_STATUSES,
    RAGS,
    CommentaryRow,
    CommentaryVersionRow,
    SignedFigureRow,
    SignOffRow,
)
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.weeks import week_period
from housing_assurance.words import date_text, local_text, scope_text

WRITERS = ("executive", "manager")


class ReviewError(Exception):
    """A review request that cannot be done, explained in one line."""


class ReviewPermissionError(ReviewError):
    """The user's role or scope does not allow this write (or read)."""


class ReviewInputError(ReviewError, ValueError):
    """The request itself is wrong: an unknown KPI, blank text, an unknown status …"""


class SignOffRefused(ReviewError):
    """The week cannot be signed off: red KPIs without commentary (`missing`), or already signed off."""

    def __init__(self, message: str, missing: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.missing = list(missing)


@dataclass(frozen=True)
class Figure:
    """What a commentary is about: one KPI for the week ending as_of, for a region, a team or (neither) the landlord."""

    kpi_id: str
    as_of: date
    region: str | None = None
    team: str | None = None

    @property
    def scope(self) -> Scope:
        return Scope(region=self.region, teams=(self.team,) if self.team is not None else None)

    def describe(self) -> str:
        return f"{self.kpi_id}, week ending {date_text(self.as_of)}, {scope_text(self.scope)}"


@dataclass(frozen=True)
class Action:
    """Something someone will do about a figure, by a date."""

    what: str
    owner: str
    due: date
    status: str = "open"


@dataclass(frozen=True)
class Commentary:
    """The current version of the commentary on a figure."""

    id: int
    figure: Figure
    version: int
    text: str
    author: str
    written_at: datetime
    action: Action | None


@dataclass(frozen=True)
class CommentaryVersion:
    """One saved version: `change` is 'comment' (text and action written) or 'action' (action updated)."""

    version: int
    change: str
    text: str
    action: Action | None
    author: str
    written_at: datetime


class EditConflict(ReviewError):
    """Someone saved the commentary after the version this edit started from: `current` is what they saved."""

    def __init__(self, current: Commentary, based_on: int | None) -> None:
        started = f"version {based_on}" if based_on is not None else "no commentary"
        super().__init__(
            f"{current.author} saved version {current.version} of the commentary on {current.figure.describe()} "
            f"at {local_text(current.written_at)}, after you started from {started}: "
            "read their text and save again based on it")
        self.current = current


@dataclass(frozen=True)
class TrackedAction:
    """An action in the tracker; `version` is its commentary's, to name when updating it."""

    commentary_id: int
    version: int
    figure: Figure
    action: Action
    carried_forward: bool  # raised for an earlier week and still open


@dataclass(frozen=True)
class ActionTracker:
    """The actions for the week ending as_of: raised that week or before (later weeks' actions are not shown)."""

    as_of: date
    open: list[TrackedAction]  # every action still open, carried forward from earlier weeks included
    due_this_week: list[TrackedAction]  # due as_of-6 … as_of, whatever their status, so the committee sees them done
    overdue: list[TrackedAction]  # still open and due before the week started
    by_owner: dict[str, list[TrackedAction]]  # the open actions, by owner


@dataclass(frozen=True)
class SignedFigure:
    """A figure as the committee signed it off; `rows` are the rows behind it (row id -> hash of the row as it
    stood at the end of the week, restatements.fingerprints), kept so that a later restatement can name them."""

    kpi_id: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    rag: str | None = None
    rows: Mapping[str, str] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SignOff:
    as_of: date
    signed_by: str
    signed_at: datetime
    pdf_filename: str
    pdf_sha256: str
    extract_taken_at: datetime | None = None  # when the extract behind the figures was taken (UTC)


def _within(allowed: Scope, figure: Figure) -> bool:
    """Whole-landlord users reach every figure; anyone else only figures of one of their own teams."""
    if allowed == WHOLE_LANDLORD:
        return True
    return (figure.region is None and figure.team is not None and allowed.teams is not None
            and figure.team in allowed.teams)


def _check_write(user: User, allowed: Scope, figure: Figure) -> None:
    """Executives write on any figure, managers on their own teams' figures; analysts and administrators read."""
    if user.role.name not in WRITERS:
        raise ReviewPermissionError(f"{user.label} may read the review but not write to it")
    if not may_write(user, allowed, figure):
        raise ReviewPermissionError(
            f"{user.label} may write commentary only on their own teams' figures, not on {figure.describe()}")


def may_write(user: User, allowed: Scope, figure: Figure) -> bool:
    """Whether the user may write commentary on the figure (the app shows a form only then)."""
    return user.role.name in WRITERS and _within(allowed, figure)


def may_sign_off(user: User, allowed: Scope) -> bool:
    return user.role.name == "executive" and allowed == WHOLE_LANDLORD


def missing_commentary(red_kpi_ids: Iterable[str], commentaries: Iterable[Commentary]) -> list[str]:
    """The red KPIs with no whole-landlord commentary among those given, in the order given (once each).

    A team's or region's commentary does not explain the landlord's figure the committee signs off.
    """
    explained = {c.figure.kpi_id for c in commentaries
                 if c.figure.region is None and c.figure.team is None and c.text.strip()}
    return [k for k in dict.fromkeys(red_kpi_ids) if k not in explained]


def _known_kpi(kpi_id: str) -> str:
    if kpi_id not in KPIS:
        raise ReviewInputError(f"unknown KPI id {kpi_id!r} (see `kpis --json` for the ids)")
    return kpi_id


def _checked_figure(figure: Figure) -> Figure:
    _known_kpi(figure.kpi_id)
    if figure.region is not None and figure.team is not None:
        raise ReviewInputError("a commentary is on a region's figure or a team's, not both")
    return figure


def _checked_text(text: str) -> str:
    if not text.strip():
        raise ReviewInputError("the commentary text is empty")
    return text.strip()


def _checked_owner(owner: str) -> str:
    owner = owner.strip().lower()
    if "@" not in owner:
        raise ReviewInputError(f"an action's owner is an e-mail address, not {owner!r}")
    return owner


def _checked_status(status: str) -> str:
    if status not in ACTION_STATUSES:
        raise ReviewInputError(f"an action's status is one of {', '.join(ACTION_STATUSES)}, not {status!r}")
    return status


def _checked_action(action: Action) -> Action:
    if not action.what.strip():
        raise ReviewInputError("the action says nothing to do")
    return Action(action.what.strip(), _checked_owner(action.owner), action.due, _checked_status(action.status))


def _action_of(row: CommentaryRow | CommentaryVersionRow) -> Action | None:
    if row.action_what is None or row.action_owner is None or row.action_due is None or row.action_status is None:
        return None
    return Action(row.action_what, row.action_owner, row.action_due, row.action_status)


def _figure_of(row: CommentaryRow) -> Figure:
    return Figure(row.kpi_id, row.as_of, row.scope_region, row.scope_team)


def _commentary_of(row: CommentaryRow) -> Commentary:
    return Commentary(row.id, _figure_of(row), row.version, row.text, row.author_email, row.written_at,
                      _action_of(row))


def _set_action(row: CommentaryRow | CommentaryVersionRow, action: Action | None) -> None:
    row.action_what = action.what if action else None
    row.action_owner = action.owner if action else None
    row.action_due = action.due if action else None
    row.action_status = action.status if action else None


def _figure_query(figure: Figure) -> Select[CommentaryRow]:
    return select(CommentaryRow).where(
        CommentaryRow.kpi_id == figure.kpi_id, CommentaryRow.as_of == figure.as_of,
        CommentaryRow.scope_region.is_(None) if figure.region is None else CommentaryRow.scope_region == figure.region,
        CommentaryRow.scope_team.is_(None) if figure.team is None else CommentaryRow.scope_team == figure.team)


def _signoff_of(row: SignOffRow) -> SignOff:
    return SignOff(row.as_of, row.signed_by, row.signed_at, row.pdf_filename, row.pdf_sha256, row.extract_taken_at)


def _packed_rows(rows: Mapping[str, str] | None) -> bytes | None:
    """A figure's rows as stored: JSON pairs sorted by id, compressed (ids sorted compress well)."""
    if rows is None:
        return None
    return zlib.compress(json.dumps(sorted(rows.items()), separators=(",", ":")).encode(), 9)


def _unpacked_rows(blob: bytes | None) -> dict[str, str] | None:
    return None if blob is None else dict(json.loads(zlib.decompress(blob)))


class ReviewStore:
    """The review database behind the app, the pack and the command line; open it with `open_store`."""

    def __init__(self, engine: Engine, actor: str | None = None) -> None:
        self.engine = engine
        # Who is at the keyboard, when not the reviewer themselves (the command line's operating-system
        # user, writing on the reviewer's behalf with --as-user); None in the app, where they are one.
        self.actor = actor

    def close(self) -> None:
        self.engine.dispose()

    def _audit(self, user: User, action: str, scope: Scope, target: str, as_of: date) -> None:
        """Every write is audited; a write that cannot be audited is not made (the transaction rolls back)."""
        on_behalf_of = user.email if self.actor else None
        if not audit.record(self.actor or user.email, action, scope, target, as_of.isoformat(),
                            on_behalf_of=on_behalf_of):
            raise ReviewError("this could not be recorded in the audit trail, so it was not saved; "
                              "please tell an administrator")

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with Session(self.engine) as session, session.begin():
            lock_for_writing(session.connection())
            yield session

    # Commentary and actions

    def comment(self, user: User, allowed: Scope, figure: Figure, text: str, *, based_on: int | None = None,
                action: Action | None = None) -> Commentary:
        """Write the commentary on a figure (based_on=None) or edit it (based_on = the version the user started from).

        `action` sets or replaces the commentary's action; None keeps the current one (actions are dropped, not
        deleted). Raises EditConflict if someone saved since `based_on`.
        """
        figure = _checked_figure(figure)
        text = _checked_text(text)
        action = _checked_action(action) if action is not None else None
        _check_write(user, allowed, figure)
        now = datetime.now(UTC)
        try:
            with self._write() as session:
                row = session.scalar(_figure_query(figure))
                if row is None:
                    if based_on is not None:
                        raise ReviewInputError(f"there is no commentary on {figure.describe()} to edit")
                    row = CommentaryRow(kpi_id=figure.kpi_id, as_of=figure.as_of, scope_region=figure.region,
                                        scope_team=figure.team, version=1)
                    session.add(row)
                elif row.version != based_on:
                    raise EditConflict(_commentary_of(row), based_on)
                else:
                    row.version += 1
                    action = action or _action_of(row)
                row.text, row.author_email, row.written_at = text, user.email, now
                _set_action(row, action)
                self._keep_version(session, row, "comment")
                self._audit(user, "review_comment", figure.scope, figure.kpi_id, figure.as_of)
                return _commentary_of(row)
        except (IntegrityError, StaleDataError):
            # Saved by someone else between our read and our write (another app server, say).
            current = self._current(figure)
            if current is None:
                raise
            raise EditConflict(current, based_on) from None

    def update_action(self, user: User, allowed: Scope, commentary_id: int, based_on: int, *,
                      status: str | None = None, due: date | None = None, owner: str | None = None) -> Commentary:
        """Change an action's status, due date or owner: a new version of its commentary, same conflict rule."""
        if status is None and due is None and owner is None:
            raise ReviewInputError("nothing to change: give a status, a due date or an owner")
        now = datetime.now(UTC)
        try:
            with self._write() as session:
                row = self._row(session, commentary_id)
                figure = _figure_of(row)
                _check_write(user, allowed, figure)
                action = _action_of(row)
                if action is None:
                    raise ReviewInputError(f"the commentary on {figure.describe()} has no action to update")
                if row.version != based_on:
                    raise EditConflict(_commentary_of(row), based_on)
                action = replace(action, due=due or action.due,
                                 status=_checked_status(status) if status is not None else action.status,
                                 owner=_checked_owner(owner) if owner is not None else action.owner)
                row.version += 1
                row.author_email, row.written_at = user.email, now
                _set_action(row, action)
                self._keep_version(session, row, "action")
                self._audit(user, "review_action_update", figure.scope, figure.kpi_id, figure.as_of)
                return _commentary_of(row)
        except (IntegrityError, StaleDataError):
            with Session(self.engine) as session:
                raise EditConflict(_commentary_of(self._row(session, commentary_id)), based_on) from None

    @staticmethod
    def _keep_version(session: Session, row: CommentaryRow, change: str) -> None:
        session.flush()  # the row's id, for a new commentary; StaleDataError here if someone else saved first
        version = CommentaryVersionRow(commentary_id=row.id, version=row.version, change=change, text=row.text,
                                       author_email=row.author_email, written_at=row.written_at)
        _set_action(version, _action_of(row))
        session.add(version)
        session.flush()

    @staticmethod
    def _row(session: Session, commentary_id: int) -> CommentaryRow:
        row = session.get(CommentaryRow, commentary_id)
        if row is None:
            raise ReviewInputError(f"there is no commentary {commentary_id}")
        return row

    def _current(self, figure: Figure) -> Commentary | None:
        with Session(self.engine) as session:
            row = session.scalar(_figure_query(figure))
            return _commentary_of(row) if row is not None else None

    def commentaries(self, user: User, allowed: Scope, as_of: date, *, region: str | None = None,
                     team: str | None = None) -> list[Commentary]:
        """The week's commentaries on the figures of exactly one scope (the whole landlord when neither is given)."""
        return [c for c in self.week_commentaries(user, allowed, as_of)
                if c.figure.region == region and c.figure.team == team]

    def week_commentaries(self, user: User, allowed: Scope, as_of: date) -> list[Commentary]:
        """Every commentary of the week the user may see, by KPI id, then whole landlord, regions, teams."""
        with Session(self.engine) as session:
            rows = session.scalars(select(CommentaryRow).where(CommentaryRow.as_of == as_of))
            visible = [c for c in map(_commentary_of, rows) if _within(allowed, c.figure)]
        return sorted(visible, key=lambda c: (c.figure.kpi_id, c.figure.team is not None, c.figure.region or "",
                                              c.figure.team or ""))

    def history(self, user: User, allowed: Scope, commentary_id: int) -> list[CommentaryVersion]:
        """Every version of one commentary, oldest first."""
        with Session(self.engine) as session:
            row = self._row(session, commentary_id)
            if not _within(allowed, _figure_of(row)):
                raise ReviewPermissionError(f"{user.label} may not read the commentary on {_figure_of(row).describe()}")
            return [CommentaryVersion(v.version, v.change, v.text, _action_of(v), v.author_email, v.written_at)
                    for v in row.versions]

    def action_tracker(self, user: User, allowed: Scope, as_of: date) -> ActionTracker:
        """The actions on figures the user may see, and those they own, for the week ending as_of."""
        start, end = week_period(as_of)
        with Session(self.engine) as session:
            rows = session.scalars(select(CommentaryRow).where(
                CommentaryRow.as_of <= end, CommentaryRow.action_what.is_not(None),
                or_(CommentaryRow.action_status == "open", CommentaryRow.action_due.between(start, end)),
            ).order_by(CommentaryRow.action_due, CommentaryRow.id))
            tracked = [TrackedAction(r.id, r.version, _figure_of(r), a, r.as_of < as_of and a.status == "open")
                       for r in rows if (a := _action_of(r)) is not None]
        tracked = [t for t in tracked if _within(allowed, t.figure) or t.action.owner == user.email]
        still_open = [t for t in tracked if t.action.status == "open"]
        by_owner: dict[str, list[TrackedAction]] = {}
        for t in sorted(still_open, key=lambda t: t.action.owner):
            by_owner.setdefault(t.action.owner, []).append(t)
        return ActionTracker(
            as_of=as_of,
            open=still_open,
            due_this_week=[t for t in tracked if start <= t.action.due <= end],
            overdue=[t for t in still_open if t.action.due < start],
            by_owner=by_owner,
        )

    # Sign-off

    def check_sign_off(self, user: User, allowed: Scope, as_of: date, red_kpi_ids: Iterable[str]) -> None:
        """Raise what sign_off would raise for these red KPIs, writing nothing: the caller asks before spending
        seconds on the pack that a refused sign-off would throw away."""
        _check_signer(user, allowed)
        with Session(self.engine) as session:
            self._refuse_sign_off(session, as_of, [_known_kpi(k) for k in red_kpi_ids])

    @staticmethod
    def _refuse_sign_off(session: Session, as_of: date, red: list[str]) -> None:
        done = session.scalar(select(SignOffRow).where(SignOffRow.as_of == as_of))
        if done is not None:
            raise _already_signed_off(done)
        written = session.scalars(select(CommentaryRow).where(CommentaryRow.as_of == as_of))
        missing = missing_commentary(red, map(_commentary_of, written))
        if missing:
            raise SignOffRefused(
                f"the week ending {date_text(as_of)} cannot be signed off: no whole-landlord commentary on red "
                f"KPI{'s' if len(missing) > 1 else ''} {', '.join(missing)}", missing)

    def sign_off(self, user: User, allowed: Scope, as_of: date, pdf: bytes, pdf_filename: str,
                 figures: Iterable[SignedFigure], red_kpi_ids: Iterable[str], *, at: datetime | None = None,
                 extract_taken_at: datetime | None = None) -> SignOff:
        """Sign off the week for the whole landlord, archiving the PDF pack unchanged and the figures it showed.

        Refused (SignOffRefused) while any red KPI has no whole-landlord commentary for the week, naming them in the
        order given (figures signed off as red count as red even if the caller left them out), and for a week
        already signed off. `at` is the moment the executive signed, when the pack was built to say so (default
        now); `extract_taken_at` when the extract behind the figures was taken (time-zone aware).
        """
        _check_signer(user, allowed)
        figures = list(figures)
        if not pdf.startswith(b"%PDF-"):
            raise ReviewInputError(f"{pdf_filename} is not a PDF")
        if not figures:
            raise ReviewInputError("a sign-off needs the week's figures")
        for f in figures:
            _known_kpi(f.kpi_id)
            if f.rag is not None and f.rag not in RAGS:
                raise ReviewInputError(f"{f.kpi_id}: rag is one of {', '.join(RAGS)} or none, not {f.rag!r}")
        if len({f.kpi_id for f in figures}) < len(figures):
            raise ReviewInputError("a sign-off lists each KPI once")
        red = [_known_kpi(k) for k in red_kpi_ids] + [f.kpi_id for f in figures if f.rag == "red"]
        try:
            with self._write() as session:
                self._refuse_sign_off(session, as_of, red)
                row = SignOffRow(as_of=as_of, signed_by=user.email, signed_at=at or datetime.now(UTC),
                                 pdf_filename=pdf_filename, pdf_sha256=hashlib.sha256(pdf).hexdigest(), pdf=pdf,
                                 extract_taken_at=extract_taken_at)
                row.figures = [SignedFigureRow(kpi_id=f.kpi_id, value=f.value, numerator=f.numerator,
                                               denominator=f.denominator, rag=f.rag, rows=_packed_rows(f.rows))
                               for f in figures]
                session.add(row)
                session.flush()
                self._audit(user, "review_signoff", WHOLE_LANDLORD, pdf_filename, as_of)
                return _signoff_of(row)
        except IntegrityError:
            # Signed off by someone else between our check and our write.
            with Session(self.engine) as session:
                done = session.scalar(select(SignOffRow).where(SignOffRow.as_of == as_of))
            if done is None:
                raise
            raise _already_signed_off(done) from None

    def signoff_for(self, as_of: date) -> SignOff | None:
        """Who signed off the week and when (any signed-in user may know), or None."""
        with Session(self.engine) as session:
            row = session.scalar(select(SignOffRow).where(SignOffRow.as_of == as_of))
            return _signoff_of(row) if row is not None else None

    def signoffs(self) -> list[SignOff]:
        """Every week signed off, newest first (who and when: any signed-in user may know)."""
        with Session(self.engine) as session:
            return [_signoff_of(r) for r in session.scalars(select(SignOffRow).order_by(SignOffRow.as_of.desc()))]

    def _signed_off_row(self, session: Session, user: User, allowed: Scope, as_of: date) -> SignOffRow | None:
        if allowed != WHOLE_LANDLORD:
            raise ReviewPermissionError(f"{user.label} may not read the whole landlord's signed-off figures")
        return session.scalar(select(SignOffRow).where(SignOffRow.as_of == as_of))

    def signed_off_figures(self, user: User, allowed: Scope, as_of: date) -> list[SignedFigure]:
        """The figures as signed off for the week (empty if not signed off), to compare with a later restatement."""
        with Session(self.engine) as session:
            row = self._signed_off_row(session, user, allowed, as_of)
            return [] if row is None else [SignedFigure(f.kpi_id, f.value, f.numerator, f.denominator, f.rag)
                                          for f in row.figures]

    def signed_off_rows(self, user: User, allowed: Scope, as_of: date) -> dict[str, dict[str, str] | None]:
        """The rows behind each figure as signed off (KPI id -> row id -> row hash; None where not kept)."""
        with Session(self.engine) as session:
            row = self._signed_off_row(session, user, allowed, as_of)
            if row is None:
                return {}
            kept = session.execute(select(SignedFigureRow.kpi_id, SignedFigureRow.rows)
                                   .where(SignedFigureRow.signoff_id == row.id))
            return {kpi_id: _unpacked_rows(blob) for kpi_id, blob in kept}

    def signed_off_pdf(self, user: User, allowed: Scope, as_of: date) -> bytes | None:
        """The archived pack, checked against its SHA-256 so a changed file is never passed off as the signed one."""
        with Session(self.engine) as session:
            row = self._signed_off_row(session, user, allowed, as_of)
            if row is None:
                return None
            if hashlib.sha256(row.pdf).hexdigest() != row.pdf_sha256:
                raise ReviewError(f"the archived pack for the week ending {date_text(as_of)} no longer matches "
                                  "the SHA-256 recorded at sign-off")
            return row.pdf


def _check_signer(user: User, allowed: Scope) -> None:
    if not may_sign_off(user, allowed):
        raise ReviewPermissionError(f"only executives sign off a week; {user.label} may not")


def _already_signed_off(row: SignOffRow) -> SignOffRefused:
    return SignOffRefused(f"the week ending {date_text(row.as_of)} was already signed off by {row.signed_by} "
                          f"at {local_text(row.signed_at)}; a week is signed off once")


def open_store(url: str | None = None, actor: str | None = None) -> ReviewStore:
    """The review store at `url` (default HOUSING_ASSURANCE_DB, else data/review.sqlite3), migrated to the newest.

    `actor` names who is at the keyboard when they write on a reviewer's behalf (the command line)."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    return ReviewStore(engine, actor)

