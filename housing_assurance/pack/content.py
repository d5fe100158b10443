"""What the pack says: its sections, figures, charts, exception tables and homes at risk, ready to lay out.

Every figure is a value of the KPI functions (through `scorecard`, the same code as the app and
`kpis --json`), worded by `words`; the pack itself computes no figure. Exception tables name a case
by its id and area only: never a resident's name, address or the nature of a vulnerability (the
columns shown are an explicit list, not "whatever the query has").
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl

from housing_assurance import charts, clocks, exports, routes, why
from housing_assurance.breakdowns import breakdown_of_rows, labeller, names
from housing_assurance.db import LONDON, Extract
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import CATALOGUE, KPIS, Kpi, query_rows, select_rows
from housing_assurance.pack import compare_section
from housing_assurance.pack.charts import ChartRenderer, wrap_title
from housing_assurance.pack.render import Attachment
from housing_assurance.progress import Progress
from housing_assurance.remit import outside_remit
from housing_assurance.risk import RiskError, RiskStore, load_model_library, top_homes_at_risk
from housing_assurance.scope import Scope
from housing_assurance.scorecard import HEADLINE, headline_text, scorecard_from_history
from housing_assurance.targets import Target, status, targets
from housing_assurance.weeks import TREND_WEEKS, week_period, weeks_ending
from housing_assurance.words import (
    NO_DATA,
    band_text,
    change,
    date_text,
    ratio_text,
    scope_text,
    target_text,
    value_text,
    week_text,
)

# An exception section shows its oldest cases and a count by team; a board reads the pattern, not
# every case. Every case of every list is in a workbook attached to the PDF (an analyst's copy to sort
# and filter, as the app's Excel download): pages of case ids would double the time the pack takes to
# lay out at the largest landlords' size and say nothing more to the board.
TOP_EXCEPTIONS = 20

# Chart sizes in CSS pixels (96 a inch): drawn at this size, shown at the width of the page's grid.
TREND_SIZE = (400, 235)
BREAKDOWN_WIDTH = 680

# The four 13-week trends drawn for each section (every KPI of the section is in its table).
SECTION_TRENDS: dict[str, tuple[str, ...]] = {
    "dm": ("dm.overdue_open_cases", "dm.open_cases", "dm.emergency_made_safe_24h_pct", "dm.investigated_10wd_pct"),
    "rp": ("rp.emergency_on_time_pct", "rp.non_emergency_on_time_pct", "rp.open_overdue_jobs",
           "rp.first_time_fix_pct"),
    "cx": ("cx.stage1_on_time_pct", "cx.stage2_on_time_pct", "cx.open_overdue", "cx.stage1_received"),
    "ct": ("ct.in_house_on_time_pct", "ct.external_on_time_pct", "ct.in_house_satisfaction_pct",
           "ct.external_satisfaction_pct"),
    "vu": ("vu.open_overdue_jobs_vulnerable", "vu.open_complaints_vulnerable", "vu.census_coverage_pct",
           "dq.dm_open_without_job"),
}

# The count KPI whose cases each section breaks down by region (whole landlord) or area.
SECTION_BREAKDOWN: dict[str, str] = {
    "dm": "dm.open_cases",
    "rp": "rp.open_overdue_jobs",
    "cx": "cx.open_complaints",
    "vu": "vu.open_overdue_jobs_vulnerable",
}

WHOLE_EXTRACT_KPIS = {"dq.validation_errors", "dq.validation_warning_rows"}


MARKING = "OFFICIAL-SENSITIVE: contains personal data"  # on every page: case ids are personal data


def _status(rag: str | None, value: float | None) -> dict:
    s = status(rag, value)
    return {"rag": (rag or "none") if value is not None else "none", "symbol": s.symbol, "word": s.word}


def _day(value: date | datetime | None) -> str:
    if isinstance(value, datetime):
        value = value.date()
    return date_text(value)


def _deadline(value: datetime) -> str:
    """A working-day deadline is a whole date (ends 23:59:59.999); an hour clock keeps its time."""
    if value.time() >= time(23, 59, 59):
        return date_text(value.date())
    return date_text(value)


def _days(value: float) -> str:
    return f"{value:,.1f}"


def _whole(value: int) -> str:
    return f"{value:,}"


def _words(value: str) -> str:
    return str(value).replace("_", " ")


def _sentence(words: str | None) -> str:
    return f"{words[:1].upper()}{words[1:]}." if words else ""


def _clocks(value: str) -> str:
    return clocks.short_names(value) or NO_DATA


# ---------------------------------------------------------------------------------------------
# The pack's content


@dataclass
class Chart:
    title: str
    uri: str | None = None  # the drawing's placeholder URL (ChartRenderer.placeholder); None: nothing to draw
    empty: str = ""  # what to say instead of an empty chart
    note: str = ""
    pending: Future | None = None  # the SVG being drawn


@dataclass
class Section:
    key: str
    name: str
    rows: list[dict]
    trends: list[Chart] = field(default_factory=list)
    breakdown: Chart | None = None
    extra_table: dict | None = None


def _kpi_row(row: dict, goal: Target | None) -> dict:
    k = KPIS[row["kpi_id"]]
    moved = change(k, row["change"], row["higher_is_better"])
    return {
        "id": k.id,
        "title": k.title,
        "whole_extract": k.id in WHOLE_EXTRACT_KPIS,
        "value": value_text(k, row["value"]),
        "ratio": ratio_text(k, row["numerator"], row["denominator"]),
        "previous": value_text(k, row["previous_value"]),
        "change": moved.text,
        "direction": moved.direction,
        "target": target_text(k, goal) or NO_DATA,
        "status": _status(row["rag"], row["value"]),
    }


@dataclass(frozen=True)
class Column:
    """One column of an exception table: the query's column, its heading, how it reads."""

    name: str
    heading: str
    width: float  # % of the table (tables have a fixed layout: measuring every cell first is slow)
    fmt: Callable[[Any], str] = str
    missing: str = NO_DATA  # shown for a null
    kind: str = "text"  # text, date (kept on one line) or num (right-aligned)


