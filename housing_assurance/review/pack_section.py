"""The review's part of the weekly pack: the week's commentary and actions beside their figures, the
action tracker, restatements of signed-off weeks, and who signed the week off and when.

Plain dataclasses of text, already worded (words.py), for the pack's template to lay out
(pack/templates/review.html.j2): the template computes nothing. Built from the review store as the
reader of the pack may see it (a manager's pack: their own teams' commentary, no restatements).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from housing_assurance.access import User
from housing_assurance.breakdowns import names
from housing_assurance.db import Extract
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import KPIS
from housing_assurance.review.restatements import RestatedWeek, restatements
from housing_assurance.review.store import Figure, ReviewStore, TrackedAction
from housing_assurance.review.weekly import red_kpis, scope_of
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.targets import status, targets
from housing_assurance.words import date_text, local_text, plural, scope_text, value_text

MAX_ACTIONS = 60  # per list: a longer list is a finding in itself, and the app has them all
MAX_RECORDS = 12  # per restated figure


@dataclass(frozen=True)
class PackStatus:
    rag: str  # green, amber, red or none (the pack's CSS class)
    symbol: str
    word: str


@dataclass(frozen=True)
class PackCommentary:
    """A commentary beside its figure."""

    kpi_id: str
    title: str
    scope: str
    value: str
    status: PackStatus
    text: str
    written: str  # who saved the latest version, and when
    action: str | None


@dataclass(frozen=True)
class PackAction:
    what: str
    about: str  # the figure it is about
    owner: str
    due: str
    status: str
    carried_forward: bool


@dataclass(frozen=True)
class PackActions:
    title: str
    rows: list[PackAction]
    more: int  # left out beyond MAX_ACTIONS


@dataclass(frozen=True)
class PackRestatedFigure:
    kpi_id: str
    title: str
    signed: str
    now: str
    records: list[str]  # "DM000123 back-dated (18 Nov 2026)"
    more: int
    note: str | None


@dataclass(frozen=True)
class PackRestatedWeek:
    week: str
    signed: str
    figures: list[PackRestatedFigure]
    problem: str | None


@dataclass(frozen=True)
class PackReview:
    """Everything the pack's review section shows."""

    signoff: str
    signoff_note: str | None
    commentaries: list[PackCommentary]
    unexplained: list[str]  # red whole-landlord figures without commentary (whole-landlord packs only)
    actions: list[PackActions]
    restated: list[PackRestatedWeek] | None  # None: not a whole-landlord pack, so no restatements
    unchanged: str | None  # how many signed-off weeks have every figure as signed off


def _status(rag: str | None, value: float | None) -> PackStatus:
    s = status(rag, value)
    return PackStatus((rag or "none") if value is not None else "none", s.symbol, s.word)


def _in_pack(figure: Figure, scope: Scope, regions: dict[str, str | None]) -> bool:
    """A commentary belongs in a pack when its figure lies within the pack's scope."""
    if scope.is_whole_landlord:
        return True
    if scope.teams is not None:
        return figure.team is not None and figure.team in scope.teams
    return figure.region == scope.region or (figure.team is not None and regions.get(figure.team) == scope.region)


def _signed_words(who: str, at: datetime) -> str:
    return f"Signed off by {who} on {local_text(at)}."


def _action_rows(title: str, tracked: list[TrackedAction], about: dict[Figure, str]) -> PackActions:
    rows = [PackAction(t.action.what, about[t.figure], t.action.owner, date_text(t.action.due),
                       t.action.status.capitalize(), t.carried_forward) for t in tracked[:MAX_ACTIONS]]
    return PackActions(title, rows, max(0, len(tracked) - MAX_ACTIONS))


def _restated(week: RestatedWeek) -> PackRestatedWeek:
    shown = []
    for r in week.figures:
        k = KPIS[r.kpi_id]
        records = [] if r.records is None else [
            f"{c.id} {c.change}" + (f" ({date_text(c.dated)})" if c.dated else "") for c in r.records]
        note = "The records behind it were not kept when this week was signed off." if r.records is None else \
            None if records else "No record changed: what it is counted over changed (for example the homes in stock)."
        shown.append(PackRestatedFigure(r.kpi_id, k.title, value_text(k, r.signed.value), value_text(k, r.value),
                                        records[:MAX_RECORDS], max(0, len(records) - MAX_RECORDS), note))
    problem = None if week.problem is None else f"This week cannot be checked against this extract: {week.problem}."
    signed = week.signoff
    return PackRestatedWeek(date_text(signed.as_of), _signed_words(signed.signed_by, signed.signed_at), shown, problem)


