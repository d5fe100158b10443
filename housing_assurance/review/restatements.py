"""Restatements: for every signed-off week, the figures that now differ from what the committee signed
off, and the records that changed since.

At sign-off each figure keeps the rows behind it (exactly `kpis.cases` for the whole landlord): each
row's id and a short hash of the row as it stood at the end of the week. A timestamp at or after E and
a date after D are left out of the hash (kpis.md: nothing at or after E is known at E), so a case that
simply moves on after the week (investigated, closed) does not look changed. Later, against a newer
extract, a figure that differs is explained row by row:

- **back-dated**: counts in the figure now, did not when it was signed off, and is dated inside the
  signed-off week (its first date: reported, received, completed …) — recorded late, or its date moved
  back into a week the committee had already read;
- **new**: counts now and did not then, dated before the week (an older record now counted);
- **changed**: counted then and now, but the record as it stood at the end of the week differs (a date,
  a hazard level, an amount corrected);
- **removed**: counted then, not now (deleted, or changed so that it no longer counts).

The validation figures (dq.validation_*) describe the extract in hand, not the week, so they are
not compared. Whole-landlord figures only: the committee signs off the whole landlord.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from housing_assurance.access import User
from housing_assurance.db import LONDON, Extract
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import CATALOGUE, KPIS, QUERY_SCOPES, query_rows, select_rows
from housing_assurance.review.store import ReviewStore, SignedFigure, SignOff
from housing_assurance.scope import WHOLE_LANDLORD, Scope, ScopeKind
from housing_assurance.targets import targets
from housing_assurance.weeks import week_end, week_period

CHANGES = ("back-dated", "new", "changed", "removed")
# About the extract itself, not the week: never a restatement.
COMPARED = tuple(k.id for k in CATALOGUE if QUERY_SCOPES[k.query] is not ScopeKind.WHOLE_EXTRACT)
_SAME = 1e-9  # figures equal to this relative precision are the same figure (a float stored and read back)


@dataclass(frozen=True)
class ChangedRecord:
    """One record behind a restated figure, and how it changed since sign-off."""

    id: str
    change: str  # one of CHANGES
    dated: date | None  # its first date at the end of the week (None when the row carries no date)


@dataclass(frozen=True)
class Restatement:
    """A figure of a signed-off week that differs now from what was signed off."""

    kpi_id: str
    signed: SignedFigure
    value: float | None
    numerator: float | None
    denominator: float | None
    records: list[ChangedRecord] | None  # None: the rows were not kept at sign-off (before revision 0002)


@dataclass(frozen=True)
class RestatedWeek:
    """A signed-off week checked against the extract in hand."""

    signoff: SignOff
    figures: list[Restatement]
    problem: str | None = None  # why the week cannot be reported from this extract (then nothing is compared)


def _as_known_at_end(value: object, as_of: date, end: datetime) -> object:
    """A value as it stood at the end of the week: later times and dates are not yet known."""
    if isinstance(value, datetime):
        return None if value >= end else value.isoformat()
    if isinstance(value, date):
        return None if value > as_of else value.isoformat()
    if isinstance(value, float) and value != value:  # NaN is missing, as everywhere else
        return None
    return value


def row_hashes(rows: pl.DataFrame, as_of: date) -> dict[str, str]:
    """Row id -> a 12-character hash of the row as it stood at the end of the week ending as_of."""
    end = week_end(as_of)
    columns = [c for c in rows.columns if c != "as_of"]
    out = {}
    for row in rows.select(columns).iter_rows():
        known = [_as_known_at_end(v, as_of, end) for v in row]
        text = json.dumps(known, default=str, separators=(",", ":"))
        out[str(row[0])] = hashlib.blake2b(text.encode(), digest_size=6).hexdigest()
    return out


def _first_dates(rows: pl.DataFrame, as_of: date) -> dict[str, date | None]:
    """Row id -> its earliest date or time known at the end of the week (the day it was reported, received …)."""
    end = week_end(as_of)
    timed = [c for c, t in rows.schema.items() if c != "as_of" and (t == pl.Date or isinstance(t, pl.Datetime))]
    out = {}
    for row in rows.select(["id", *timed]).iter_rows():
        days = [v.date() if isinstance(v, datetime) else v for v in row[1:]
                if v is not None and _as_known_at_end(v, as_of, end) is not None]
        out[str(row[0])] = min(days) if days else None
    return out


def week_rows(extract: Extract, as_of: date, kpi_ids: Iterable[str] = COMPARED) -> dict[str, pl.DataFrame]:
    """The rows behind each KPI for the whole landlord's week, as `kpis.cases` lists them (each query run once)."""
    by_query: dict[str, pl.DataFrame] = {}
    out = {}
    for kpi_id in kpi_ids:
        k = KPIS[kpi_id]
        if k.query not in by_query:
            by_query[k.query] = query_rows(extract, k.query, [as_of], WHOLE_LANDLORD, ordered=False)
        out[kpi_id] = select_rows(by_query[k.query], k)
    return out


