"""Figures for any week and scope in milliseconds, equal to kpis.compute: the app's and the pack's source.

Why it exists: a page shows every KPI of its domain with 13- and 52-week trends, and a change of
week, region or team has to answer in well under a second, while running the KPI queries again for
every (weeks, scope) takes seconds. A KPI query's rows for a scope are exactly the whole landlord's
rows that the scope rule keeps (kpis.md: the scope chooses which rows are counted; look-backs
search the whole extract). So each query runs once per week for the whole landlord, its rows are
kept in DuckDB grouped by the columns that KPIs filter on and breakdowns group by (with a count
`n`; queries behind a median, mean or sum keep one row per case), and a scope's rows are read back
through the one SQL scope rule (queries/figure_rows_*.sql). The arithmetic is kpis.aggregate, the
function kpis.compute uses. Drill-downs never come from here: they call kpis.cases.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterable, Sequence
from datetime import date

import duckdb
import polars as pl
from duckdb import sqltypes

from housing_assurance import why
from housing_assurance.db import Extract, fetch_rows, relation, run_query, run_query_over
from housing_assurance.kpis import (
    CATALOGUE,
    KPIS,
    QUERY_SCOPES,
    Kpi,
    aggregate,
    compute,
    homes,
    query_params,
    query_rows,
    scoped_rows_query,
    select_rows,
    withheld,
    withhold,
)
from housing_assurance.scope import WHOLE_LANDLORD, Scope, ScopeKind

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

FIGURE_SCHEMA = {"as_of": pl.Date, "kpi_id": pl.Utf8, "value": pl.Float64, "numerator": pl.Int64,
                 "denominator": pl.Int64}

# Queries whose rows are kept one per case (a median, mean or sum needs the values themselves).
_VALUE_KINDS = ("median", "mean", "sum", "sum_gbp")


def _queries() -> dict[str, list[Kpi]]:
    out: dict[str, list[Kpi]] = {}
    for k in CATALOGUE:
        out.setdefault(k.query, []).append(k)
    return out


QUERY_KPIS = _queries()
SQL_QUERIES = [q for q in QUERY_KPIS if q != "validation"]


def kept_columns(query: str, columns: Sequence[str]) -> list[str]:
    """The columns kept for a query: what KPIs filter on, count, average, and group by."""
    wanted = {"as_of", "region", "team_id"} | set(DIMENSIONS)
    for k in QUERY_KPIS[query]:
        wanted |= set(k.where)
        wanted |= {c for c in (k.meets, k.value_column) if c}
    return [c for c in columns if c in wanted]


def keeps_one_row_per_case(query: str) -> bool:
    return any(k.kind in _VALUE_KINDS for k in QUERY_KPIS[query])


def counted_by_a_kpi(query: str) -> duckdb.Expression | None:
    """The rows at least one KPI of the query counts (its `where`), None when one counts every row: a
    query may list rows only other readers use (rp_completed_jobs' year to date, for the TSM return),
    and the store keeps none of them."""
    either = None
    for k in QUERY_KPIS[query]:
        if not k.where:
            return None
        every = None
        for column, value in k.where.items():
            values = value if isinstance(value, tuple) else (value,)
            test = duckdb.ColumnExpression(column).isin(*(duckdb.ConstantExpression(v) for v in values))
            every = test if every is None else every & test
        either = every if either is None else either | every
    return either


def grouped_rows(con: duckdb.DuckDBPyConnection, query: str, weeks: list[date]) -> duckdb.DuckDBPyRelation:
    """The whole landlord's rows of a KPI query for the weeks that a KPI counts, grouped by the kept
    columns with a count `n` (one row each, n = 1, for a query behind a median, mean or sum) and the
    facts a line of why reads (why.py): a relation, not yet run."""
    raw = relation(con, query, query_params(query, weeks, WHOLE_LANDLORD))
    counted = counted_by_a_kpi(query)
    if counted is not None:
        raw = raw.filter(counted)
    kept = [duckdb.ColumnExpression(c) for c in kept_columns(query, raw.columns)]
    if keeps_one_row_per_case(query):
        return raw.select(*kept, duckdb.ConstantExpression(1).cast(sqltypes.BIGINT).alias("n"),
                          *why.row_facts(raw.columns))
    count = duckdb.FunctionExpression("count_star").cast(sqltypes.BIGINT).alias("n")
    return raw.aggregate([*kept, count, *why.group_facts(raw.columns)], "all")


class FigureStore:
    """Whole-landlord KPI rows per query and week, kept in DuckDB: in a prepared store, for every week
    and (in its figures table) every figure of every prepared scope; in memory, filled on demand."""

    _stores = itertools.count(1)

    def __init__(self, extract: Extract, name: str | None = None):
        self.extract = extract
        # Its own tables (two stores on one connection never share one); a prepared store's are fixed.
        self._name = name or ("figure_rows" if extract.store else f"figure_rows_{next(self._stores)}")
        self._locks: dict[str, threading.Lock] = {q: threading.Lock() for q in SQL_QUERIES}
        self.prepared_weeks: set[date] = set()
        self.prepared_scopes: set[str] = set()
        if extract.store is not None:
            prepared = fetch_rows(extract.con, "store/prepared")
            self.prepared_weeks = {date.fromisoformat(r["value"]) for r in prepared if r["kind"] == "week"}
            self.prepared_scopes = {r["value"] for r in prepared if r["kind"] == "scope"}
        self._held: dict[str, set[date]] = {q: set(self.prepared_weeks) for q in SQL_QUERIES}

    # ------------------------------------------------------------------ rows

    def rows_table(self, query: str) -> str:
        return f"{self._name}_{query}"

    def weeks_held(self, query: str) -> set[date]:
        return set(self._held[query])

    def ensure(self, query: str, weeks: Iterable[date]) -> None:
        """Run the query for the weeks not yet held (once, whichever thread asks first)."""
        held = self._held[query]
        if all(w in held for w in weeks):
            return
        with self._locks[query]:
            missing = sorted(set(weeks) - held)
            if not missing:
                return
            cur = self.extract.con.cursor()
            try:
                rel = grouped_rows(cur, query, missing)
                if held:
                    rel.insert_into(self.rows_table(query))
                else:
                    rel.create(self.rows_table(query))
            finally:
                cur.close()
            held.update(missing)

    def rows(self, query: str, weeks: Sequence[date], scope: Scope = WHOLE_LANDLORD) -> pl.DataFrame:
        """The (grouped) rows of one query that the scope counts, for the weeks (by the SQL scope rule)."""
        weeks = list(dict.fromkeys(weeks))
        if not weeks:
            raise ValueError("no weeks asked for")
        if query == "validation":  # about the whole extract, never scoped
            return query_rows(self.extract, query, weeks, WHOLE_LANDLORD)
        if self.extract.store is not None and not set(weeks) <= self.prepared_weeks:
            # a week a (read-only) store did not prepare, over ten years back: grouped now, not kept
            cur = self.extract.con.cursor()
            try:
                held = grouped_rows(cur, query, weeks).pl()
            finally:
                cur.close()
            return run_query_over(self.extract.con, scoped_rows_query(query), {"held_rows": held},
                                  {"rows_table": "held_rows", "as_of_dates": weeks, **scope.params()})
        self.ensure(query, weeks)
        return run_query(self.extract.con, scoped_rows_query(query),
                         {"rows_table": self.rows_table(query), "as_of_dates": weeks, **scope.params()})

    # ------------------------------------------------------------------ figures

    def kpi_rows(self, kpi_id: str, weeks: Sequence[date], scope: Scope) -> pl.DataFrame:
        """The (grouped) rows behind a KPI for the weeks and scope, `meets` added for a % KPI."""
        k = KPIS[kpi_id]
        return select_rows(self.rows(k.query, weeks, scope), k)

    def figures(self, weeks: Sequence[date], scope: Scope = WHOLE_LANDLORD,
                kpi_ids: Sequence[str] | None = None) -> pl.DataFrame:
        """One row per (as_of, kpi_id): value, numerator, denominator, as kpis.compute gives them.

        From a prepared store's figures table when it holds the weeks and the scope; from the kept rows,
        scoped in SQL, for any other scope; from the KPI queries for weeks a read-only store lacks."""
        return self.figures_of_scopes(weeks, [scope], kpi_ids)[scope.key]

    def figures_of_scopes(self, weeks: Sequence[date], scopes: Sequence[Scope],
                          kpi_ids: Sequence[str] | None = None) -> dict[str, pl.DataFrame]:
        """figures() of several scopes (every team, say), by scope key: the scopes a store prepared are read
        from its figures table at once (19 teams at 120,000 homes: 8 ms rather than 150 ms)."""
        weeks = list(weeks)
        wanted = [KPIS[i] for i in kpi_ids] if kpi_ids else list(CATALOGUE)
        if self.extract.store is not None and not set(weeks) <= self.prepared_weeks:
            return {s.key: compute(self.extract, weeks, s, [k.id for k in wanted]) for s in scopes}
        stored = [s.key for s in scopes if s.key in self.prepared_scopes]
        out = {key: [] for key in stored}
        if stored:
            for r in fetch_rows(self.extract.con, "store/figures", {
                    "scope_keys": stored, "as_of_dates": weeks, "kpi_ids": [k.id for k in wanted]}):
                out[r["scope_key"]].append(r)
        order = {k.id: i for i, k in enumerate(wanted)}
        figures = {key: pl.DataFrame(sorted(found, key=lambda r: (order[r["kpi_id"]], r["as_of"])),
                                     schema=FIGURE_SCHEMA) for key, found in out.items()}
        for scope in scopes:
            if scope.key not in figures:
                figures[scope.key] = self._figures_from_rows(weeks, scope, wanted)
        return figures

    def _figures_from_rows(self, weeks: list[date], scope: Scope, wanted: list[Kpi]) -> pl.DataFrame:
        dates = pl.DataFrame({"as_of": weeks}, schema={"as_of": pl.Date})
        rows_by_query = {q: self.rows(q, weeks, scope) for q in dict.fromkeys(k.query for k in wanted)}
        homes_by_date = homes(self.extract, weeks, scope) if any(k.kind == "per_1000_homes" for k in wanted) else None
        out = [aggregate(select_rows(rows_by_query[k.query], k), k, dates, homes_by_date) for k in wanted]
        return withhold(pl.concat(out), withheld(self.extract, wanted)) if out else pl.DataFrame()

    def figures_for_scopes(self, scopes_table: str, weeks: Sequence[date]) -> pl.DataFrame:
        """Every KPI for every week and every scope listed in `scopes_table` (scope_key, scope_region,
        scope_teams): one row per scope_key, as_of, kpi_id, as figures() would give each (a store's table)."""
        weeks = list(weeks)
        keys = run_query(self.extract.con, "store/homes_by_scope", {"scopes_table": scopes_table, "as_of_dates": weeks})
        dates = keys.select("scope_key", "as_of")
        out = []
        for query, kpis_of_query in QUERY_KPIS.items():
            if query == "validation":
                rows = query_rows(self.extract, query, weeks, WHOLE_LANDLORD).join(dates, on="as_of")
            else:
                self.ensure(query, weeks)
                by_households = QUERY_SCOPES[query] is ScopeKind.HOUSEHOLDS
                needed = {"as_of"} | {c for k in kpis_of_query for c in (*k.where, k.meets, k.value_column) if c}
                rows = run_query(self.extract.con, "store/scoped_rows_by_households" if by_households
                                 else "store/scoped_rows_by_rows",
                                 {"scopes_table": scopes_table, "rows_table": self.rows_table(query),
                                  "columns": sorted(needed), "grouped": not keeps_one_row_per_case(query)})
            out += [aggregate(select_rows(rows, k), k, dates, keys) for k in kpis_of_query]
        return withhold(pl.concat(out), withheld(self.extract, CATALOGUE))
