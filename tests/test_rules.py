"""The domain rules written once (weeks, scope, routes, words, targets), each against hand-worked examples."""

from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from extract_factory import write_extract

from housing_assurance import routes, weeks
from housing_assurance.db import open_extract
from housing_assurance.kpis import KPIS, QUERY_SCOPES, query_rows
from housing_assurance.scope import WHOLE_LANDLORD, Scope, ScopeKind, narrow, unknown_names
from housing_assurance.settings import SettingsError
from housing_assurance.targets import Target, parse_targets
from housing_assurance.words import Change, change, date_text, ratio_text, scope_text, value_text, week_text

ROOT = Path(__file__).resolve().parent.parent


# ---------------------------------------------------------------------------------------------- weeks


def test_the_reporting_week_and_its_end():
    assert weeks.week_period(date(2026, 11, 22)) == (date(2026, 11, 16), date(2026, 11, 22))
    assert weeks.week_end(date(2026, 11, 22)) == datetime(2026, 11, 23)
    assert weeks.weeks_ending(date(2026, 11, 22), 3) == [date(2026, 11, 8), date(2026, 11, 15), date(2026, 11, 22)]
    assert weeks.financial_year_start(date(2026, 3, 31)) == date(2025, 4, 1)
    assert weeks.financial_year_start(date(2026, 4, 1)) == date(2026, 4, 1)


def test_the_default_week_is_the_last_sunday_whose_week_had_ended():
    assert weeks.latest_complete_week(datetime(2026, 11, 23, 6)) == date(2026, 11, 22)  # Monday morning
    assert weeks.latest_complete_week(datetime(2026, 11, 23, 0)) == date(2026, 11, 22)  # E itself
    assert weeks.latest_complete_week(datetime(2026, 11, 22, 23)) == date(2026, 11, 15)  # Sunday: not yet ended
    assert weeks.latest_complete_week(datetime(2026, 11, 25, 9)) == date(2026, 11, 22)  # Wednesday


def test_a_span_says_which_weeks_can_be_reported():
    span = weeks.Span(datetime(2025, 1, 8, 10), datetime(2026, 11, 23, 6))  # first record a Wednesday
    assert span.latest_week == date(2026, 11, 22)
    assert span.first_week == date(2025, 1, 19)  # Mon 13 Jan – Sun 19 Jan: the first whole week after it
    listed = span.selectable_weeks()
    assert listed[0] == date(2026, 11, 22) and listed[-1] == date(2025, 1, 19)
    assert all(d.weekday() == 6 for d in listed) and len(listed) == (listed[0] - listed[-1]).days // 7 + 1
    assert span.problem(date(2026, 11, 22)) is None
    assert span.problem(date(2026, 11, 18)) is None  # any day may end a week on the command line
    assert "had not ended" in span.problem(date(2026, 11, 23))
    assert "latest complete week ends on 2026-11-22" in span.unfinished(date(2026, 11, 29))
    assert "starts before the extract's first record" in span.problem(date(2025, 1, 12))
    assert span.problem(date(2025, 1, 14)) is None  # 8 Jan … 14 Jan starts on the first record's day
    assert "no valid extracted_at" in weeks.Span(None, None).problem(date(2026, 1, 4))
    assert "holds no" in weeks.Span(None, datetime(2026, 1, 5)).problem(date(2026, 1, 4))


def test_a_week_in_a_url_is_resolved_or_explained():
    listed = [date(2026, 11, 22) - timedelta(weeks=i) for i in range(10)]
    assert weeks.resolve(None, listed) == (date(2026, 11, 22), None)
    assert weeks.resolve("2026-11-15", listed) == (date(2026, 11, 15), None)
    assert weeks.resolve("2026-11-20", listed) == (date(2026, 11, 15), None)  # a Friday: the week ended before
    assert weeks.resolve("2030-01-06", listed)[0] == date(2026, 11, 22)
    assert weeks.resolve("0001-01-01", listed) == (listed[-1], "before the extract's data starts; showing the "
                                                               "first week.")
    assert weeks.resolve("[x](http://evil)", listed)[1].startswith("not a date")