EXCEPTION_COLUMNS: dict[str, list[Column]] = {
    # Only these columns leave the building: case id and area, never a name, address or vulnerability.
    "dm.overdue_open_cases": [
        Column("id", "Case", 9.5), Column("area", "Area", 12), Column("team_id", "Team", 20),
        Column("reported_at", "Reported", 10.5, _day, kind="date"),
        Column("hazard_level", "Hazard", 9, _words, "not assessed"),
        Column("clocks_breached", "Deadlines missed", 17, _clocks),
        Column("first_breached_due_by", "First deadline", 13, _deadline, kind="date"),
        Column("days_open", "Days open", 9, _days, kind="num"),
    ],
    "cx.open_overdue": [
        Column("id", "Complaint", 12), Column("area", "Area", 13), Column("team_id", "Team", 16),
        Column("category", "Category", 14, _words), Column("current_stage", "Stage", 7, _whole, kind="num"),
        Column("received_at", "Received", 12, _day, kind="date"),
        Column("response_due_on", "Response due", 14, _day, kind="date"),
        Column("days_overdue", "Days overdue", 12, _whole, kind="num"),
    ],
    "vu.open_overdue_jobs_vulnerable": [
        Column("id", "Job", 10), Column("area", "Area", 11.5), Column("team_id", "Team", 12.5),
        Column("contractor_name", "Contractor", 20), Column("priority", "Priority", 9.5, _words),
        Column("category", "Category", 10.5, _words), Column("target_at", "Target", 10.5, _day, kind="date"),
        Column("days_overdue", "Days overdue", 8.5, _days, kind="num"),
        Column("chases", "Chases", 7, _whole, kind="num"),
    ],
}

EXCEPTION_TEXT = {
    "dm.overdue_open_cases": ("Awaab's Law breaches",
                              "Open damp and mould cases with an Awaab's Law deadline passed and its action not done "
                              "by the end of the week, earliest missed deadline first."),
    "cx.open_overdue": ("Overdue complaints",
                        "Open complaints past the response deadline of their current stage, most overdue first."),
    "vu.open_overdue_jobs_vulnerable": ("Overdue repairs at vulnerable households",
                                        "Open responsive repairs past target where the household is vulnerable "
                                        "(the nature of the vulnerability is never shown here), most overdue first."),
}


