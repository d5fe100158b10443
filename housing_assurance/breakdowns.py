"""Breakdowns of a KPI (by region, team, contractor, category …) and the team-by-team comparison.

A breakdown is the rows behind the figure, grouped: each bar is aggregated from exactly the rows
that `cases_behind_bar` keeps from kpis.cases, so a bar's count always equals the cases it opens.
No Streamlit here: the app caches these, the PDF pack can reuse them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import polars as pl

from housing_assurance import clocks
from housing_assurance.db import Extract, query_columns
from housing_assurance.figures import DIMENSIONS, FigureStore
from housing_assurance.kpis import KPIS, Kpi, aggregate, query_params
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.words import humanise

NONE_KEY = "(none)"  # the URL value of a bar whose column is null ("not recorded")

# Dimensions offered first for each domain, in order (others follow if the KPI's rows have them).
PREFERRED = {
    "dm": ("region", "team_id", "hazard_level", "root_cause", "clock", "source", "area"),
    "rp": ("region", "team_id", "contractor_id", "category", "priority", "area"),
    "cx": ("region", "team_id", "category", "current_stage", "stage", "final_stage", "outcome", "area"),
    "ct": ("contractor_id", "category", "region", "team_id", "priority"),
    "vu": ("region", "area", "vulnerability_type"),
    "dq": ("region", "team_id", "hazard_level", "area"),
}

# Special-category data: the vulnerability type is offered only on the Vulnerability and records page.
SENSITIVE_DIMENSIONS = frozenset({"vulnerability_type"})

# Breakdowns whose bars are places with homes, where a count can be put per 1,000 homes (a team's homes
# are its region's: queries/homes_by.sql).
PER_HOMES_DIMENSIONS = ("region", "area", "team_id")


def dimensions_for(store: FigureStore, kpi_id: str, sensitive_allowed: bool = False) -> dict[str, str]:
    """The columns this KPI's rows can be broken down by, preferred ones first."""
    k = KPIS[kpi_id]
    if k.query == "validation":
        return {}
    columns = set(query_columns(store.extract.con, k.query, query_params(k.query, [], WHOLE_LANDLORD)))
    columns -= set(k.where)
    order = list(PREFERRED.get(k.domain, ())) + list(DIMENSIONS)
    dims = {}
    for col in dict.fromkeys(order):
        if col in columns and (sensitive_allowed or col not in SENSITIVE_DIMENSIONS):
            dims[col] = DIMENSIONS[col]
    return dims


def names(extract: Extract, kind: str) -> dict[str, str]:
    """Ids to what a reader sees, for 'team', 'contractor' or 'region' (queries/names.sql)."""
    found = extract.query("names").filter(pl.col("kind") == kind)
    return dict(zip(found["id"].to_list(), found["label"].to_list(), strict=True))


def labeller(extract: Extract, by: str):
    """A function from a key (as in the rows) to what a reader sees."""
    if by == "team_id":
        teams = names(extract, "team")
        return lambda v: teams.get(v, v) if v is not None else "No team"
    if by == "contractor_id":
        contractors = names(extract, "contractor")
        return lambda v: contractors.get(v, v) if v is not None else "No contractor"
    if by == "is_in_house":
        return lambda v: {True: "In-house", False: "Contractor"}.get(v, "Not known")
    if by == "clock":
        return lambda v: clocks.title(v) if v is not None else humanise(v)
    if by in ("current_stage", "stage", "final_stage"):
        return lambda v: f"Stage {v}" if v is not None else "Not recorded"
    if by in ("region", "area"):
        return lambda v: v if v is not None else "Not recorded"
    return humanise


def key_text(value: object) -> str:
    """A bar's key as it travels in a URL (value=…)."""
    if value is None:
        return NONE_KEY
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def breakdown(store: FigureStore, kpi_id: str, as_of: date, scope: Scope, by: str) -> pl.DataFrame:
    """The app's breakdown of a KPI for a week and scope (see breakdown_of_rows)."""
    rows = store.kpi_rows(kpi_id, [as_of], scope)
    return breakdown_of_rows(rows, KPIS[kpi_id], as_of, by, labeller(store.extract, by))


