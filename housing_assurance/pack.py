"""The weekly PDF pack: cover, executive scorecard, a section per domain and the exception tables.

Why it is built this way:
- every figure is a value of `kpis.compute` (through `scorecard`, the same code as the app and
  `kpis --json`), formatted by `formatting`; the pack itself computes no figure;
- charts are the Plotly builders of `charts`, exported as SVG by kaleido (one headless Chromium per
  pack, booted while the figures are computed), so the app and the pack draw the same chart;
- pages are HTML + CSS (templates/pack.html.j2, pack.css; Jinja2 comes with Streamlit) laid out by
  WeasyPrint, which keeps the SVG charts vector and numbers the pages with `@page` rules;
- exception tables name a case by its id and area only: never a resident's name, address or the
  nature of a vulnerability (the columns shown are an explicit list, not "whatever the query has").
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import textwrap
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl

from housing_assurance import charts
from housing_assurance.breakdowns import CLOCK_SHORT_NAMES, breakdown_of_rows, labeller
from housing_assurance.db import Extract, read_manifest
from housing_assurance.formatting import NO_DATA, format_date, format_kpi_value
from housing_assurance.kpis import (
    CATALOGUE,
    KPIS,
    WHOLE_LANDLORD,
    Kpi,
    Scope,
    query_rows,
    select_rows,
    trend,
    week_period,
)
from housing_assurance.scorecard import DOMAINS, HEADLINE, RAG_LABELS, scorecard_from_history
from housing_assurance.settings import Target, targets

Progress = Callable[[str, float], None]

TEMPLATES = Path(__file__).resolve().parent / "templates"
TREND_WEEKS = 13
# At most this many rows per exception table: a table that long is a finding in itself, and the
# full list is one command away (`cases`), which the table's note gives.
MAX_EXCEPTION_ROWS = 200

# Chart sizes in CSS pixels (96 a inch): drawn at this size, shown at the width of the page's grid.
TREND_SIZE = (400, 235)
BREAKDOWN_WIDTH = 680

SECTIONS: tuple[tuple[str, str], ...] = (
    ("dm", "Damp and mould"),
    ("rp", "Repairs"),
    ("cx", "Complaints"),
    ("ct", "Contractors"),
    ("vu", "Vulnerability and records"),
)

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


class PackError(ValueError):
    """The pack cannot be made from these inputs; the message says why in one line."""


# ---------------------------------------------------------------------------------------------
# Inputs


def latest_complete_week(extract: Extract) -> date | None:
    """The latest as-of date whose week had ended when the extract was taken (the default for a pack)."""
    return _latest_complete_week(extract.extracted_at)


def _latest_complete_week(taken: datetime | None) -> date | None:
    # The week ending D ends at E = D + 1 day 00:00, which must not be after extracted_at.
    return None if taken is None else taken.date() - timedelta(days=1)


def _check_week_ended(where: Path, manifest_problem: str | None, taken: datetime | None, as_of: date) -> None:
    if manifest_problem:
        raise PackError(f"the extract at {where} cannot be used: {manifest_problem}")
    latest = _latest_complete_week(taken)
    assert taken is not None and latest is not None  # a manifest without extracted_at is a manifest_problem
    if as_of > latest:
        raise PackError(
            f"the week ending {as_of.isoformat()} had not ended when the extract was taken "
            f"({taken.isoformat(sep=' ', timespec='minutes')}); the latest complete week ends on "
            f"{latest.isoformat()}")


def check_request(extract_dir: str | Path, as_of: date, out_path: str | Path | None = None) -> None:
    """The checks that need no extract loaded (manifest, date, destination): a wrong request fails at
    once, before Chromium starts or the tables load. check_inputs repeats them with the rest."""
    extract_dir = Path(extract_dir)
    if not extract_dir.is_dir():
        raise PackError(f"no extract folder at {extract_dir}")
    manifest, problem = read_manifest(extract_dir)
    taken = None if problem else datetime.fromisoformat(str(manifest.get("extracted_at")))
    _check_week_ended(extract_dir, problem, taken, as_of)
    if out_path is not None:
        check_destination(Path(out_path))


def first_record(extract: Extract) -> datetime | None:
    """When the extract's history starts: the earliest repair, damp and mould case or complaint."""
    row = extract.sql(
        "select least((select min(reported_at) from repairs), (select min(reported_at) from damp_mould_cases),"
        " (select min(received_at) from complaints)) as first").row(0)
    return row[0]