# ---------------------------------------------------------------------------------------------- scope


def test_a_user_scope_narrows_a_request():
    mine = Scope(teams=("T1", "T2"))
    assert narrow(mine, None, "T1") == Scope(teams=("T1",))
    assert narrow(mine, None, "T9") == Scope(teams=())  # another team's: nothing
    assert narrow(mine, "North", None) == Scope(region="North", teams=("T1", "T2"))
    assert narrow(WHOLE_LANDLORD, "North", "T9") == Scope(region="North", teams=("T9",))
    assert narrow(Scope(region="North"), "South", None) == Scope(region="North", teams=())


@pytest.fixture(scope="module")
def two_regions(tmp_path_factory):
    """Two regions, two teams in each, cases and jobs at homes of both, households with vulnerabilities."""
    when = datetime(2026, 1, 6, 9)
    folder = write_extract(
        tmp_path_factory.mktemp("scope"),
        properties=[{"property_id": "P1", "region": "North"}, {"property_id": "P2", "region": "South"},
                    {"property_id": "P3", "region": "South"}],
        households=[{"household_id": "H1", "property_id": "P1"}, {"household_id": "H2", "property_id": "P2"},
                    {"household_id": "H3", "property_id": "P3"}],
        vulnerabilities=[{"household_id": "H1"}, {"household_id": "H3", "reasonable_adjustment": "large print"}],
        teams=[{"team_id": "TN", "region": "North"}, {"team_id": "TS", "region": "South"},
               {"team_id": "TX", "region": "South"}],
        repairs=[{"job_id": "J1", "property_id": "P1", "team_id": "TN", "reported_at": when},
                 {"job_id": "J2", "property_id": "P2", "team_id": "TN", "reported_at": when},
                 {"job_id": "J3", "property_id": "P3", "team_id": "TS", "reported_at": when,
                  "completed_at": when + timedelta(days=1), "status": "completed"}],
        damp_mould_cases=[{"case_id": "D1", "property_id": "P2", "team_id": "TS", "reported_at": when},
                          {"case_id": "D2", "property_id": None, "household_id": "H1", "team_id": "TX",
                           "reported_at": when}],
        complaints=[{"complaint_id": "C1", "household_id": "H3", "team_id": "TX", "received_at": when}],
    )
    return open_extract(folder)


def _kept(rows: pl.DataFrame, kind: ScopeKind, scope: Scope, team_regions: dict[str, str]) -> pl.DataFrame:
    """The declared rule, written out by hand for the test."""
    if kind is ScopeKind.WHOLE_EXTRACT:
        return rows
    if kind is ScopeKind.HOUSEHOLDS:
        regions = [scope.region] if scope.region else sorted({team_regions[t] for t in scope.teams or ()})
        return rows if scope.is_whole_landlord else rows.filter(pl.col("region").is_in(regions))
    keep = pl.lit(True)
    if scope.region:
        keep &= pl.col("region") == scope.region
    if scope.teams is not None:
        keep &= pl.col("team_id").is_in(list(scope.teams))
    return rows.filter(keep.fill_null(False))


@pytest.mark.parametrize("query", sorted(set(QUERY_SCOPES) - {"homes"}))  # homes: a count, checked below
def test_each_query_is_scoped_as_the_catalogue_declares(query, two_regions):
    """The declared kind, applied to the whole landlord's rows, gives exactly the rows the SQL gives."""
    team_regions = {"TN": "North", "TS": "South", "TX": "South"}
    dates = [date(2026, 1, 11), date(2026, 11, 22)]
    whole = query_rows(two_regions, query, dates, WHOLE_LANDLORD)
    for scope in (Scope(region="North"), Scope(region="South"), Scope(teams=("TN",)), Scope(teams=("TS", "TX")),
                  Scope(region="South", teams=("TN",))):
        expected = _kept(whole, QUERY_SCOPES[query], scope, team_regions)
        got = query_rows(two_regions, query, dates, scope)
        assert sorted(map(str, got.rows())) == sorted(map(str, expected.rows())), (query, scope)


