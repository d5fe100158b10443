"""The app's figure store: any KPI for any week and scope in milliseconds, equal to kpis.compute.

Why it exists: a page shows every KPI of its domain with 13- and 52-week trends, and a change of
week, region or team has to answer in under a second. Running the KPI queries again for every
(weeks, scope) takes seconds. But a KPI query's rows for a scope are exactly the whole landlord's
rows whose region and team pass the scope (kpis.md: the scope chooses which rows are counted,
look-backs search the whole extract; the household-level vu.* rows follow the scope's regions). So
the store runs each query once per week for the whole landlord, keeps its rows grouped by the
columns that KPIs filter on and breakdowns group by (a row count `n` per group), and aggregates the
rows a scope counts. Queries whose KPIs take a median, mean or sum keep one row
per case. The arithmetic is kpis.aggregate, the very function kpis.compute uses; tests/test_app.py
checks the store against kpis.compute for several weeks and scopes.

Drill-downs never come from here: they call kpis.cases, the one definition of the rows behind a figure.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from datetime import date

import polars as pl

from housing_assurance.db import Extract, run_sql
from housing_assurance.kpis import CATALOGUE, KPIS, WHOLE_LANDLORD, Kpi, Scope, aggregate, query_rows, select_rows
from housing_assurance.scorecard import HEADLINE, scorecard_from_history

# Columns a breakdown may group by, with the heading a reader sees. Vulnerability type is only ever
# offered on the Vulnerability and records page (see breakdowns.py).
DIMENSIONS: dict[str, str] = {
    "region": "Region",
    "area": "Area",
    "team_id": "Team",
    "contractor_id": "Contractor",
    "is_in_house": "In-house or contractor",
    "category": "Category",
    "priority": "Priority",
    "hazard_level": "Hazard level",
    "root_cause": "Root cause",
    "clock": "Awaab's Law clock",
    "source": "How it was reported",
    "current_stage": "Stage",
    "stage": "Stage",
    "final_stage": "Stage",
    "outcome": "Outcome",
    "vulnerability_type": "Vulnerability type",
}

# Queries whose rows are kept one per case (a median, mean or sum needs the values themselves).
_VALUE_KINDS = ("median", "mean", "sum", "sum_gbp")


def _queries() -> dict[str, list[Kpi]]:
    out: dict[str, list[Kpi]] = {}
    for k in CATALOGUE:
        out.setdefault(k.query, []).append(k)
    return out


QUERY_KPIS = _queries()


def _kept_columns(query: str, columns: Sequence[str]) -> list[str]:
    """The columns the store keeps for a query: what KPIs filter on, count, average, and group by."""
    wanted = {"as_of", "region", "team_id"} | set(DIMENSIONS)
    for k in QUERY_KPIS[query]:
        wanted |= set(k.where)
        wanted |= {c for c in (k.meets, k.value_column) if c}
    return [c for c in columns if c in wanted]


def keeps_one_row_per_case(query: str) -> bool:
    return any(k.kind in _VALUE_KINDS for k in QUERY_KPIS[query])


class FigureStore:
    """Whole-landlord KPI rows per query and week, filled on demand (and by a warm-up thread)."""

    def __init__(self, extract: Extract):
        self.extract = extract
        self._weeks: dict[str, dict[date, pl.DataFrame]] = {q: {} for q in QUERY_KPIS}
        self._locks: dict[str, threading.Lock] = {q: threading.Lock() for q in QUERY_KPIS}
        self._homes: dict[date, dict[str | None, int]] = {}
        self._homes_lock = threading.Lock()
        teams = extract.sql("select team_id, region from teams")
        self.team_regions: dict[str, str] = dict(zip(teams["team_id"].to_list(), teams["region"].to_list(),
                                                     strict=True))

    # ------------------------------------------------------------------ rows

    def weeks_held(self, query: str) -> set[date]:
        return set(self._weeks[query])

    def rows(self, query: str, weeks: Iterable[date]) -> pl.DataFrame:
        """The whole landlord's (grouped) rows of one query for the weeks, computing missing weeks once."""
        weeks = list(dict.fromkeys(weeks))
        held = self._weeks[query]
        missing = [w for w in weeks if w not in held]
        if missing:
            with self._locks[query]:
                missing = sorted(w for w in weeks if w not in held)
                if missing:
                    self._fetch(query, missing)
        if not weeks:
            raise ValueError("no weeks asked for")
        return pl.concat([held[w] for w in weeks], how="vertical")

    def _fetch(self, query: str, weeks: list[date]) -> None:
        raw = query_rows(self.extract, query, weeks, WHOLE_LANDLORD, ordered=False)
        kept = raw.select(_kept_columns(query, raw.columns))
        if keeps_one_row_per_case(query):
            kept = kept.with_columns(n=pl.lit(1, pl.Int64))
        else:
            kept = kept.group_by(kept.columns).agg(n=pl.len().cast(pl.Int64))
        parts = kept.partition_by("as_of", as_dict=True)
        empty = kept.clear()
        for w in weeks:
            self._weeks[query][w] = parts.get((w,), empty)

    # ------------------------------------------------------------------ scope

    def scope_regions(self, scope: Scope) -> list[str] | None:
        """The regions whose homes and households make the denominators (as scope_regions in _setup.sql)."""
        if scope.region is not None:
            return [scope.region]
        if scope.teams is not None:
            return sorted({self.team_regions[t] for t in scope.teams if t in self.team_regions})
        return None

    def in_scope(self, query: str, frame: pl.DataFrame, scope: Scope) -> pl.DataFrame:
        """The rows of a query that the scope counts (in_scope, or the scope's regions for households)."""
        if query == "validation":
            return frame  # validation findings are about the whole extract, never scoped
        if "team_id" in frame.columns:
            if scope.region is not None:
                frame = frame.filter(pl.col("region") == scope.region)
            if scope.teams is not None:
                frame = frame.filter(pl.col("team_id").is_in(list(scope.teams)))
            return frame
        regions = self.scope_regions(scope)
        return frame if regions is None else frame.filter(pl.col("region").is_in(regions))

    def homes(self, weeks: Sequence[date], scope: Scope) -> pl.DataFrame:
        """as_of, homes: the per-1,000-homes denominator (as queries/homes.sql)."""
        missing = [w for w in weeks if w not in self._homes]
        if missing:
            with self._homes_lock:
                missing = sorted(w for w in weeks if w not in self._homes)
                if missing:
                    by_region = run_sql(self.extract.con, _HOMES_BY_REGION, {"as_of_dates": missing})
                    for w in missing:
                        self._homes[w] = {}
                    for r in by_region.iter_rows(named=True):
                        self._homes[r["as_of"]][r["region"]] = int(r["homes"])
        regions = self.scope_regions(scope)
        values = []
        for w in weeks:
            counts = self._homes[w]
            if regions is None:
                values.append(counts.get(None, 0))
            else:
                values.append(sum(counts.get(r, 0) for r in regions))
        return pl.DataFrame({"as_of": list(weeks), "homes": values}, schema={"as_of": pl.Date, "homes": pl.Int64})

    # ------------------------------------------------------------------ figures

    def kpi_rows(self, kpi_id: str, weeks: Sequence[date], scope: Scope) -> pl.DataFrame:
        """The (grouped) rows behind a KPI for the weeks and scope, `meets` added for a % KPI."""
        k = KPIS[kpi_id]
        return select_rows(self.in_scope(k.query, self.rows(k.query, weeks), scope), k)

    def figures(self, weeks: Sequence[date], scope: Scope = WHOLE_LANDLORD,
                kpi_ids: Sequence[str] | None = None) -> pl.DataFrame:
        """One row per (as_of, kpi_id): value, numerator, denominator, as kpis.compute gives them."""
        weeks = list(weeks)
        wanted = [KPIS[i] for i in kpi_ids] if kpi_ids else list(CATALOGUE)
        dates = pl.DataFrame({"as_of": weeks}, schema={"as_of": pl.Date})
        homes = None
        out = []
        for k in wanted:
            rows = self.kpi_rows(k.id, weeks, scope)
            if k.kind == "per_1000_homes" and homes is None:
                homes = self.homes(weeks, scope)
            out.append(aggregate(rows, k, dates, homes))
        return pl.concat(out) if out else pl.DataFrame()

    def scorecard(self, as_of: date, scope: Scope = WHOLE_LANDLORD,
                  kpi_ids: Sequence[str] = HEADLINE, weeks: int = 13) -> pl.DataFrame:
        """scorecard.scorecard from the store's figures."""
        from housing_assurance.kpis import weeks_ending

        history = self.figures(weeks_ending(as_of, weeks), scope, list(kpi_ids))
        return scorecard_from_history(history, as_of, list(kpi_ids))

    # ------------------------------------------------------------------ warm-up

    def warm(self, weeks_newest_first: Sequence[date], pause: Callable[[], None] | None = None,
             chunk: int = 8) -> None:
        """Fill the store for these weeks, newest first, a few weeks at a time (run in a thread);
        `pause` is called before each query so the caller can hold the work back while users wait."""
        weeks = list(weeks_newest_first)
        for start in range(0, len(weeks), chunk):
            part = weeks[start:start + chunk]
            self.homes(part, WHOLE_LANDLORD)
            for query in QUERY_KPIS:
                if pause is not None:
                    pause()
                self.rows(query, part)


# Homes in stock per region (and, under a null region, every home: the whole landlord's denominator
# also counts homes with no region), with the same macro as queries/homes.sql.
_HOMES_BY_REGION = """
with weeks as (
    select * from reporting_weeks($as_of_dates)
),

regions as (
    select distinct region from properties where region is not null
),

final as (
    select w.as_of, r.region, homes_in_stock(w.as_of, [r.region]) as homes
    from weeks as w cross join regions as r
    union all
    select w.as_of, null as region, homes_in_stock(w.as_of, null) as homes
    from weeks as w
)

select * from final
"""