# The column that says how old an exception is, whether the oldest is its smallest or largest value,
# and the heading of each team's oldest in the count by team.
EXCEPTION_AGE: dict[str, tuple[str, str, str]] = {
    "dm.overdue_open_cases": ("first_breached_due_by", "min", "Earliest missed deadline"),
    "cx.open_overdue": ("days_overdue", "max", "Most days overdue"),
    "vu.open_overdue_jobs_vulnerable": ("days_overdue", "max", "Most days overdue"),
}


def _cells(columns: list[Column], rows: pl.DataFrame) -> list[list[str]]:
    return [[c.missing if r[c.name] is None else c.fmt(r[c.name]) for c in columns] for r in rows.iter_rows(named=True)]


def _by_team(kpi_id: str, rows: pl.DataFrame, columns: list[Column]) -> dict:
    """How many of the exception's cases each team holds, and each team's oldest, most first."""
    age, pick, heading = EXCEPTION_AGE[kpi_id]
    column = next(c for c in columns if c.name == age)
    oldest = pl.col(age).min() if pick == "min" else pl.col(age).max()
    teams = (rows.group_by("team_id").agg(pl.len().alias("cases"), oldest.alias("oldest"))
             .sort(["cases", "team_id"], descending=[True, False]))
    return {"oldest": heading, "kind": column.kind,
            "rows": [{"team": r["team_id"], "cases": _whole(r["cases"]),
                      "oldest": column.missing if r["oldest"] is None else column.fmt(r["oldest"])}
                     for r in teams.iter_rows(named=True)]}


def _exception_table(kpi_id: str, rows: pl.DataFrame, scope: Scope, team_name: Callable[[str | None], str]) -> dict:
    """An exception's oldest cases and its count by team; teams by name, never by id."""
    columns = EXCEPTION_COLUMNS[kpi_id]
    rows = rows.with_columns(pl.col("team_id").map_elements(team_name, return_dtype=pl.Utf8, skip_nulls=False))
    one_team = scope.teams is not None and len(scope.teams) == 1
    by_team = None if one_team or rows.is_empty() else _by_team(kpi_id, rows, columns)
    if one_team:  # one team: its name in every row says nothing
        columns = [c for c in columns if c.name != "team_id"]
    title, text = EXCEPTION_TEXT[kpi_id]
    return {"id": kpi_id, "title": title, "text": text, "count": rows.height, "kpi_title": KPIS[kpi_id].title,
            "headings": [c.heading for c in columns], "kinds": [c.kind for c in columns],
            "widths": [c.width for c in columns], "top": _cells(columns, rows.head(TOP_EXCEPTIONS)),
            "by_team": by_team, "shown": min(rows.height, TOP_EXCEPTIONS),
            "workbook": workbook_name(kpi_id) if rows.height else None}


def workbook_name(kpi_id: str) -> str:
    """The attached workbook of an exception's every case: "awaabs-law-breaches.xlsx"."""
    return re.sub(r"[^a-z0-9]+", "-", EXCEPTION_TEXT[kpi_id][0].lower().replace("'", "")).strip("-") + ".xlsx"


def _workbook(kpi_id: str, rows: pl.DataFrame, context: exports.Context) -> Attachment:
    """Every case of an exception, oldest first, as the app's Excel download writes a table: only the
    section's own columns (case id and area, never a name, address or vulnerability)."""
    title = EXCEPTION_TEXT[kpi_id][0]
    shown = rows.select([c.name for c in EXCEPTION_COLUMNS[kpi_id]])
    book = exports.to_xlsx(shown, replace(context, title=f"{title}: all {rows.height:,}"))
    return Attachment(workbook_name(kpi_id), book, f"{title}: every case, oldest first ({rows.height:,})")


def _off_target(board: pl.DataFrame, goals: dict[str, Target], elsewhere: dict[str, str],
                reason: Callable[[dict], str | None]) -> list[dict]:
    """The red, then amber, figures in two groups (the executive scorecard's, then the rest of the
    catalogue's), each with the tile's line of why (why.reason) and how far off is still amber."""
    groups = []
    for name, ids in (("On the executive scorecard", list(HEADLINE)),
                      ("Elsewhere in this pack", [k.id for k in CATALOGUE if k.id not in HEADLINE])):
        rows = [r for rag in ("red", "amber") for r in board.iter_rows(named=True)
                if r["kpi_id"] in ids and r["kpi_id"] not in elsewhere and r["rag"] == rag and r["value"] is not None]
        rows.sort(key=lambda r: (r["rag"] != "red", ids.index(r["kpi_id"])))
        shown = []
        for r in rows:
            k, goal = KPIS[r["kpi_id"]], goals.get(r["kpi_id"])
            shown.append({**_kpi_row(r, goal), "domain": routes.domain_name(k.id),
                          "band": _sentence(band_text(k, goal)), "why": reason(r) or ""})
        groups.append({"name": name, "rows": shown})
    return groups


