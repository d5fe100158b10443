"""Our own Tenant Satisfaction Measures for a reporting year: the six management-information figures
the landlord submits to the regulator, each with its numerator and denominator, computed from the
extract by the KPI rules (kpis.md "TSM reporting year") under the keys sector.py gives the regulator's
published figures, so that the two sit side by side. No Streamlit here: the `tsm` command, the
"How we compare" page and the pack read it.

The year. A reporting year "YYYY-YY" runs from 1 April YYYY to 31 March YYYY+1. D is 31 March YYYY+1
when the year had ended when the extract was taken (E = 1 April 00:00 at or before `extracted_at`: an
extract taken on 1 April holds the whole year); otherwise D is the Sunday of the extract's latest complete
week (`Extract.span().latest_week`) and the figures are the year to date. The financial year to date (1 April …
E = D+1 00:00) and every rule are kpis.md's, for the whole landlord. A year is refused in one line
(TsmError) when it starts after the latest complete week, or when it ended before the extract's first
record (repairs, damp and mould cases, complaints): it has no data. A year whose first months are
missing from the extract is worked out by the same rules over what the extract holds, as kpis.md
defines the figures, and `coverage_gap` says so in one line: the `tsm` command prints it beside the
figures; "How we compare" and the pack set no understated year beside the sector.

The figures, literally:
- RP02_emergency_pct / RP02_non_emergency_pct: rp.emergency_on_time_pct / rp.non_emergency_on_time_pct
  counted over jobs completed in the financial year to date instead of the week: responsive jobs at
  rented homes, on time when completed_at ≤ target_at.
- CH01_stage1_per_1000 / CH01_stage2_per_1000: the numerator of cx.stage1_per_1000_homes_fytd /
  cx.stage2_per_1000_homes_fytd (complaints received / stage 2 requested in the year to date, whatever
  the home's tenure), over the rented homes at D, read as the properties in stock on D (kpis.md
  "Homes") whose tenure is general_needs, supported or older_persons (low-cost rental, kpis.md's
  "rented home"), × 1000.
- CH02_stage1_pct / CH02_stage2_pct: cx.stage1_on_time_fytd_pct / cx.stage2_on_time_fytd_pct at D.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import polars as pl

from housing_assurance import kpis, sector
from housing_assurance.db import Extract
from housing_assurance.kpis import Kpi
from housing_assurance.scope import WHOLE_LANDLORD
from housing_assurance.weeks import ReportingYear, Span, has_ended
from housing_assurance.words import date_text, value_text


class TsmError(ValueError):
    """A reporting year the extract cannot give figures for, or one not written YYYY-YY: one line."""


def _over_the_year(kpi_id: str, key: str) -> Kpi:
    """A weekly KPI of the catalogue counted over the financial year to date instead of the week."""
    k = kpis.kpi(kpi_id)
    week_rule = {c: v for c, v in k.where.items() if c not in kpis.WEEK}
    return replace(k, id=key, where=kpis.FYTD | week_rule)


# The return's figures, in the order sector.MEASURES lists the regulator's. CH01's are the catalogue's
# year-to-date KPIs, their denominator (rented homes at D) given when they are aggregated.
MEASURES: dict[str, Kpi] = {
    "RP02_emergency_pct": _over_the_year("rp.emergency_on_time_pct", "RP02_emergency_pct"),
    "RP02_non_emergency_pct": _over_the_year("rp.non_emergency_on_time_pct", "RP02_non_emergency_pct"),
    "CH01_stage1_per_1000": kpis.kpi("cx.stage1_per_1000_homes_fytd"),
    "CH01_stage2_per_1000": kpis.kpi("cx.stage2_per_1000_homes_fytd"),
    "CH02_stage1_pct": kpis.kpi("cx.stage1_on_time_fytd_pct"),
    "CH02_stage2_pct": kpis.kpi("cx.stage2_on_time_fytd_pct"),
}


@dataclass(frozen=True)
class Figure:
    """A figure as submitted: value (null when the denominator is 0), numerator, denominator."""

    value: float | None
    numerator: int
    denominator: int

    def as_dict(self) -> dict:
        return {"value": self.value, "numerator": self.numerator, "denominator": self.denominator}


@dataclass(frozen=True)
class OurReturn:
    """Our figures for one reporting year at D, and the homes that size the landlord at D."""

    year: str
    as_of: date
    year_to_date: bool
    homes: int  # in stock at D, leasehold excluded: what the regulator's size band counts
    rented_homes: int  # CH01's denominator
    figures: dict[str, Figure]

    @property
    def period(self) -> str:
        """'2024-25' for a whole year, '2026-27 to 22 Nov 2026' for a year to date."""
        return f"{self.year} to {date_text(self.as_of)}" if self.year_to_date else self.year

    def as_json(self) -> dict:
        return {"year": self.year, "as_of": self.as_of.isoformat(), "year_to_date": self.year_to_date,
                **{key: f.as_dict() for key, f in self.figures.items()}}


def reporting_year(text: str) -> ReportingYear:
    try:
        return ReportingYear.parse(text)
    except ValueError as exc:
        raise TsmError(str(exc)) from None


def _latest(span: Span) -> date:
    if span.latest_week is None:
        raise TsmError("the extract's manifest gives no valid extracted_at, so no week is known to be complete")
    return span.latest_week


def latest_week(extract: Extract) -> date:
    """The Sunday of the extract's latest complete week: D of the year still running."""
    return _latest(extract.span())