def check_scope_names(extract: Extract, region: str | None, teams: tuple[str, ...] | None) -> None:
    """A region or team the extract does not know is a typo, not an empty pack."""
    if region is not None and not extract.sql(
            "select count(*) as n from properties where region = $v", v=region)["n"][0]:
        known = extract.sql("select distinct region from properties where region is not null order by 1")
        raise PackError(f"region {region!r} does not appear in the extract "
                        f"(regions: {', '.join(known['region'].to_list()) or 'none'})")
    for team in teams or ():
        if not extract.sql("select count(*) as n from teams where team_id = $v", v=team)["n"][0]:
            raise PackError(f"team {team!r} does not appear in the extract's teams table "
                            "(use a team_id, for example repairs-north)")
    if teams == ():
        raise PackError("the scope holds no teams (is --team outside what --as-user may see?), "
                        "so the pack would be empty")


def check_inputs(extract: Extract, as_of: date, scope: Scope) -> list[str]:
    """Refuse an extract or date that would give a misleading pack; return notes for the cover.

    Wrong means: the manifest or a table cannot be used (its figures would be false zeros); the
    week ending `as_of` had not ended when the extract was taken (E = as_of + 1 day 00:00 after
    `extracted_at`: the week's figures would be incomplete); or the week starts before the
    extract's first record (its figures would be undercounts). A 13-week trend that starts before
    the first record is allowed, with a note on the cover.
    """
    _check_week_ended(extract.path, extract.manifest_problem, extract.extracted_at, as_of)
    problems = extract.table_errors
    if problems:
        names = sorted({p.table for p in problems})
        first = problems[0]
        raise PackError(
            f"the extract at {extract.path} has {len(names)} unusable table{'s' if len(names) != 1 else ''} "
            f"({', '.join(names)}; {first.table}{'.' + first.column if first.column else ''}: {first.message}); "
            f"run `python -m housing_assurance validate {extract.path}`")
    start = first_record(extract)
    if start is None:
        raise PackError(f"the extract at {extract.path} holds no repairs, damp and mould cases or complaints")
    week_start, _ = week_period(as_of)
    if week_start < start.date():
        raise PackError(
            f"the week ending {as_of.isoformat()} starts before the extract's first record "
            f"({start.date().isoformat()}); the earliest week that can be reported ends on "
            f"{(start.date() + timedelta(days=6)).isoformat()}")
    check_scope_names(extract, scope.region, scope.teams)
    notes = []
    trend_start = as_of - timedelta(weeks=TREND_WEEKS - 1, days=6)
    if trend_start < start.date():
        notes.append(f"The extract's records start on {format_date(start.date())}, after the start of the "
                     f"13-week trends ({format_date(trend_start)}): the earliest weeks of each trend undercount.")
    return notes


# ---------------------------------------------------------------------------------------------
# Charts: one Chromium per pack


