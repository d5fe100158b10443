"""Every KPI on a generated demo landlord: the command line's JSON, drill-downs equal to figures,
and regions adding up to the whole landlord."""

import json
from datetime import date, timedelta

import polars as pl
import pytest
from conftest import command, reference_cases

from housing_assurance.db import open_extract
from housing_assurance.kpis import CATALOGUE, KPIS, compute
from housing_assurance.scope import Scope

END = date(2026, 11, 22)


@pytest.fixture(scope="module")
def demo(demo_dir):
    return demo_dir

@pytest.fixture(scope="module")
def extract(demo_extract):
    return demo_extract

WEEKS = [END - timedelta(weeks=90), END - timedelta(weeks=40), END]


@pytest.mark.parametrize("as_of", WEEKS)
def test_cases_rows_equal_every_figure(extract, as_of):
    teams = extract.sql("select min(team_id) as t from teams")["t"][0]
    for scope in (Scope(), Scope(region="North"), Scope(teams=(teams,))):
        figures = compute(extract, [as_of], scope)
        for row in figures.iter_rows(named=True):
            k = KPIS[row["kpi_id"]]
            if k.query == "validation":
                continue
            rows = reference_cases(extract, as_of, k.id, scope)
            if k.kind == "pct":
                assert rows.height == row["denominator"], (k.id, scope)
                assert int(rows["meets"].sum()) == row["numerator"], (k.id, scope)
            elif k.kind == "count":
                assert rows.height == row["value"], (k.id, scope)
            elif k.kind == "per_1000_homes":
                assert rows.height == row["numerator"], (k.id, scope)


def test_a_query_lists_its_year_to_date_only_when_asked_and_its_kpis_read_the_same_rows_either_way(extract):
    """rp_completed_jobs lists the financial year's completions only for the TSM return; every KPI that
    reads it counts the same rows, in the same order, with the year left out, in every week and scope."""
    from housing_assurance.db import QUERIES_DIR
    from housing_assurance.kpis import cases_from_rows, counts_outside_the_week, query_rows

    asking = sorted(p.stem for p in QUERIES_DIR.glob("*.sql") if "$with_fytd" in p.read_text())
    assert asking == ["rp_completed_jobs"]
    team = extract.sql("select min(team_id) as t from teams")["t"][0]
    shorter = False
    for query in asking:
        assert not counts_outside_the_week(query)
        for as_of in WEEKS:
            for scope in (Scope(), Scope(region="North"), Scope(teams=(team,))):
                year = query_rows(extract, query, [as_of], scope, with_fytd=True)
                week = query_rows(extract, query, [as_of], scope)
                assert week.equals(year.filter(pl.col("in_week"))), (as_of, scope)
                shorter |= week.height < year.height
                for k in (k for k in CATALOGUE if k.query == query):
                    assert cases_from_rows(week, k).equals(cases_from_rows(year, k)), (k.id, as_of, scope)
    assert shorter


def test_regions_add_up_to_the_whole_landlord(extract):
    regions = extract.sql("select distinct region from properties order by 1")["region"].to_list()
    assert len(regions) >= 2
    counts = [k.id for k in CATALOGUE if k.kind == "count" and k.query != "validation"]
    for as_of in WEEKS:
        whole = {r["kpi_id"]: r["value"] for r in compute(extract, [as_of], Scope(), counts).iter_rows(named=True)}
        total = dict.fromkeys(counts, 0.0)
        for region in regions:
            for r in compute(extract, [as_of], Scope(region=region), counts).iter_rows(named=True):
                total[r["kpi_id"]] += r["value"]
        assert total == whole, as_of


def test_demo_has_something_to_show_for_every_kpi(tmp_path_factory):
    """Week after week, every KPI of the catalogue has a figure on the default-sized demo landlord."""
    from housing_assurance.demo import generate

    folder = tmp_path_factory.mktemp("demo20k")
    generate(folder, homes=20000, years=2, seed=1, end=END)
    weeks = [END - timedelta(weeks=i) for i in range(0, 52, 4)]
    figures = compute(open_extract(folder), weeks, Scope())
    empty = []
    for k in CATALOGUE:
        if k.query == "validation":
            continue
        values = figures.filter(figures["kpi_id"] == k.id)["value"].to_list()
        shown = [v for v in values if v is not None and (v != 0 or k.kind == "pct")]
        if len(shown) < len(values) * 0.75:
            empty.append((k.id, values))
    assert not empty


