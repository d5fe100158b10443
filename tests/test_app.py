"""The Streamlit app, driven by AppTest on a small generated demo landlord.

Every page opens for the whole landlord, a region and a team, in the first, a middle and the last
week, without an exception, and every figure it shows equals kpis.compute for that week and scope.
Every drill-down (from the overview and from each page, by ?kpi=…) lists exactly kpis.cases, as
many rows as the figure says; every bar of a breakdown opens exactly its rows. URLs reopen views.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from urllib.parse import unquote

import pytest
from conftest import as_read, no_error, reference_cases
from streamlit.testing.v1 import AppTest

from housing_assurance import breakdowns, routes
from housing_assurance import weeks as week_rules
from housing_assurance.app import data, state
from housing_assurance.app.tables import CASE_URL_PATH
from housing_assurance.app.warm_up import warm_up
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import CATALOGUE, KPIS, cases, compute
from housing_assurance.remit import outside_remit
from housing_assurance.scope import Scope
from housing_assurance.scorecard import HEADLINE, domain_kpis
from housing_assurance.words import value_text

APP = str(Path(__file__).resolve().parent.parent / "app.py")
END = date(2026, 11, 23)  # extracted Monday 23 Nov 2026 06:00: the latest complete week ends Sunday 22 Nov
PAGES = {
    "overview": "pages/overview.py", "dm": "pages/damp_mould.py", "rp": "pages/repairs.py",
    "cx": "pages/complaints.py", "ct": "pages/contractors.py", "vu": "pages/vulnerability.py",
    "case": "pages/case.py", "about": "pages/about.py",
}
TIMEOUT = 60


@pytest.fixture(scope="session")
def demo(demo_dir, demo_store) -> Path:
    return demo_dir  # served from its store, prepared once for the whole suite


@pytest.fixture(scope="session", autouse=True)
def app_env(demo_app):
    """The app serves the suite's demo in demo mode on its own users (conftest.demo_app)."""
    return demo_app


@pytest.fixture(scope="session")
def extract(demo_extract):
    return demo_extract