class ChartRenderer:
    """Plotly figures to SVG through one kaleido browser, started at once so it boots in the background.

    Each renderer owns its browser and event loop (not kaleido's global server), so two packs built
    at the same time by two app sessions can never swap charts.
    """

    def __init__(self, tabs: int = 2) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="pack-kaleido", daemon=True)
        self._thread.start()
        self._kaleido: Future = asyncio.run_coroutine_threadsafe(self._open(tabs), self._loop)
        self._closed = False

    @staticmethod
    async def _open(tabs: int) -> Any:
        import kaleido

        class Kaleido(kaleido.Kaleido):
            """kaleido reloads plotly.js in the tab after every figure (about 0.3 s each here): a pack's
            few dozen figures come out the same without it (tests/test_pack.py checks) in a third of the time."""

            async def _return_kaleido_tab(self, tab: Any) -> None:
                await self.tabs_ready.put(tab)

        k = Kaleido(n=tabs, mathjax=False)  # no MathJax: it would be fetched from a CDN
        await k.open()
        return k

    def _browser(self) -> Any:
        try:
            return self._kaleido.result(timeout=120)
        except Exception as exc:  # kaleido's ChromeNotFoundError and friends: say what to install
            raise PackError(f"charts cannot be drawn: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__} "
                            "(the pack needs Chromium: apt-get install chromium)") from None

    def submit(self, fig: go.Figure, width: int, height: int) -> Future:
        """Start drawing a figure as SVG; `result` waits for it. The browser draws while Python goes on."""

        async def render() -> bytes:
            k = await asyncio.wrap_future(self._kaleido)
            return await k.calc_fig(fig, opts={"format": "svg", "width": width, "height": height})

        return asyncio.run_coroutine_threadsafe(render(), self._loop)

    def result(self, pending: Future) -> str:
        """The SVG text of a submitted figure."""
        self._browser()  # a browser that failed to start is explained, not a traceback
        return pending.result(timeout=300).decode("utf-8")

    def svgs(self, figures: list[tuple[go.Figure, int, int]]) -> list[str]:
        """SVG text of each (figure, width, height), in order."""
        return [self.result(f) for f in [self.submit(*spec) for spec in figures]]

    def close(self) -> None:
        """Close the browser and stop the loop (safe to call twice, and after a failed start)."""
        if self._closed:
            return
        self._closed = True
        try:
            if self._kaleido.exception(timeout=120) is None:
                asyncio.run_coroutine_threadsafe(self._kaleido.result().close(), self._loop).result(timeout=60)
        except Exception:  # noqa: BLE001 - closing must not hide the error that brought us here
            pass
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=30)
            if not self._thread.is_alive():
                self._loop.close()

    def __enter__(self) -> ChartRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wrap_title(text: str, width: int = 46) -> str:
    """Plotly does not wrap titles: break long ones onto two lines so half-width charts keep them whole."""
    return "<br>".join(textwrap.wrap(text, width)) or text