def _rows_match(kpi_id: str, rows: pl.DataFrame, figure: Mapping) -> bool:
    """The rows are those the figure counts (kpis.md: a figure is always made from exactly its rows)."""
    kind = KPIS[kpi_id].kind
    if kind == "count":
        return rows.height == (figure["value"] or 0)
    if kind == "pct":
        return rows.height == figure["denominator"] and int(rows["meets"].sum()) == figure["numerator"]
    if kind == "per_1000_homes":
        return rows.height == figure["numerator"]
    return True  # a median, mean or sum is over exactly these rows by construction


def signed_figures(extract: Extract, as_of: date, figures: FigureStore | None = None) -> list[SignedFigure]:
    """The whole landlord's figures for the week as the committee signs them off: value, numerator,
    denominator, red/amber/green (targets.py), and the rows behind each (ids and hashes) for restatements."""
    figures = figures or FigureStore(extract)
    frame = figures.figures([as_of], WHOLE_LANDLORD)
    goals = targets()
    rows = week_rows(extract, as_of)
    out = []
    for f in frame.iter_rows(named=True):
        kpi_id = f["kpi_id"]
        goal = goals.get(kpi_id)
        kept = None
        if kpi_id in rows:
            if not _rows_match(kpi_id, rows[kpi_id], f):  # never sign off rows that do not make the figure
                raise RuntimeError(f"{kpi_id}: the rows behind the figure do not make it ({f['value']})")
            kept = row_hashes(rows[kpi_id], as_of)
        out.append(SignedFigure(kpi_id, f["value"], f["numerator"], f["denominator"],
                                goal.rag(f["value"]) if goal else None, kept))
    return out


def _differs(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return (a is None) != (b is None)
    return abs(a - b) > _SAME * max(1.0, abs(a), abs(b))


def changed_records(signed: Mapping[str, str], rows: pl.DataFrame, as_of: date) -> list[ChangedRecord]:
    """The records behind a figure that differ from those signed off, back-dated first, then new, changed,
    removed; by date, then id, within each."""
    now = row_hashes(rows, as_of)
    dated = _first_dates(rows, as_of)
    start, _ = week_period(as_of)
    out = []
    for row_id, digest in now.items():
        if row_id not in signed:
            when = dated[row_id]
            out.append(ChangedRecord(row_id, "back-dated" if when is not None and when >= start else "new", when))
        elif signed[row_id] != digest:
            out.append(ChangedRecord(row_id, "changed", dated[row_id]))
    out += [ChangedRecord(row_id, "removed", None) for row_id in signed if row_id not in now]
    return sorted(out, key=lambda r: (CHANGES.index(r.change), r.dated or date.min, r.id))


def restated_week(store: ReviewStore, extract: Extract, reader: User, allowed: Scope, signoff: SignOff,
                  figures: FigureStore | None = None) -> RestatedWeek:
    """One signed-off week's figures that differ now, each with the records that changed since."""
    problem = extract.span().problem(signoff.as_of)
    if problem is not None:
        return RestatedWeek(signoff, [], problem)
    signed = {f.kpi_id: f for f in store.signed_off_figures(reader, allowed, signoff.as_of) if f.kpi_id in COMPARED}
    figures = figures or FigureStore(extract)
    now = {f["kpi_id"]: f for f in figures.figures([signoff.as_of], WHOLE_LANDLORD, list(signed)).iter_rows(named=True)}
    differ = [k for k, f in signed.items() if any(_differs(getattr(f, part), now[k][part])
                                                  for part in ("value", "numerator", "denominator"))]
    if not differ:
        return RestatedWeek(signoff, [])
    kept = store.signed_off_rows(reader, allowed, signoff.as_of)
    rows = week_rows(extract, signoff.as_of, differ)
    out = []
    for kpi_id in differ:
        f = now[kpi_id]
        records = kept.get(kpi_id)
        out.append(Restatement(kpi_id, signed[kpi_id], f["value"], f["numerator"], f["denominator"],
                               None if records is None else changed_records(records, rows[kpi_id], signoff.as_of)))
    return RestatedWeek(signoff, out)


def restatements(store: ReviewStore, extract: Extract, reader: User, allowed: Scope, up_to: date | None = None,
                 figures: FigureStore | None = None) -> list[RestatedWeek]:
    """Every signed-off week (up to and including `up_to`, when given), newest first, checked against this extract.

    Whole-landlord readers only (the figures signed off are the whole landlord's): ReviewPermissionError otherwise.
    """
    figures = figures or FigureStore(extract)
    weeks = [s for s in store.signoffs() if up_to is None or s.as_of <= up_to]
    return [restated_week(store, extract, reader, allowed, s, figures) for s in weeks]


def taken_at(extract: Extract) -> datetime | None:
    """When the extract was taken, as the review database keeps times (the manifest's is London time)."""
    taken = extract.extracted_at
    return None if taken is None else taken.replace(tzinfo=LONDON).astimezone(UTC)