def test_kpis_json_shape(demo):
    out = command("kpis", "--data", demo, "--as-of", END.isoformat(), "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["period"] == {"start": "2026-11-16", "end": "2026-11-22"}
    assert doc["scope"] == {"region": None, "team": None}
    assert set(doc["kpis"]) == set(KPIS)
    for kpi_id, fig in doc["kpis"].items():
        assert set(fig) == {"value", "numerator", "denominator"}
        if KPIS[kpi_id].kind == "pct":
            assert isinstance(fig["numerator"], int) and isinstance(fig["denominator"], int)
            assert fig["value"] is None if fig["denominator"] == 0 else 0 <= fig["value"] <= 100
        elif KPIS[kpi_id].kind != "per_1000_homes":
            assert fig["numerator"] is None and fig["denominator"] is None
        if KPIS[kpi_id].kind in ("count", "sum"):  # a sum of rows (dq.validation_warning_rows) is a count too
            assert isinstance(fig["value"], int)  # 42, not 42.0


def test_cases_json_for_a_ratio_kpi(demo):
    out = command("cases", "--data", demo, "--as-of", END.isoformat(), "--kpi", "rp.no_access_pct", "--json")
    assert out.returncode == 0, out.stderr
    rows = json.loads(out.stdout)
    assert rows and all("id" in r and isinstance(r["meets"], bool) for r in rows)


def test_bad_arguments_exit_2_and_unknown_kpi_exits_1(demo):
    bad_date = command("kpis", "--data", demo, "--as-of", "22/11/2026")
    assert bad_date.returncode == 2
    unknown = command("cases", "--data", demo, "--as-of", END.isoformat(), "--kpi", "dm.nonsense")
    assert unknown.returncode == 1 and "unknown KPI" in unknown.stderr and "Traceback" not in unknown.stderr
    missing = command("kpis", "--data", "/nonexistent", "--as-of", END.isoformat())
    assert missing.returncode == 1 and "Traceback" not in missing.stderr


def test_each_teams_row_of_the_team_comparison_is_that_teams_own_figures(extract):
    """The Vulnerability and records page compares record keeping team by team (breakdowns.team_comparison,
    every team read from the store at once): each row is kpis.compute for that team alone."""
    from housing_assurance.breakdowns import team_comparison
    from housing_assurance.figures import FigureStore

    ids = ["rp.unverified_completion_pct", "rp.offline_record_pct", "dq.dm_open_without_job", "rp.open_jobs"]
    table = team_comparison(FigureStore(extract), END, ids)
    teams = extract.sql("select team_id from teams order by team_id")["team_id"].to_list()
    assert sorted(table["team_id"]) == teams
    for row in table.iter_rows(named=True):
        for f in compute(extract, [END], Scope(teams=(row["team_id"],)), ids).iter_rows(named=True):
            assert (row[f["kpi_id"]], row[f"{f['kpi_id']}:numerator"], row[f"{f['kpi_id']}:denominator"]) == (
                f["value"], f["numerator"], f["denominator"]), (row["team_id"], f["kpi_id"])


def test_a_scopes_rows_taken_from_the_whole_landlords_are_the_scopes_own(extract):
    """The app takes a region's or team's rows from the whole landlord's rows of the same week when it has
    them (kpis.rows_in_scope): for every KPI query, the same rows in the same order as running the query for
    the scope, a team with no work of that kind, two teams, a region and team together, and an unknown
    region included."""
    from housing_assurance.kpis import query_rows, rows_in_scope

    teams = extract.sql("select team_id from teams order by team_id")["team_id"].to_list()
    scopes = [Scope(region="North"), Scope(teams=(teams[0],)), Scope(teams=(teams[1], teams[-1])),
              Scope(region="North", teams=(teams[-1],)), Scope(region="Nowhere")]
    for query in dict.fromkeys(k.query for k in CATALOGUE):
        whole = query_rows(extract, query, [END], Scope())
        for scope in scopes:
            assert rows_in_scope(extract, query, whole, [END], scope).equals(
                query_rows(extract, query, [END], scope)), (query, scope)


def test_each_kpi_query_lists_the_rows_of_the_table_it_declares(extract):
    """kpis.QUERY_ROWS_OF (whose figures are withheld when that table is unusable) against the SQL: every id a
    query lists is a primary key of its declared table (a complaint's stage carries the stage after a colon),
    over a week in four of the demo's last two years, and every KPI query is declared."""
    from housing_assurance.contract import TABLES
    from housing_assurance.kpis import QUERY_ROWS_OF, query_rows

    assert set(QUERY_ROWS_OF) == {k.query for k in CATALOGUE} - {"validation"}
    weeks = [END - timedelta(weeks=4 * i) for i in range(26)]
    for query, table in QUERY_ROWS_OF.items():
        ids = set(query_rows(extract, query, weeks, Scope(), ordered=False)["id"].str.split(":").list.first())
        key = TABLES[table].primary_key
        keys = set(extract.sql(f"select {key} as k from {table}")["k"])  # contract names, not user input
        assert ids <= keys, (query, table, sorted(ids - keys)[:3])
        assert ids or query == "cx_ombudsman_maladministration", query  # the small demo has no such finding