def _svg_uri(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


# ---------------------------------------------------------------------------------------------
# How figures read


def _fmt(k: Kpi, value: float | None) -> str:
    return format_kpi_value(k, value)


def _ratio(k: Kpi, numerator: int | None, denominator: int | None) -> str:
    """The cases behind a ratio: '7 of 8' (a %) or '42 in 20,000 homes' (per 1,000 homes)."""
    if denominator is None or numerator is None:
        return ""
    if k.kind == "per_1000_homes":
        return f"{numerator:,} in {denominator:,} homes"
    return f"{numerator:,} of {denominator:,}" if denominator else "no cases"


def _change(k: Kpi, change: float | None, higher_is_better: bool | None) -> tuple[str, str]:
    """Change since last week as text, and better/worse/same for its colour (from unrounded figures)."""
    if change is None:
        return NO_DATA, "none"
    if change == 0:
        return "no change", "same"
    size = format_kpi_value(k, abs(change)).rstrip("%")  # as precise as the figures themselves
    sign = "+" if change > 0 else "−"
    if not any(c in "123456789" for c in size):  # a change too small to show: "−0.0" would puzzle
        size, sign = "under " + size[:-1] + "1", ""
    text = sign + size + (" pts" if k.kind == "pct" else "")
    arrow = "▲" if change > 0 else "▼"
    if higher_is_better is None:
        return f"{arrow} {text}", "none"
    better = (change > 0) == higher_is_better
    return f"{arrow} {text}", "better" if better else "worse"


def _target(k: Kpi, goal: Target | None) -> str:
    if goal is None or goal.target is None or goal.higher_is_better is None:
        return NO_DATA
    return ("≥ " if goal.higher_is_better else "≤ ") + format_kpi_value(k, goal.target)


def _status(rag: str | None, value: float | None) -> dict:
    word, symbol = RAG_LABELS[rag] if value is not None else ("No data", "·")
    return {"rag": rag or "none", "symbol": symbol, "word": word}


def _day(value: date | datetime | None) -> str:
    if isinstance(value, datetime):
        value = value.date()
    return format_date(value)


def _deadline(value: datetime) -> str:
    """A working-day deadline is a whole date (ends 23:59:59.999); an hour clock keeps its time."""
    if value.time() >= time(23, 59, 59):
        return format_date(value.date())
    return format_date(value)


def _days(value: float) -> str:
    return f"{value:,.1f}"


def _whole(value: int) -> str:
    return f"{value:,}"


def _words(value: str) -> str:
    return str(value).replace("_", " ")


def _clocks(value: str) -> str:
    return "; ".join(CLOCK_SHORT_NAMES.get(c.strip(), c.strip()) for c in value.split(","))


# ---------------------------------------------------------------------------------------------
# The pack's content


@dataclass
class Chart:
    title: str
    uri: str | None = None  # SVG data URI once drawn; None when there is nothing to draw
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
    change, direction = _change(k, row["change"], row["higher_is_better"])
    return {
        "id": k.id,
        "title": k.title,
        "whole_extract": k.id in WHOLE_EXTRACT_KPIS,
        "value": _fmt(k, row["value"]),
        "ratio": _ratio(k, row["numerator"], row["denominator"]),
        "previous": _fmt(k, row["previous_value"]),
        "change": change,
        "direction": direction,
        "target": _target(k, goal),
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
        Column("id", "Case", 10), Column("area", "Area", 12), Column("team_id", "Team", 16),
        Column("reported_at", "Reported", 10.5, _day, kind="date"),
        Column("hazard_level", "Hazard", 10, _words, "not assessed"),
        Column("clocks_breached", "Deadlines missed", 18, _clocks),
        Column("first_breached_due_by", "First deadline", 14, _deadline, kind="date"),
        Column("days_open", "Days open", 9.5, _days, kind="num"),
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


def _exception_table(kpi_id: str, rows: pl.DataFrame, scope: Scope, as_of: date) -> dict:
    columns = EXCEPTION_COLUMNS[kpi_id]
    if scope.teams is not None and len(scope.teams) == 1:  # one team: its id in every row says nothing
        columns = [c for c in columns if c.name != "team_id"]
    title, text = EXCEPTION_TEXT[kpi_id]
    shown = rows.head(MAX_EXCEPTION_ROWS)
    body = [[c.missing if r[c.name] is None else c.fmt(r[c.name]) for c in columns]
            for r in shown.iter_rows(named=True)]
    note = ""
    if rows.height > MAX_EXCEPTION_ROWS:
        flags = "".join(f" --region {scope.region}" if scope.region else "")
        flags += "".join(f" --team {t}" for t in scope.teams or ())
        note = (f"The first {MAX_EXCEPTION_ROWS} of {rows.height:,} are listed. The full list: python -m "
                f"housing_assurance cases --data EXTRACT --as-of {as_of.isoformat()}{flags} --kpi {kpi_id}")
    return {"id": kpi_id, "title": title, "text": text, "count": rows.height, "kpi_title": KPIS[kpi_id].title,
            "headings": [c.heading for c in columns], "kinds": [c.kind for c in columns],
            "widths": [c.width for c in columns], "rows": body,
            "note": note}


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
            cells.append({"value": _fmt(pct, r[column]), "status": _status(rag, r[column])})
            missed = missed or rag in ("amber", "red")
        row = {"name": r["contractor_name"] or r["contractor_id"],
               "type": "In-house" if r["is_in_house"] else "Contractor",
               "jobs": _fmt(count, r["jobs_completed"]), "measures": cells,
               "follow_on": _fmt(pct, r["follow_on_jobs_pct"]), "no_access": _fmt(pct, r["no_access_pct"]),
               "landlord_missed": _fmt(pct, r["landlord_missed_pct"]),
               "avg_cost": NO_DATA if r["avg_cost_gbp"] is None else _fmt(gbp, r["avg_cost_gbp"])}
        all_rows.append(row)
        if missed:
            below.append(row)
    return {"rows": all_rows}, {"rows": below}


def _contractor_targets(goals: dict[str, Target]) -> str:
    """The targets contractors are judged against, in words, e.g. 'on time ≥ 90.0%, first-time fix ≥ 85.0% …'."""
    pct, parts = KPIS["ct.external_on_time_pct"], []
    for stub, label in (("on_time_pct", "on time"), ("first_time_fix_pct", "first-time fix"),
                        ("satisfaction_pct", "satisfied")):
        both = {_target(pct, goals.get(f"ct.{kind}_{stub}")) for kind in ("in_house", "external")}
        parts.append(f"{label} {' / '.join(sorted(both))}")
    return ", ".join(parts)


def _scope_words(extract: Extract, scope: Scope) -> str:
    """The scope as a reader names it: team names as well as ids."""
    parts = []
    if scope.region:
        parts.append(f"Region {scope.region}")
    if scope.teams:
        names = extract.sql("select team_id, team_name from teams where list_contains($t, team_id)",
                            t=list(scope.teams))
        by_id = dict(zip(names["team_id"], names["team_name"], strict=True))
        parts.append(("Team " if len(scope.teams) == 1 else "Teams ")
                     + ", ".join(f"{by_id.get(t, t)} ({t})" for t in scope.teams))
    return " · ".join(parts) or "Whole landlord"


def _report(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)


def build_pack(extract: Extract, as_of: date, scope: Scope = WHOLE_LANDLORD, progress: Progress | None = None,
               renderer: ChartRenderer | None = None, prepared_for: str | None = None,
               risk_scores: pl.DataFrame | None = None) -> bytes:
    """The pack as PDF bytes (for the app's download button and `write_pack`).

    Raises PackError when the extract, date or scope would give a misleading pack. `renderer` lets
    the caller start Chromium before opening the extract; otherwise the pack starts and stops its own.
    `prepared_for` names the user whose scope the pack shows (on the cover), when there is one.
    `risk_scores` are the week's homes-at-risk scores when the caller has them already (the app).
    """
    _report(progress, "Checking the extract", 0.0)
    notes = check_inputs(extract, as_of, scope)  # a wrong request fails before Chromium starts
    own_renderer = renderer is None
    if own_renderer:
        renderer = ChartRenderer()  # boots while the figures are computed
    try:
        return _build(extract, as_of, scope, notes, progress, renderer, prepared_for, risk_scores)
    finally:
        if own_renderer:
            renderer.close()


def _warm_up_layout() -> None:
    """Import WeasyPrint and Jinja2 (about a second) while DuckDB, which releases the GIL, computes."""
    import jinja2  # noqa: F401
    import weasyprint  # noqa: F401


def _trend(k: Kpi, row: dict, goal: Target | None, renderer: ChartRenderer) -> Chart:
    """A KPI's 13 weeks as drawn by charts.trend_chart (sent to the browser at once)."""
    chart = Chart(k.title)
    history = row["history"]
    if all(v is None for v in history):
        chart.empty = "No cases due in any of the 13 weeks." if k.kind == "pct" else "No data in the 13 weeks."
        return chart
    series = pl.DataFrame({"as_of": row["history_as_of"], "value": history},
                          schema={"as_of": pl.Date, "value": pl.Float64})
    title = _wrap_title(k.title)
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


def _build(extract: Extract, as_of: date, scope: Scope, notes: list[str], progress: Progress | None,
           renderer: ChartRenderer, prepared_for: str | None, risk_scores: pl.DataFrame | None) -> bytes:
    goals = targets()
    threading.Thread(target=_warm_up_layout, name="pack-imports", daemon=True).start()
    # The homes-at-risk model trains (seconds) while the figures are computed and the charts drawn.
    at_risk = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-risk")
    homes_at_risk = at_risk.submit(_homes_at_risk, extract, as_of, scope, risk_scores)
    at_risk.shutdown(wait=False)

    _report(progress, "Computing figures", 0.05)
    ids = [k.id for k in CATALOGUE]
    board = scorecard_from_history(trend(extract, as_of, TREND_WEEKS, scope, ids), as_of, ids)
    by_id = {r["kpi_id"]: r for r in board.iter_rows(named=True)}

    _report(progress, "Drawing trends", 0.4)
    sections: list[Section] = []
    for key, name in SECTIONS:
        members = [k for k in CATALOGUE if DOMAINS[k.domain] == name]
        section = Section(key, name, [_kpi_row(by_id[k.id], goals.get(k.id)) for k in members])
        section.trends = [_trend(KPIS[i], by_id[i], goals.get(i), renderer) for i in SECTION_TRENDS[key]]
        sections.append(section)

    _report(progress, "Listing cases", 0.55)
    rows_by_query: dict[str, pl.DataFrame] = {}

    def case_rows(kpi_id: str) -> pl.DataFrame:
        k = KPIS[kpi_id]
        if k.query not in rows_by_query:
            rows_by_query[k.query] = query_rows(extract, k.query, [as_of], scope)
        rows = select_rows(rows_by_query[k.query], k)
        if rows.height != by_id[kpi_id]["value"]:  # the drill-down always matches its figure; never print if not
            raise RuntimeError(f"{kpi_id}: {rows.height} cases listed but the figure is {by_id[kpi_id]['value']}")
        return rows

    exceptions = [_exception_table(i, case_rows(i), scope, as_of) for i in EXCEPTION_COLUMNS]
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
            chart = Chart(f"Repairs on time by contractor, 13 weeks to {format_date(as_of)}")
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
                chart.uri = _svg_uri(renderer.result(chart.pending))

    _report(progress, "Laying out pages", 0.8)
    start, end = week_period(as_of)
    context = {
        "landlord": extract.landlord,
        "as_of": format_date(as_of),
        "as_of_long": as_of.strftime("%A %-d %B %Y"),
        "weekday": as_of.strftime("%A"),
        "week": f"{format_date(start)} to {format_date(end)}",
        "scope": _scope_words(extract, scope),
        "prepared_for": prepared_for,
        "data_as_at": f"midnight at the end of {format_date(as_of)}",
        "extracted_at": format_date(extract.extracted_at),
        "produced_at": format_date(datetime.now().replace(second=0, microsecond=0)),
        "trend_from": format_date(as_of - timedelta(weeks=TREND_WEEKS - 1)),
        "notes": notes,
        "headline": [{**_kpi_row(by_id[i], goals.get(i)), "domain": DOMAINS[KPIS[i].domain]} for i in HEADLINE],
        "sections": sections,
        "exceptions": exceptions,
        "contractors_below": contractors_below,
        "contractor_targets": _contractor_targets(goals),
        "homes_at_risk": homes_at_risk.result(),
        "marking": MARKING,
        "no_data": NO_DATA,
    }
    pdf = _render_pdf(context)
    _report(progress, "Done", 1.0)
    return pdf


def _homes_at_risk(extract: Extract, as_of: date, scope: Scope, scored: pl.DataFrame | None, n: int = 20) -> dict:
    """The top homes at risk of a damp and mould report in the next 13 weeks, by area and property id only."""
    from housing_assurance.risk import RiskError, top_homes_at_risk

    try:
        top = top_homes_at_risk(extract, as_of, scope, n=n, scored=scored)
    except RiskError as exc:
        return {"rows": [], "note": str(exc)}
    rows = [{"rank": r["rank"], "property_id": r["property_id"], "area": r["area"] or NO_DATA,
             "type": str(r["property_type"] or NO_DATA).replace("_", " "), "band": r["band"],
             "reasons": r["reasons"]} for r in top.iter_rows(named=True)]
    return {"rows": rows, "note": None}


def _render_pdf(context: dict) -> bytes:
    import jinja2
    from weasyprint import CSS, HTML

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("pack.html.j2").render(**context)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(stylesheets=[CSS(filename=TEMPLATES / "pack.css")])


# ---------------------------------------------------------------------------------------------
# Writing the file


def check_destination(out_path: Path) -> None:
    if out_path.is_dir():
        raise PackError(f"{out_path} is a folder; give a file name such as {out_path / 'pack.pdf'}")
    folder = out_path.parent
    if not folder.is_dir():
        raise PackError(f"no folder {folder} to write {out_path.name} into")
    if not os.access(folder, os.W_OK):
        raise PackError(f"cannot write to the folder {folder}")


def write_pack(extract: Extract, as_of: date, scope: Scope, out_path: str | Path, progress: Progress | None = None,
               renderer: ChartRenderer | None = None, prepared_for: str | None = None) -> Path:
    """Build the pack and write it atomically: a temporary file in the same folder, then os.replace.

    Nothing is written until the whole pack is built, and an error never leaves a half-written
    file or touches an existing one. The file is readable by its owner and group only (it holds
    personal data), unless it replaces a file whose permissions it then keeps.
    """
    out_path = Path(out_path)
    check_destination(out_path)  # before a quarter of a minute's work, not after
    pdf = build_pack(extract, as_of, scope, progress, renderer, prepared_for)
    check_destination(out_path)
    mode = out_path.stat().st_mode & 0o777 if out_path.is_file() else 0o640
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path