@pytest.fixture(scope="session")
def weeks(extract) -> dict[str, date]:
    w = extract.span().selectable_weeks()
    return {"first": w[-1], "middle": w[len(w) // 2], "last": w[0]}


@pytest.fixture(scope="session")
def region_and_team(extract) -> tuple[str, str]:
    """A region, and the busiest repairs team (so a team scope has figures to check)."""
    team = extract.sql("""
        select j.team_id, t.region, count(*) as n from repairs as j join teams as t using (team_id)
        group by all order by n desc limit 1""").row(0, named=True)
    return team["region"], team["team_id"]


def open_app(as_of: date | None = None, region: str | None = None, team: str | None = None,
             page: str = "overview", **params: str) -> AppTest:
    """A new session opening the app at a URL (page + query parameters), as a pasted link does."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if page != "overview":
        at.switch_page(PAGES[page])
    url = {"as_of": as_of.isoformat() if as_of else None, "region": region, "team": team, **params}
    for k, v in url.items():
        if v is not None:
            at.query_params[k] = v
    at.run()
    assert no_error(at), [e.message for e in at.exception]
    return at


def go(at: AppTest, page: str, **params: str) -> AppTest:
    """Follow a link inside the session: switch page, with the link's page parameters."""
    at.switch_page(PAGES[page])
    for k in list(at.query_params):
        if k not in state.GLOBAL_PARAMS:
            del at.query_params[k]
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert no_error(at), [e.message for e in at.exception]
    return at


def widget(at: AppTest, key: str):
    return next(w for w in at.get("selectbox") if w.key == key)


def expected_text(kpi_id: str, value: float | None) -> str:
    return value_text(KPIS[kpi_id], value)


def shown_ids(frame) -> list[str]:
    """The ids of the rows a case list shows (the id cell is a link to the Case page where it opens one)."""
    out = []
    for v in frame["id"].tolist():
        m = re.search(r"case=([^&]*)", str(v))
        out.append(unquote(m.group(1)) if m and str(v).startswith(CASE_URL_PATH) else str(v))
    return out


def rows_expected(kpi_id: str, fig: dict, n_cases: int) -> int:
    k = KPIS[kpi_id]
    return {"pct": fig["denominator"], "per_1000_homes": fig["numerator"], "count": fig["value"]}.get(k.kind, n_cases)


# ---------------------------------------------------------------------------------------- pure helpers


def test_latest_complete_week_is_the_last_sunday_before_the_extract_day():
    assert week_rules.latest_complete_week(datetime(2026, 11, 23, 6)) == date(2026, 11, 22)  # Monday
    assert week_rules.latest_complete_week(datetime(2026, 11, 22, 6)) == date(2026, 11, 15)  # Sunday itself: incomplete
    assert week_rules.latest_complete_week(datetime(2026, 11, 28, 23)) == date(2026, 11, 22)  # Saturday


def test_selectable_weeks_run_from_the_first_complete_week_to_the_latest(extract, weeks):
    w = extract.span().selectable_weeks()
    assert w[0] == date(2026, 11, 22)
    assert all(d.weekday() == 6 for d in w)
    assert w == sorted(w, reverse=True) and len(set(w)) == len(w)
    assert 150 <= len(w) <= 157  # three years


def test_week_in_a_url_is_checked(extract, weeks):
    w = extract.span().selectable_weeks()
    assert week_rules.resolve(weeks["middle"].isoformat(), w) == (weeks["middle"], None)
    assert week_rules.resolve("2026-11-20", w)[0] == date(2026, 11, 15)  # a Friday: its week's Sunday before
    assert week_rules.resolve("rubbish", w)[1]
    assert week_rules.resolve("2031-01-05", w)[0] == weeks["last"]
    assert week_rules.resolve("2001-01-07", w)[0] == weeks["first"]
    assert week_rules.resolve("0001-01-01", w)[0] == weeks["first"]  # no date is too early to be read


def test_breakdown_bars_are_the_case_rows_grouped(extract, weeks, region_and_team):
    store = FigureStore(extract)
    as_of = weeks["last"]
    for scope in (Scope(), Scope(region=region_and_team[0])):
        for kpi_id in ("dm.open_cases", "dm.investigated_10wd_pct", "rp.non_emergency_on_time_pct",
                       "rp.open_overdue_jobs", "cx.open_complaints", "ct.external_on_time_pct",
                       "vu.adjustment_recorded_pct", "dm.resolved_median_days", "rp.avg_days_to_complete"):
            rows = reference_cases(extract, as_of, kpi_id, scope)
            figure = compute(extract, [as_of], scope, [kpi_id]).row(0, named=True)
            for by in breakdowns.dimensions_for(store, kpi_id, sensitive_allowed=True):
                bars = breakdowns.breakdown(store, kpi_id, as_of, scope, by)
                assert int(bars["cases"].sum()) == len(rows), (kpi_id, by)
                if KPIS[kpi_id].kind == "pct":
                    assert int(bars["denominator"].sum()) == figure["denominator"]
                    assert int(bars["numerator"].sum()) == figure["numerator"]
                for bar in bars.iter_rows(named=True):
                    behind = breakdowns.cases_behind_bar(rows, by, bar["key"])
                    assert len(behind) == bar["cases"], (kpi_id, by, bar["key"])
                    if KPIS[kpi_id].kind == "pct":
                        assert int(behind["meets"].sum()) == bar["numerator"]


# ---------------------------------------------------------------------------------------- every page


# Every kind of scope and every week's place in the history at least once, and the view opened most (the
# whole landlord's latest week): the pages read the same store by week and scope whatever the pair.
@pytest.mark.parametrize("scope_name, week", [("whole", "last"), ("whole", "first"), ("region", "middle"),
                                              ("team", "last")])
def test_every_page_opens_and_shows_the_figures_of_kpis_compute(extract, weeks, region_and_team, week, scope_name):
    as_of = weeks[week]
    region, team = {"whole": (None, None), "region": (region_and_team[0], None),
                    "team": (None, region_and_team[1])}[scope_name]
    scope = Scope(region=region, teams=(team,) if team else None)
    figures = {r["kpi_id"]: r for r in compute(extract, [as_of], scope).iter_rows(named=True)}
    by_title = {k.title: k.id for k in CATALOGUE}
    not_our_work = outside_remit(extract, scope, list(KPIS))  # a team's tiles for work it never does: "—"
    at = open_app(as_of, region, team)
    for page in PAGES:
        if page != "overview":
            go(at, page)
        assert at.query_params["as_of"] == as_of.isoformat()
        assert at.query_params.get("region") == region and at.query_params.get("team") == team
        shown = {m.label: m.value for m in at.metric}
        if page == "overview":
            assert set(shown) == {KPIS[i].title for i in HEADLINE}
        elif page in ("dm", "rp", "cx", "ct", "vu"):
            assert set(shown) == {KPIS[i].title for i in domain_kpis(page)}
        for title, text in shown.items():
            kpi_id = by_title[title]
            expected = "—" if kpi_id in not_our_work else expected_text(kpi_id, figures[kpi_id]["value"])
            assert text == expected, (page, kpi_id)
        page_text = as_read(" ".join(str(m.value) for m in at.markdown))
        assert ("Whole landlord" in page_text) == (scope_name == "whole") or page in ("case", "about")


def test_overview_breaches_are_the_cases_oldest_first(extract, weeks):
    at = open_app(weeks["last"])
    tables = [t.value for t in at.dataframe]
    overdue = cases(extract, weeks["last"], "dm.overdue_open_cases")
    complaints = cases(extract, weeks["last"], "cx.open_overdue")
    expected = [f["id"].to_list() for f in (overdue, complaints) if len(f)]  # an empty list shows "None this week"
    assert [shown_ids(t) for t in tables] == expected
    headings = [s.value for s in at.subheader]
    assert f"Open damp and mould cases past an Awaab's Law deadline ({len(overdue)})" in headings
    assert f"Open complaints past their response deadline ({len(complaints)})" in headings
    text = " ".join(str(c.value) for c in at.caption)
    assert "Data extracted 23 Nov 2026 06:00" in text and "Validation:" in text


# ---------------------------------------------------------------------------------------- drill-downs


@pytest.mark.parametrize("scope_name", ["whole", "region"])
def test_every_drill_down_lists_exactly_the_rows_behind_the_figure(extract, weeks, region_and_team, scope_name):
    as_of = weeks["middle"] if scope_name == "whole" else weeks["last"]
    region = region_and_team[0] if scope_name == "region" else None
    scope = Scope(region=region)
    figures = {r["kpi_id"]: r for r in compute(extract, [as_of], scope).iter_rows(named=True)}
    at = open_app(as_of, region)
    followed = [("overview", i) for i in HEADLINE] + [(routes.page_of(k.id).key, k.id) for k in CATALOGUE]
    for page, kpi_id in followed:
        go(at, page, kpi=kpi_id)
        assert as_read(at.title[0].value) == KPIS[kpi_id].title, (page, kpi_id)
        table = at.dataframe[0].value
        rows = reference_cases(extract, as_of, kpi_id, scope)
        assert len(table) == rows_expected(kpi_id, figures[kpi_id], len(rows)) == len(rows), (page, kpi_id)
        assert shown_ids(table) == [str(i) for i in rows["id"].to_list()], (page, kpi_id)
        assert at.query_params["kpi"] == kpi_id
        if page != "vu":
            assert "vulnerability_type" not in table.columns


def test_every_bar_opens_its_rows(extract, weeks):
    as_of = weeks["last"]
    store = FigureStore(extract)
    at = open_app(as_of)
    for page, kpi_id, by in (("dm", "dm.open_cases", "region"), ("dm", "dm.investigated_10wd_pct", "team_id"),
                             ("rp", "rp.open_overdue_jobs", "category"), ("cx", "cx.open_complaints", "category"),
                             ("ct", "ct.external_on_time_pct", "contractor_id"),
                             ("dm", "dm.open_cases", "hazard_level")):
        bars = breakdowns.breakdown(store, kpi_id, as_of, Scope(), by)
        assert not bars.is_empty(), (kpi_id, by)
        for bar in bars.iter_rows(named=True):
            go(at, page, kpi=kpi_id, by=by, value=bar["key"])
            table = at.dataframe[0].value
            assert len(table) == bar["cases"], (kpi_id, by, bar["key"])


def test_page_shows_breakdown_and_trend_from_the_url(weeks, region_and_team):
    region, team = region_and_team
    at = open_app(weeks["middle"], region, team, page="rp", trend="rp.first_time_fix_pct",
                  breakdown="rp.open_jobs", by="category")
    assert dict(at.query_params) == {"as_of": weeks["middle"].isoformat(), "region": region, "team": team,
                                     "trend": "rp.first_time_fix_pct", "breakdown": "rp.open_jobs", "by": "category"}
    assert widget(at, "w:as_of").value == weeks["middle"].isoformat()
    assert widget(at, "w:region").value == region and widget(at, "w:team").value == team
    assert widget(at, "w:trend").value == "rp.first_time_fix_pct"
    assert widget(at, "w:breakdown").value == "rp.open_jobs" and widget(at, "w:by").value == "category"


def test_week_buttons_and_scope_change_rewrite_the_url(weeks, region_and_team):
    at = open_app(weeks["middle"], page="dm")
    at.button(key="prev_week").click().run()
    earlier = date.fromisoformat(at.query_params["as_of"])
    assert (weeks["middle"] - earlier).days == 7
    at.button(key="next_week").click().run()
    assert at.query_params["as_of"] == weeks["middle"].isoformat()
    widget(at, "w:region").set_value(region_and_team[0]).run()
    assert at.query_params["region"] == region_and_team[0]
    assert no_error(at)


def test_a_bad_url_says_so_and_shows_something_sensible(weeks):
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params["as_of"] = "not-a-date"
    at.query_params["region"] = "Atlantis"
    at.query_params["kpi"] = "no.such_kpi"
    at.run()
    assert no_error(at)
    warnings = as_read(" ".join(w.value for w in at.warning))
    assert "not a date" in warnings and "Atlantis" in warnings and "no.such_kpi" in warnings
    # The first run corrects the browser's address in place (a script, which AppTest does not run); the
    # server's own copy of the address follows at the next run.
    at.run()
    assert at.query_params["as_of"] == weeks["last"].isoformat() and "region" not in at.query_params
    assert "kpi" not in at.query_params and no_error(at)


# ---------------------------------------------------------------------------------------- the case page


def _all_text(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "caption", "title", "subheader", "warning") for e in at.get(kind)]
    for table in at.dataframe:
        parts.append(table.value.to_csv())
    return as_read(" ".join(parts))


def test_case_page_tells_each_kind_of_case_and_never_names_a_vulnerability(extract, weeks):
    as_of = weeks["last"]
    types = [t for t in extract.sql("select distinct vulnerability_type as t from vulnerabilities")["t"].to_list()
             if t != "other"]  # "other" is also a repair category and a contact reason
    words = set(types) | {t.replace("_", " ") for t in types} | {t.replace("_", " ").capitalize() for t in types}
    picks = [("dm", cases(extract, as_of, "dm.open_cases")["id"][0]),
             ("job", cases(extract, as_of, "rp.open_overdue_jobs")["id"][0]),
             ("complaint", cases(extract, as_of, "cx.open_complaints")["id"][0])]
    vulnerable = cases(extract, as_of, "dm.open_cases_vulnerable")
    if len(vulnerable):
        picks.append(("dm", vulnerable["id"][0]))
    for kind, case_id in picks:
        at = open_app(as_of, page="case", case=case_id, kind=kind)
        assert case_id in as_read(at.title[0].value)
        assert at.query_params["case"] == case_id and at.query_params["kind"] == kind
        text = _all_text(at)
        assert not any(w in text for w in words if len(w) > 3), (case_id, [w for w in words if w in text])
        assert "Timeline" in [s.value for s in at.subheader]
    if len(vulnerable):
        assert "Vulnerable household" in " ".join(m.value for m in at.markdown)


def test_case_page_accepts_an_id_without_kind_and_explains_an_unknown_one(extract, weeks):
    job = cases(extract, weeks["last"], "rp.open_jobs")["id"][0]
    at = open_app(page="case", case=job)
    assert as_read(at.title[0].value) == f"Repair job {job}"
    at = open_app(page="case", case=job, whole_home="1")
    assert at.toggle[0].value is True and at.query_params["whole_home"] == "1"
    at.toggle[0].set_value(False).run()
    assert "whole_home" not in at.query_params and no_error(at)
    at = open_app(page="case", case="NOPE-1")
    assert "NOPE-1" in as_read(" ".join(w.value for w in at.warning))
    at = open_app(page="case")
    assert at.text_input[0].label.startswith("Case, job or complaint id")


def test_vulnerability_page_alone_shows_vulnerability_types(extract, weeks):
    at = open_app(weeks["last"], page="vu", kpi="vu.adjustment_recorded_pct")
    assert "vulnerability_type" in at.dataframe[0].value.columns
    for page in ("overview", "dm", "rp", "cx", "ct"):
        at = open_app(weeks["last"], page=page)
        for table in at.dataframe:
            assert "vulnerability_type" not in table.value.columns, page


def test_about_page_shows_tables_and_validation(extract):
    at = open_app(page="about")
    tables = at.dataframe[0].value
    assert set(tables["table"]) == set(extract.sources)
    findings = data.findings(data.data_key(Path(os.environ[data.DATA_ENV])))
    assert len(at.dataframe[1].value) == len(findings)


def test_a_landlords_own_data_never_loads_the_demo_generator(demo_store):
    """The demo generator takes a tenth of a second to import, which every server's first visitor paid: a
    server of a landlord's own data (any store or folder but the built-in demo's) never loads it."""
    import subprocess
    import sys

    code = ("import sys; from pathlib import Path; from housing_assurance.app import data; "
            "print(data.needs_demo(Path(sys.argv[1])), 'housing_assurance.demo' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code, str(demo_store)], capture_output=True, text=True,
                          cwd=data.PROJECT_ROOT, check=True)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_demo_is_generated_when_the_default_folder_is_empty(tmp_path, monkeypatch):
    monkeypatch.delenv(data.DATA_ENV)
    monkeypatch.setattr(data, "PROJECT_ROOT", tmp_path)
    made = []

    def small_demo(folder: Path) -> None:
        from housing_assurance.demo import generate

        made.append(folder)
        generate(folder, homes=200, years=1, seed=5, end=END)

    monkeypatch.setattr(data, "make_demo", small_demo)
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(tmp_path / "data" / "demo" / "access.toml"))
    assert data.needs_demo(data.data_folder())
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert no_error(at), [e.message for e in at.exception]
    assert made == [tmp_path / "data" / "demo"] and (made[0] / "manifest.json").exists()
    assert not data.needs_demo(data.data_folder())
    assert not data.needs_demo(tmp_path / "elsewhere")  # only the default folder is ever generated