def pack_review(store: ReviewStore, extract: Extract, as_of: date, scope: Scope, reader: User, allowed: Scope, *,
                figures: FigureStore | None = None, signing: tuple[str, datetime] | None = None) -> PackReview:
    """The review section of the week's pack for `scope`, as `reader` (whose scope is `allowed`) may see it.

    `signing`: (who, when) when the pack is being built to be signed off, so that it says so.
    """
    figures = figures or FigureStore(extract)
    teams = names(extract, "team")
    regions = dict(zip(*[extract.query("names").filter(kind="team")[c].to_list() for c in ("id", "region")],
                       strict=True))
    goals = targets()
    written = [c for c in store.week_commentaries(reader, allowed, as_of) if _in_pack(c.figure, scope, regions)]
    values: dict[tuple, dict] = {}
    for where in dict.fromkeys((c.figure.region, c.figure.team) for c in written):
        frame = figures.figures([as_of], scope_of(*where), [c.figure.kpi_id for c in written
                                                              if (c.figure.region, c.figure.team) == where])
        values |= {(*where, f["kpi_id"]): f for f in frame.iter_rows(named=True)}
    order = {k: i for i, k in enumerate(KPIS)}
    written.sort(key=lambda c: (c.figure.team is not None, c.figure.region is not None, c.figure.region or "",
                                c.figure.team or "", order[c.figure.kpi_id]))
    commentaries = []
    for c in written:
        k, f = KPIS[c.figure.kpi_id], values[(c.figure.region, c.figure.team, c.figure.kpi_id)]
        goal = goals.get(k.id)
        a = c.action
        commentaries.append(PackCommentary(
            k.id, k.title, scope_text(c.figure.scope, teams), value_text(k, f["value"]),
            _status(goal.rag(f["value"]) if goal else None, f["value"]), c.text,
            f"{c.author}, {local_text(c.written_at)}" + (f" (version {c.version})" if c.version > 1 else ""),
            None if a is None else f"{a.what} (owner {a.owner}, due {date_text(a.due)}, {a.status})"))

    whole = scope.is_whole_landlord and allowed == WHOLE_LANDLORD
    explained = {c.figure.kpi_id for c in written if c.figure.region is None and c.figure.team is None}
    unexplained = [KPIS[k].title for k in red_kpis(figures, as_of) if k not in explained] if whole else []

    tracker = store.action_tracker(reader, allowed, as_of)
    about = {t.figure: f"{KPIS[t.figure.kpi_id].title}, {scope_text(t.figure.scope, teams)}, week ending "
             f"{date_text(t.figure.as_of)}" for t in tracker.open + tracker.due_this_week}
    mine = lambda tracked: [t for t in tracked if _in_pack(t.figure, scope, regions)]  # noqa: E731
    actions = [_action_rows("Overdue", mine(tracker.overdue), about),
               _action_rows("Due this week", mine(tracker.due_this_week), about),
               _action_rows("Open (carried forward from earlier weeks marked ↻)", mine(tracker.open), about)]

    signed = store.signoff_for(as_of)
    note = None
    if signing is not None:
        signoff = _signed_words(*signing)
    elif signed is not None:
        signoff = _signed_words(signed.signed_by, signed.signed_at)
        note = (f"The pack as signed off (SHA-256 {signed.pdf_sha256[:16]}…) is the record of this week. This copy was "
                "produced afterwards, from the extract as it stands now.")
    else:
        signoff = "Not signed off when this pack was produced."

    restated, unchanged = None, None
    if whole:
        weeks = restatements(store, extract, reader, allowed, up_to=as_of, figures=figures)
        restated = [_restated(w) for w in weeks if w.figures or w.problem]
        same = sum(1 for w in weeks if not w.figures and not w.problem)
        unchanged = f"{plural(same, 'signed-off week')}: every figure as signed off." if same else None
    return PackReview(signoff, note, commentaries, unexplained, actions, restated, unchanged)