def test_homes_are_those_of_the_scopes_regions(two_regions):
    def homes(scope: Scope) -> int:
        return query_rows(two_regions, "homes", [date(2026, 1, 11)], scope)["homes"][0]

    assert (homes(WHOLE_LANDLORD), homes(Scope(region="South")), homes(Scope(teams=("TS", "TX")))) == (3, 2, 2)
    assert homes(Scope(teams=("TN",))) == 1 and homes(Scope(region="Atlantis")) == 0


def test_every_kpi_query_declares_its_scope():
    assert {k.query for k in KPIS.values()} <= set(QUERY_SCOPES)


def test_one_answer_to_is_there_such_a_region_or_team(two_regions):
    assert unknown_names(two_regions, "North", ("TN",)) == []
    problems = unknown_names(two_regions, "Atlantis", ("TN", "T-missing"))
    assert problems[0] == "region 'Atlantis' does not appear in the extract (regions: North, South)"
    assert problems[1].startswith("team 'T-missing' does not appear")


# ---------------------------------------------------------------------------------------------- routes


def test_every_page_file_exists_and_every_domain_has_its_page():
    for page in routes.PAGES:
        assert (ROOT / page.file).is_file(), page.file
    assert {k.domain for k in KPIS.values()} == set(routes.DOMAINS)
    assert all(d.page in routes.PAGE for d in routes.DOMAINS.values())
    assert [p.file for p in routes.PAGES if p.url_path == ""] == ["pages/overview.py"]
    assert routes.page_of("dq.dm_open_without_job").key == "vu"
    assert [name for _, name in routes.sections()] == ["Damp and mould", "Repairs", "Complaints", "Contractors",
                                                        "Vulnerability and records"]


def test_pages_and_app_list_no_page_of_their_own():
    """The menu is built from routes.PAGES: no page file name is written in app.py."""
    text = (ROOT / "app.py").read_text()
    assert ".py\"" not in text and "st.Page(" not in text


# ---------------------------------------------------------------------------------------------- words


def test_figures_in_words():
    assert value_text(KPIS["dm.investigated_10wd_pct"], 87.5) == "87.5%"
    assert value_text(KPIS["cx.compensation_offered_gbp"], 1234.5) == "£1,234.50"
    assert value_text(KPIS["rp.open_jobs"], 20720.0) == "20,720"
    assert value_text(KPIS["dm.resolved_median_days"], 12.25) == "12.2 days"
    assert value_text(KPIS["rp.open_jobs"], None) == "—"
    assert ratio_text(KPIS["dm.investigated_10wd_pct"], 7, 8) == "7 of 8"
    assert ratio_text(KPIS["dm.open_cases_per_1000_homes"], 42, 20000) == "42 in 20,000 homes"
    assert date_text(date(2026, 11, 2)) == "2 Nov 2026" and date_text(datetime(2026, 11, 2, 9, 5)) == "2 Nov 2026 09:05"


def test_a_change_since_last_week_reads_plainly():
    pct = KPIS["vu.adjustment_recorded_pct"]
    assert change(pct, -0.04, True) == Change("▼ under 0.1 pts", "worse")  # not "−0.0"
    assert change(pct, 1.3, True) == Change("▲ +1.3 pts", "better")
    assert change(KPIS["dm.open_cases"], 0.0, None) == Change("no change", "same")
    assert change(KPIS["dm.overdue_open_cases"], -3.0, False) == Change("▼ −3", "better")
    assert change(KPIS["cx.compensation_offered_gbp"], -1234.5, None) == Change("▼ −£1,234.50", "none")
    assert change(pct, None, True) == Change("—", "none")
    assert change(pct, -2.0, True, minus="-", arrow=False) == Change("-2.0 pts", "worse")  # for st.metric