# contractor_scorecard column -> the ct.{in_house,external}_* KPI whose target judges it.
CONTRACTOR_MEASURES = (("on_time_pct", "on_time_pct"), ("first_time_fix_pct", "first_time_fix_pct"),
                       ("satisfaction_pct", "satisfaction_pct"))


def _contractor_tables(board: pl.DataFrame, goals: dict[str, Target]) -> tuple[dict, dict]:
    """The 13-week contractor scorecard, and the contractors below target on any measure that has one."""
    pct, gbp, count = KPIS["ct.external_on_time_pct"], KPIS["cx.compensation_offered_gbp"], KPIS["rp.open_jobs"]
    all_rows, below = [], []
    for r in board.iter_rows(named=True):
        kind = "in_house" if r["is_in_house"] else "external"
        cells, missed = [], False
        for column, kpi_stub in CONTRACTOR_MEASURES:
            goal = goals.get(f"ct.{kind}_{kpi_stub}")
            rag = goal.rag(r[column]) if goal else None
            cells.append({"value": value_text(pct, r[column]), "status": _status(rag, r[column])})
            missed = missed or rag in ("amber", "red")
        row = {"name": r["contractor_name"] or r["contractor_id"],
               "type": "In-house" if r["is_in_house"] else "Contractor",
               "jobs": value_text(count, r["jobs_completed"]), "measures": cells,
               "follow_on": value_text(pct, r["follow_on_jobs_pct"]), "no_access": value_text(pct, r["no_access_pct"]),
               "landlord_missed": value_text(pct, r["landlord_missed_pct"]),
               "avg_cost": value_text(gbp, r["avg_cost_gbp"])}
        all_rows.append(row)
        if missed:
            below.append(row)
    return {"rows": all_rows}, {"rows": below}


def _contractor_targets(goals: dict[str, Target]) -> str:
    """The targets contractors are judged against, in words, e.g. 'on time ≥ 90.0%, first-time fix ≥ 85.0% …'."""
    pct, parts = KPIS["ct.external_on_time_pct"], []
    for stub, label in (("on_time_pct", "on time"), ("first_time_fix_pct", "first-time fix"),
                        ("satisfaction_pct", "satisfied")):
        both = {target_text(pct, goals.get(f"ct.{kind}_{stub}")) or NO_DATA for kind in ("in_house", "external")}
        parts.append(f"{label} {' / '.join(sorted(both))}")
    return ", ".join(parts)


def _trend(k: Kpi, row: dict, goal: Target | None, renderer: ChartRenderer) -> Chart:
    """A KPI's 13 weeks as drawn by charts.trend_chart (sent to the browser at once)."""
    chart = Chart(k.title)
    history = row["history"]
    if all(v is None for v in history):
        chart.empty = "No cases due in any of the 13 weeks." if k.kind == "pct" else "No data in the 13 weeks."
        return chart
    series = pl.DataFrame({"as_of": row["history_as_of"], "value": history},
                          schema={"as_of": pl.Date, "value": pl.Float64})
    title = wrap_title(k.title)
    fig = charts.trend_chart(series, k, goal, title=title, height=TREND_SIZE[1])
    if "<br>" in title:  # room for the title's second line above the plot
        fig.update_layout(margin_t=58)
    if k.kind in ("count", "sum"):
        charts.whole_number_ticks(fig, max(v for v in history if v is not None))
    gaps = sum(v is None for v in history)
    if gaps:
        chart.note = (f"{gaps} of the {len(history)} weeks had nothing to measure "
                      f"({'a gap' if gaps == 1 else 'gaps'} in the line).")
    chart.pending = renderer.submit(fig, *TREND_SIZE)
    return chart


def _report(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)