def as_of_for(extract: Extract, year: ReportingYear) -> tuple[date, bool]:
    """(D, year to date?) for the year, or a TsmError saying why the extract cannot give it."""
    span = extract.span()
    latest = _latest(span)
    if year.start > latest:
        raise TsmError(f"the {year.label} reporting year starts on {date_text(year.start)}, after the extract's latest "
                       f"complete week (ending {date_text(latest)})")
    if span.first_record is None:
        raise TsmError("the extract holds no repairs, damp and mould cases or complaints")
    first = span.first_record.date()
    if first > year.end:
        raise TsmError(f"the extract has no data for the {year.label} reporting year: its records start on "
                       f"{date_text(first)} (the first whole year is {_first_whole_year(first).label})")
    return (year.end, False) if has_ended(year.end, span.extracted_at) else (latest, True)


def coverage_gap(extract: Extract, year: ReportingYear) -> str | None:
    """Why the extract's figures for the year are understated (its records start after the year began), in
    one line; None when the extract covers the year from its 1 April."""
    first = extract.span().first_record
    if first is None or first.date() <= year.start or first.date() > year.end:
        return None
    return (f"the extract does not cover the whole of the {year.label} reporting year: its records start on "
            f"{date_text(first.date())}, after the year began on {date_text(year.start)} (the first whole year is "
            f"{_first_whole_year(first.date()).label})")


def _first_whole_year(first: date) -> ReportingYear:
    started = ReportingYear.containing(first)
    return started if started.start == first else ReportingYear(date(started.start.year + 1, 4, 1))


def our_figures(extract: Extract, year: str) -> OurReturn:
    """The six figures for a reporting year ("2024-25"), whole landlord: a prepared store's, worked out
    once when it was prepared, or computed from the rows."""
    ry = reporting_year(year)
    as_of, to_date = as_of_for(extract, ry)
    return _stored_return(extract, ry.label) or _computed(extract, ry, as_of, to_date)


def _computed(extract: Extract, ry: ReportingYear, as_of: date, to_date: bool) -> OurReturn:
    dates = pl.DataFrame({"as_of": [as_of]}, schema={"as_of": pl.Date})
    stock = extract.query("tsm_homes", as_of_dates=[as_of]).row(0, named=True)
    rented = pl.DataFrame({"as_of": [as_of], "homes": [stock["rented_homes"]]},
                          schema={"as_of": pl.Date, "homes": pl.Int64})
    rows = {q: kpis.query_rows(extract, q, [as_of], WHOLE_LANDLORD, ordered=False, with_fytd=True)
            for q in dict.fromkeys(k.query for k in MEASURES.values())}
    figures = {}
    for key, k in MEASURES.items():
        fig = kpis.withhold(kpis.aggregate(kpis.select_rows(rows[k.query], k), k, dates, rented),
                            kpis.withheld(extract, [k])).row(0, named=True)
        figures[key] = Figure(fig["value"], fig["numerator"], fig["denominator"])
    return OurReturn(ry.label, as_of, to_date, stock["homes"], stock["rented_homes"], figures)


def years_with_figures(extract: Extract) -> list[str]:
    """Every reporting year the extract gives figures for, oldest first (what a prepared store keeps): none
    when no week is known to be complete."""
    try:
        latest = latest_week(extract)
    except TsmError:
        return []
    year, years = ReportingYear.containing(latest), []
    while True:
        try:
            as_of_for(extract, year)
        except TsmError:
            return years[::-1]
        years.append(year.label)
        year = year.before()


RETURN_SCHEMA = {"year": pl.Utf8, "as_of": pl.Date, "year_to_date": pl.Boolean, "homes": pl.Int64,
                 "rented_homes": pl.Int64, "measure": pl.Utf8, "value": pl.Float64, "numerator": pl.Int64,
                 "denominator": pl.Int64}


def returns_frame(returns: list[OurReturn]) -> pl.DataFrame:
    """Returns as rows (one per year and measure): the prepared store's tsm_returns table."""
    return pl.DataFrame([{"year": r.year, "as_of": r.as_of, "year_to_date": r.year_to_date, "homes": r.homes,
                          "rented_homes": r.rented_homes, "measure": key, **fig.as_dict()}
                         for r in returns for key, fig in r.figures.items()], schema=RETURN_SCHEMA)


def _stored_return(extract: Extract, year: str) -> OurReturn | None:
    """A prepared store's return for the year (None without a store, or for a year it does not hold)."""
    from housing_assurance.store import stored

    rows = stored(extract, "tsm_returns", year=year)
    if rows is None:
        return None
    first = rows.row(0, named=True)
    figures = {r["measure"]: Figure(r["value"], r["numerator"], r["denominator"]) for r in rows.iter_rows(named=True)}
    return OurReturn(year, first["as_of"], first["year_to_date"], first["homes"], first["rented_homes"],
                     {key: figures[key] for key in MEASURES})


def format_return(ours: OurReturn, landlord: str) -> str:
    """A plain-text table of the return, each measure under the regulator's name for it."""
    titles = {m.key: m.title for m in sector.MEASURES}
    width = max(len(titles[key]) for key in ours.figures)
    to_date = f", year to date at {date_text(ours.as_of)}" if ours.year_to_date else f", at {date_text(ours.as_of)}"
    lines = [f"{landlord}: TSM reporting year {ours.year}{to_date} (whole landlord)",
             f"{'measure':<{width}} {'value':>9} {'numerator':>10} {'denominator':>12}"]
    for key, f in ours.figures.items():
        lines.append(f"{titles[key]:<{width}} {value_text(MEASURES[key], f.value):>9} {f.numerator:>10,} "
                     f"{f.denominator:>12,}")
    lines.append(f"Homes in stock at {date_text(ours.as_of)}: {ours.homes:,}, of which rented {ours.rented_homes:,} "
                 f"(CH01's denominator).")
    return "\n".join(lines)