def test_scope_and_week_in_words():
    names = {"dm-n": "Damp and Mould North"}
    assert scope_text(WHOLE_LANDLORD) == "Whole landlord"
    assert scope_text(Scope(region="North", teams=("dm-n",)), names) == "North region · Damp and Mould North"
    assert scope_text(Scope(teams=()), names) == "no teams"
    assert week_text(date(2026, 11, 22)) == "week ending Sunday 22 Nov 2026 (16 Nov to 22 Nov 2026)"


# ---------------------------------------------------------------------------------------------- targets


def test_rag_on_hand_worked_values():
    t = Target("x", True, 95.0, 5.0)
    assert [t.rag(v) for v in (95.0, 90.0, 89.9, None)] == ["green", "amber", "red", None]
    assert Target("x", False, 0.0, 2.0).rag(2.0) == "amber" and Target("x", False, 0.0, 2.0).rag(3.0) == "red"


@pytest.mark.parametrize("entry,message", [
    ({"direction": "higer", "target": 95}, 'direction = \'higer\' is not one of "higher", "lower", "none"'),
    ({"direction": "higher", "target": "100"}, "target = '100' is not a number"),
    ({"direction": "higher", "target": True}, "target = True is not a number"),
    ({"direction": "higher"}, "needs a target"),
    ({"direction": "lower", "target": 0, "amber_margin": -1}, "must not be negative"),
    ({"direction": "lower", "target": 0, "amber": 2}, "unknown key 'amber'"),
])
def test_a_wrong_target_is_one_line_naming_file_kpi_and_value(entry, message):
    with pytest.raises(SettingsError) as raised:
        parse_targets({"kpi": {"rp.open_jobs": entry}}, "settings/targets.toml", set(KPIS))
    assert str(raised.value).startswith('settings/targets.toml: [kpi."rp.open_jobs"]')
    assert message in str(raised.value) and "\n" not in str(raised.value)


def test_an_unknown_kpi_in_targets_is_named():
    with pytest.raises(SettingsError, match=r'\[kpi."rp.no_such"\] is not a KPI id'):
        parse_targets({"kpi": {"rp.no_such": {"direction": "none"}}}, "t.toml", set(KPIS))


LEGAL = ["dm.emergency_made_safe_24h_pct", "dm.investigated_10wd_pct", "dm.summary_3wd_pct",
         "dm.safety_work_5wd_pct", "dm.further_work_12wk_pct"]


def test_any_legal_breach_is_red_with_the_shipped_targets():
    from housing_assurance.targets import targets

    shipped = targets()
    for kpi_id in LEGAL:
        assert shipped[kpi_id].rag(100.0) == "green" and shipped[kpi_id].rag(99.9) == "red", kpi_id
    assert shipped["dm.overdue_open_cases"].rag(0) == "green" and shipped["dm.overdue_open_cases"].rag(1) == "red"


def test_legal_clocks_keep_their_default_when_left_out_and_a_landlord_may_choose_a_band(tmp_path, monkeypatch):
    from housing_assurance.settings import read_settings
    from housing_assurance.targets import targets

    (tmp_path / "targets.toml").write_text('[kpi."dm.investigated_10wd_pct"]\ndirection = "higher"\n'
                                           'target = 100\namber_margin = 5\n')
    monkeypatch.setenv("HOUSING_ASSURANCE_SETTINGS", str(tmp_path))
    read_settings.cache_clear()
    chosen = targets()
    assert chosen["dm.investigated_10wd_pct"].rag(96.0) == "amber"  # the landlord's choice
    assert chosen["dm.summary_3wd_pct"].rag(96.0) == "red"  # left out: the legal default
    assert chosen["dm.overdue_open_cases"].rag(2) == "red"
    assert "rp.open_overdue_jobs" not in chosen  # no default for what is not a legal clock