def breakdown_of_rows(rows: pl.DataFrame, k: Kpi, as_of: date, by: str, label) -> pl.DataFrame:
    """One row per value of `by`: key (URL text), label, value, numerator, denominator, cases.

    `rows` are the KPI's rows for the week (kpis.cases, or the figure store's grouped rows with a
    count `n`). value is the KPI's own measure for the group (%, count, median, mean or sum); for a
    per-1,000-homes KPI it is the count of cases (homes are not split by team or category). `cases`
    is the number of rows the bar opens. Ordered worst first for a % KPI, else largest first.
    """
    if "n" not in rows.columns:
        rows = rows.with_columns(n=pl.lit(1, pl.Int64))
    groups = rows.select(by).unique().to_series().to_list()
    dates = pl.DataFrame({"as_of": [as_of]}, schema={"as_of": pl.Date})
    out = []
    measure = k if k.kind != "per_1000_homes" else Kpi(k.id, k.title, "count", k.query)
    for value in groups:
        part = rows.filter(pl.col(by).is_null() if value is None else pl.col(by) == value)
        fig = aggregate(part, measure, dates, None).row(0, named=True)
        out.append({
            "key": key_text(value), "label": label(value), "value": fig["value"],
            "numerator": fig["numerator"], "denominator": fig["denominator"],
            "cases": int(part["n"].sum()),
        })
    frame = pl.DataFrame(out, schema={"key": pl.Utf8, "label": pl.Utf8, "value": pl.Float64,
                                      "numerator": pl.Int64, "denominator": pl.Int64, "cases": pl.Int64})
    if k.kind == "pct":
        return frame.sort(["value", "cases"], descending=[False, True], nulls_last=True)
    return frame.sort(["value", "label"], descending=[True, False], nulls_last=True)


def offers_per_homes(k: Kpi, by: str) -> bool:
    """Whether a breakdown can show its bars per 1,000 homes: a count of cases (not a percentage, median or
    sum) split by a place that has homes."""
    return k.kind in ("count", "per_1000_homes") and by in PER_HOMES_DIMENSIONS


def homes_by(extract: Extract, as_of: date, scope: Scope, by: str) -> pl.DataFrame:
    """key (as a bar's key), homes: the homes of each region, area or team in the scope on as_of."""
    found = extract.query("homes_by", as_of_dates=[as_of], by=by, **scope.params())
    return found.select(pl.col("key").fill_null(NONE_KEY), pl.col("homes").cast(pl.Int64))


def per_1000_homes(bars: pl.DataFrame, homes: pl.DataFrame) -> pl.DataFrame:
    """A breakdown of a count put per 1,000 homes: each bar's homes beside it and its value the bar's cases
    for every 1,000 of those homes (null where the place has no homes in stock), largest first."""
    out = bars.join(homes, on="key", how="left").with_columns(
        value=pl.when(pl.col("homes") > 0).then(pl.col("cases") / pl.col("homes") * 1000))
    return out.sort(["value", "label"], descending=[True, False], nulls_last=True)


def breakdown_per_homes(store: FigureStore, kpi_id: str, as_of: date, scope: Scope, by: str) -> pl.DataFrame:
    """The app's breakdown of a count per 1,000 homes of each place (breakdown, then per_1000_homes)."""
    if not offers_per_homes(KPIS[kpi_id], by):
        raise ValueError(f"{kpi_id} by {by} cannot be shown per 1,000 homes")
    bars = breakdown(store, kpi_id, as_of, scope, by)
    return per_1000_homes(bars, homes_by(store.extract, as_of, scope, by))


def cases_behind_bar(cases: pl.DataFrame, by: str, key: str) -> pl.DataFrame:
    """The rows of kpis.cases behind one bar of a breakdown by `by`."""
    if by not in cases.columns:
        raise ValueError(f"these cases have no column {by!r}")
    if key == NONE_KEY:
        return cases.filter(pl.col(by).is_null())
    return cases.filter(pl.col(by).cast(pl.Utf8) == key)


def team_comparison(store: FigureStore, as_of: date, kpi_ids: Sequence[str],
                    region: str | None = None) -> pl.DataFrame:
    """Each team's figures for the KPIs (its own scope), for comparing record keeping team by team.

    One row per team (in the region, if given): team_id, team_name, region, and for each KPI
    `<id>` (value), `<id>:numerator`, `<id>:denominator`.
    """
    teams = store.extract.query("names").filter(pl.col("kind") == "team").select(
        pl.col("id").alias("team_id"), pl.col("label").alias("team_name"), "region")
    if region is not None:
        teams = teams.filter(pl.col("region") == region)
    rows = []
    by_team = store.figures_of_scopes([as_of], [Scope(teams=(t,)) for t in teams["team_id"]], list(kpi_ids))
    for t in teams.iter_rows(named=True):
        figs = by_team[Scope(teams=(t["team_id"],)).key]
        row = dict(t)
        for f in figs.iter_rows(named=True):
            row[f["kpi_id"]] = f["value"]
            row[f"{f['kpi_id']}:numerator"] = f["numerator"]
            row[f"{f['kpi_id']}:denominator"] = f["denominator"]
        rows.append(row)
    schema = {"team_id": pl.Utf8, "team_name": pl.Utf8, "region": pl.Utf8}
    for kpi_id in kpi_ids:
        schema |= {kpi_id: pl.Float64, f"{kpi_id}:numerator": pl.Int64, f"{kpi_id}:denominator": pl.Int64}
    return pl.DataFrame(rows, schema=schema)