def test_no_page_contains_sql_or_kpi_logic():
    """Pages lay out blocks: no SQL, no KPI logic, no data shaping (polars) and no URL parsing of their own."""
    for path in Path(APP).parent.glob("pages/*.py"):
        text = path.read_text().lower()
        for sign in ("select ", ".sql(", "compute(", "import polars", "query_params", "pl.col("):
            assert sign not in text, (path.name, sign)
        assert len(text.splitlines()) <= 30, path.name


def test_the_reasons_for_a_weeks_red_figures_come_from_the_store_and_say_what_the_cases_say(
        extract, weeks, monkeypatch):
    """The app asks for the reasons of all of a week's red and amber figures at once; they come from the
    facts the store keeps with its rows, so no KPI query runs, and every reason is why.reason over
    exactly the rows of `kpis.cases`."""
    from housing_assurance import kpis, why
    from housing_assurance.targets import targets

    key = data.data_key(Path(os.environ[data.DATA_ENV]))
    warm_up(key).join()  # the server's warm-up runs queries of its own: none of them is counted here
    view = state.View(key, weeks["middle"], region="North")
    tiles = FigureStore(extract).figures([view.as_of], view.scope, [k.id for k in CATALOGUE]).to_dicts()
    goals = targets()
    for t in tiles:
        goal = goals.get(t["kpi_id"])
        t["rag"] = goal.rag(t["value"]) if goal else None
    red = [t for t in tiles if t["rag"] in ("red", "amber")]
    runs = []
    real = kpis.query_rows
    monkeypatch.setattr(kpis, "query_rows", lambda *a, **kw: runs.append(a[1]) or real(*a, **kw))
    said = data.reasons(view, tiles)
    assert runs == [] and len({KPIS[t["kpi_id"]].query for t in red}) > 3
    expected = {t["kpi_id"]: why.reason(KPIS[t["kpi_id"]], goals.get(t["kpi_id"]), t["rag"], t,
                                        cases(extract, view.as_of, t["kpi_id"], view.scope), view.as_of)
                for t in red}
    assert said == {k: v for k, v in expected.items() if v} and said


def test_the_figures_that_read_one_query_run_it_once(extract, weeks, monkeypatch):
    """Several figures read one query (five repairs figures read the completed jobs): the app runs it
    once for a week and scope, and each figure still gets exactly the rows `kpis.cases` gives it."""
    from housing_assurance import kpis

    key = data.data_key(Path(os.environ[data.DATA_ENV]))
    warm_up(key).join()  # the server's warm-up runs queries of its own: none of them is counted here
    sharing = [k.id for k in CATALOGUE if k.query == "rp_completed_jobs"]
    expected = {kpi_id: cases(extract, weeks["middle"], kpi_id) for kpi_id in sharing}
    runs = []
    real = kpis.query_rows

    def counted(*args, **kwargs):
        runs.append(args[1])
        return real(*args, **kwargs)

    monkeypatch.setattr(kpis, "query_rows", counted)
    data._cases_by_query.cache_clear()
    for kpi_id in sharing:
        assert data.cases(key, weeks["middle"], kpi_id, None, None).equals(expected[kpi_id]), kpi_id
    assert len(sharing) > 3 and runs == ["rp_completed_jobs"]