def build_context(extract: Extract, as_of: date, scope: Scope, notes: list[str], progress: Progress | None,
                  renderer: ChartRenderer, prepared_for: str | None, risk_scores: pl.DataFrame | None,
                  warm_up: Callable[[], None] | None = None,
                  viewer_teams: tuple[str, ...] | None = None, review: Any = None) -> dict[str, Any]:
    """Everything the pack's template shows, worded; each chart a placeholder (ChartRenderer.placeholder) still
    being drawn. `warm_up` runs in a thread meanwhile."""
    goals = targets()
    if warm_up is not None:
        threading.Thread(target=warm_up, name="pack-imports", daemon=True).start()
    # The homes-at-risk model trains (seconds) while the figures are computed and the charts drawn, unless
    # the scores are at hand (the app's, or a prepared store's latest week).
    risk_store = RiskStore(extract)
    if risk_scores is None and not risk_store.has_scores(as_of):
        load_model_library(extract, as_of)
    at_risk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-risk")
    homes_at_risk = at_risk.submit(_homes_at_risk, extract, as_of, scope, risk_scores, risk_store, viewer_teams)
    at_risk.shutdown(wait=False)
    comparing = compare_section.start(extract, scope, renderer)  # TSM figures and their charts, meanwhile

    _report(progress, "Computing figures", 0.05)
    ids = [k.id for k in CATALOGUE]
    board = scorecard_from_history(FigureStore(extract).figures(weeks_ending(as_of, TREND_WEEKS), scope, ids),
                                   as_of, ids)
    by_id = {r["kpi_id"]: r for r in board.iter_rows(named=True)}
    # The rows behind the exceptions, the breakdowns and every red or amber figure's reason, read in
    # threads (DuckDB works outside the GIL) while the trends are built and drawn; each query once.
    wanted = {KPIS[i].query for i in [*EXCEPTION_COLUMNS, *SECTION_BREAKDOWN.values()]}
    wanted |= {KPIS[i].query for i, r in by_id.items() if r["rag"] in ("red", "amber")}
    readers = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pack-cases")
    rows_by_query = {q: readers.submit(query_rows, extract, q, [as_of], scope) for q in sorted(wanted)}
    readers.shutdown(wait=False)

    _report(progress, "Drawing trends", 0.4)
    sections: list[Section] = []
    for key, name in routes.sections():
        members = [k for k in CATALOGUE if routes.domain_of(k.id).page == key]
        section = Section(key, name, [_kpi_row(by_id[k.id], goals.get(k.id)) for k in members])
        section.trends = [_trend(KPIS[i], by_id[i], goals.get(i), renderer) for i in SECTION_TRENDS[key]]
        sections.append(section)

    _report(progress, "Listing cases", 0.55)

    def kpi_cases(kpi_id: str) -> pl.DataFrame:
        """The rows behind a figure, as kpis.cases and the app's drill-down give them."""
        k = KPIS[kpi_id]
        return select_rows(rows_by_query[k.query].result(), k)

    def case_rows(kpi_id: str) -> pl.DataFrame:
        rows = kpi_cases(kpi_id)
        if rows.height != by_id[kpi_id]["value"]:  # the drill-down always matches its figure; never print if not
            raise RuntimeError(f"{kpi_id}: {rows.height} cases listed but the figure is {by_id[kpi_id]['value']}")
        return rows

    def reason(row: dict) -> str | None:
        k = KPIS[row["kpi_id"]]
        return why.reason(k, goals.get(k.id), row["rag"], row, kpi_cases(k.id), as_of)

    elsewhere = outside_remit(extract, scope, ids)  # a team's figures for work it never does: not its exceptions
    headline_card = board.filter(pl.col("kpi_id").is_in(list(HEADLINE)) & ~pl.col("kpi_id").is_in(list(elsewhere)))
    off_target = _off_target(board, goals, elsewhere, reason)
    team_name = labeller(extract, "team_id")
    exceptions = [_exception_table(i, case_rows(i), scope, team_name) for i in EXCEPTION_COLUMNS]
    produced = datetime.now(LONDON).replace(tzinfo=None, second=0, microsecond=0)  # as the app's downloads
    team_names = names(extract, "team")
    scope_words = scope_text(scope, team_names)
    book_context = exports.Context(title="", landlord=extract.landlord, week=week_text(as_of),
                                   scope=scope_words, made_at=produced,
                                   made_for=prepared_for, team_names=team_names)
    workbooks = [_workbook(e["id"], case_rows(e["id"]), book_context) for e in exceptions if e["workbook"]]
    from housing_assurance.contractors import contractor_scorecard

    contractor_board = contractor_scorecard(extract, as_of, scope)
    contractor_all, contractors_below = _contractor_tables(contractor_board, goals)

    _report(progress, "Drawing breakdowns", 0.65)
    by = "region" if scope.region is None and scope.teams is None else "area"
    for section in sections:
        if section.key in SECTION_BREAKDOWN:
            k = KPIS[SECTION_BREAKDOWN[section.key]]
            chart = Chart(f"{k.title} by {by}, end of week")
            frame = breakdown_of_rows(case_rows(k.id), k, as_of, by, labeller(extract, by))
            if frame.is_empty():
                chart.empty = "None at the end of the week."
            else:
                fig = charts.count_breakdown_bar(frame, "label", "cases", chart.title, height=160)
                chart.pending = renderer.submit(fig, BREAKDOWN_WIDTH, int(fig.layout.height))
        else:  # contractors: on time by contractor over 13 weeks, and the contractor scorecard
            chart = Chart(f"Repairs on time by contractor, 13 weeks to {date_text(as_of)}")
            shown = contractor_board.filter(pl.col("jobs_completed") > 0)
            if shown.is_empty():
                chart.empty = "No repairs completed in the 13 weeks."
            else:
                fig = charts.breakdown_bar(shown, "contractor_name", "on_time_pct", chart.title, value_suffix="%",
                                           height=160)
                chart.pending = renderer.submit(fig, BREAKDOWN_WIDTH, int(fig.layout.height))
            section.extra_table = contractor_all
        section.breakdown = chart
    for section in sections:
        for chart in [*section.trends, section.breakdown]:
            if chart is not None and chart.pending is not None:
                chart.uri = renderer.placeholder(chart.pending)

    start, end = week_period(as_of)
    return {
        "landlord": extract.landlord,
        "as_of": date_text(as_of),
        "as_of_long": as_of.strftime("%A %-d %B %Y"),
        "weekday": as_of.strftime("%A"),
        "week": f"{date_text(start)} to {date_text(end)}",
        "scope": scope_words,
        "prepared_for": prepared_for,
        "data_as_at": f"midnight at the end of {date_text(as_of)}",
        "extracted_at": date_text(extract.extracted_at),
        "produced_at": date_text(produced),
        "trend_from": date_text(as_of - timedelta(weeks=TREND_WEEKS - 1)),
        "notes": notes,
        "headline": [{**_kpi_row(by_id[i], goals.get(i)), "domain": routes.domain_name(i)} for i in HEADLINE],
        "headline_text": headline_text(headline_card),
        "off_target": off_target,
        "sections": sections,
        "exceptions": exceptions,
        "contractors_below": contractors_below,
        "contractor_targets": _contractor_targets(goals),
        "homes_at_risk": homes_at_risk.result(),
        "attachments": workbooks,  # not laid out: attached to the PDF (render.pdf_from_html)
        "compare": compare_section.finish(comparing, renderer),  # laid out by compare.html.j2
        "review": review,  # the committee's review (review/pack_section.py), laid out by review.html.j2
        "marking": MARKING,
        "no_data": NO_DATA,
    }


def _homes_at_risk(extract: Extract, as_of: date, scope: Scope, scored: pl.DataFrame | None, store: RiskStore,
                   viewer_teams: tuple[str, ...] | None, n: int = 20) -> dict:
    """The top homes at risk of a damp and mould report in the next 13 weeks, by area and property id only."""
    try:
        scored = store.scored(as_of) if scored is None else scored  # a store's, when prepared
        top = top_homes_at_risk(extract, as_of, scope, n=n, scored=scored, viewer_teams=viewer_teams)
    except RiskError as exc:
        return {"rows": [], "note": str(exc)}
    rows = [{"rank": r["rank"], "property_id": r["property_id"], "area": r["area"] or NO_DATA,
             "type": str(r["property_type"] or NO_DATA).replace("_", " "), "band": r["band"],
             "reasons": r["reasons"]} for r in top.iter_rows(named=True)]
    return {"rows": rows, "note": None}
