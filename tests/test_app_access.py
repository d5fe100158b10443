"""Who sees what in the app and from the command line: every role, scope enforced where data is read.

AppTest drives the app on a small demo landlord (demo mode and OpenID Connect mode); a Hypothesis
property test draws random users and requested scopes and finds no row outside the user's scope.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from conftest import as_read, command, no_error, open_app_at, pdf_page_texts
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from housing_assurance import audit, timeline
from housing_assurance.access import load_users, user_scope
from housing_assurance.app import data
from housing_assurance.kpis import CATALOGUE, cases
from housing_assurance.scope import narrow

APP = str(Path(__file__).resolve().parent.parent / "app.py")
END = date(2026, 11, 23)
AS_OF = date(2026, 11, 22)
TIMEOUT = 60


@pytest.fixture(scope="module")
def demo(demo_dir) -> Path:
    return demo_dir

@pytest.fixture(scope="module")
def extract(demo_extract):
    return demo_extract

@pytest.fixture(scope="module")
def users(demo):
    return load_users(demo / "access.toml")


@pytest.fixture(autouse=True)
def app_env(demo, monkeypatch):
    """Demo mode on the demo's own users, both chosen explicitly (as `make run` does for the demo)."""
    monkeypatch.setenv(data.DATA_ENV, str(demo))
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(demo / "access.toml"))
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "1")


def email_of(users, role: str) -> str:
    return next(e for e, u in sorted(users.items()) if u.role.name == role)


def run_as(email: str | None, page: str | None = None, **params: str) -> AppTest:
    """A demo-mode session as this demo user, opened at a page and URL parameters."""
    return open_app_at(page, email, AS_OF, TIMEOUT, **params)


def test_demo_mode_is_labelled_and_opens_as_the_executive(users):
    at = run_as(None)
    assert any("Demo mode" in w.value for w in at.sidebar.warning)
    chooser = next(s for s in at.sidebar.selectbox if s.key == "_demo_user")
    assert users[chooser.value].role.name == "executive"


def test_manager_sees_only_their_teams(extract, users):
    manager = "housing.southeast@example.org"  # manages two housing-management teams in the demo
    allowed = user_scope(extract, users[manager])
    assert len(allowed.teams) >= 1
    at = run_as(manager, "pages/complaints.py", kpi="cx.stage1_per_1000_homes_fytd")
    team_box = next(s for s in at.sidebar.selectbox if s.key == "w:team")
    names = extract.sql("select team_id, team_name from teams")
    allowed_names = {n for t, n in names.iter_rows() if t in allowed.teams}
    assert set(team_box.options) - {"All my teams"} == allowed_names
    table = at.dataframe[0].value
    expected = cases(extract, AS_OF, "cx.stage1_per_1000_homes_fytd", allowed)
    assert len(table) == len(expected)
    # Another team's id typed into the URL is refused (with a note) and never widens the view.
    other = extract.sql("select min(team_id) as t from teams where manager_email <> $e", e=manager)["t"][0]
    at = run_as(manager, "pages/complaints.py", kpi="cx.stage1_per_1000_homes_fytd", team=other)
    assert any(other in as_read(w.value) for w in at.main.warning)  # said at the top of the page
    assert len(at.dataframe[0].value) == len(expected)


def test_manager_cannot_open_another_teams_case_by_url(extract, users):
    manager = "dampmould.north@example.org"
    allowed = user_scope(extract, users[manager])
    foreign = extract.sql("select min(case_id) as c from damp_mould_cases where team_id <> all($t)",
                          t=list(allowed.teams))["c"][0]
    at = run_as(manager, "pages/case.py", case=foreign)
    assert any("not in your scope" in w.value for w in at.warning)
    assert not at.dataframe  # no timeline, no clocks, nothing of the case
    entries = audit.read_entries()
    assert entries[-1]["action"] == "refused_case" and entries[-1]["target"] == foreign


def test_manager_sees_nothing_of_other_teams_at_the_home_of_their_case(extract, users):
    manager = "dampmould.north@example.org"
    allowed = user_scope(extract, users[manager])
    # One of the manager's cases at a home where another team has a job not linked to the case.
    found = extract.sql(
        "select c.case_id, min(j.job_id) as foreign_job from stg_damp_mould_cases as c "
        "join stg_repairs as j on j.property_id = c.property_id and j.dm_case_id is distinct from c.case_id "
        "where c.team_id = any($t) and j.team_id <> all($t) group by c.case_id order by c.case_id limit 1",
        t=list(allowed.teams))
    case_id, foreign_job = found.row(0)
    whole = timeline.story(extract, case_id)
    assert foreign_job in whole.events["job_id"].to_list() and whole.withheld_events == 0
    told = timeline.story(extract, case_id, allowed=allowed)
    assert foreign_job not in told.events["job_id"].to_list() and told.withheld_events > 0
    unlinked = told.events.filter(~pl.col("linked"))
    assert set(unlinked["team_id"].to_list()) <= set(allowed.teams)  # a record of no team is in no team's scope
    assert set(told.other_reports["team_id"].drop_nulls()) <= set(allowed.teams)
    def shown_as(email: str) -> str:
        at = run_as(email, "pages/case.py", case=case_id, whole_home="1")
        return " ".join(str(v) for df in at.dataframe for v in df.value.to_numpy().ravel()), at

    shown, at = shown_as(manager)
    assert case_id in shown and foreign_job not in shown
    assert any("outside your scope and are not shown" in c.value for c in at.caption)
    assert foreign_job in shown_as(email_of(users, "executive"))[0]  # the executive sees the whole home


def test_a_managers_pack_from_the_app_is_their_scope_and_names_them(extract, users):
    manager = "dampmould.north@example.org"
    at = run_as(manager)
    next(b for b in at.sidebar.button if b.key == "pack_build").click()
    at.run(timeout=300)
    assert no_error(at), [e.message for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    pdf = at.session_state["_pack"][1]
    cover = pdf_page_texts(pdf)[0]
    assert f"Prepared for {manager} (manager)" in " ".join(cover.split())
    team_names = extract.sql("select team_name from teams where manager_email = $e", e=manager)["team_name"]
    assert all(name in cover for name in team_names)
    assert [e["action"] for e in audit.read_entries()].count("export") == 0  # made, not yet downloaded


def test_analyst_sees_vulnerable_household_not_the_type(extract, users):
    at = run_as(email_of(users, "analyst"), "pages/vulnerability.py", kpi="vu.adjustment_recorded_pct")
    table = at.dataframe[0].value
    types = set(extract.sql("select distinct vulnerability_type from vulnerabilities")["vulnerability_type"])
    shown = set(map(str, table.to_numpy().ravel()))
    assert not {t for t in types if t in shown}
    assert not {t.replace("_", " ").capitalize() for t in types} & shown


def test_executive_drill_down_and_case_are_audited(extract, users):
    executive = email_of(users, "executive")
    run_as(executive, "pages/damp_mould.py", kpi="dm.open_cases")
    case_id = cases(extract, AS_OF, "dm.open_cases")["id"][0]
    run_as(executive, "pages/case.py", case=case_id)
    actions = [(e["actor"], e["action"], e["target"]) for e in audit.read_entries()]
    assert (executive, "drill_down", "dm.open_cases") in actions
    assert (executive, "open_case", case_id) in actions
    assert all(e["chain_ok"] for e in audit.read_entries())


def test_only_administrators_read_the_audit_trail(users):
    admin = run_as(email_of(users, "administrator"), "pages/audit.py")
    assert admin.title[0].value == "Audit trail"
    for role in ("executive", "manager", "analyst"):
        other = run_as(email_of(users, role), "pages/audit.py")
        assert "Audit trail" not in [t.value for t in other.title], role
        assert all("At (UTC)" not in t.value.columns for t in other.dataframe), role  # sent to the overview


def test_outside_demo_mode_nothing_runs_without_sign_in(monkeypatch):
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "0")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    assert any("Sign-in is not configured" in e.value for e in at.error)
    assert not at.metric and not at.dataframe


def test_signed_in_user_not_listed_sees_a_polite_message(monkeypatch):
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "0")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.secrets["auth"] = {"redirect_uri": "http://localhost/oauth2callback", "cookie_secret": "x",
                          "client_id": "x", "client_secret": "x",
                          "server_metadata_url": "http://localhost/.well-known/openid-configuration"}
    at.user = {"is_logged_in": True, "email": "stranger@example.org"}
    at.run()
    assert any("has not been given access" in i.value for i in at.info)
    assert not at.metric and not at.dataframe


# ---------------------------------------------------------------------------------------- property test

ROW_KPIS = [k.id for k in CATALOGUE if k.query != "validation" and not k.query.startswith("vu_")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_no_row_outside_a_users_scope(extract, users, data):
    teams = extract.sql("select team_id, region from teams")
    regions = sorted(set(teams["region"].to_list())) + ["Nowhere"]
    email = data.draw(st.sampled_from(sorted(users)))
    region = data.draw(st.none() | st.sampled_from(regions))
    team = data.draw(st.none() | st.sampled_from(sorted(teams["team_id"].to_list())))
    kpi_id = data.draw(st.sampled_from(ROW_KPIS))
    allowed = user_scope(extract, users[email])
    scope = narrow(allowed, region, team)
    rows = cases(extract, AS_OF, kpi_id, scope)
    if rows.is_empty():
        return
    team_of = dict(zip(teams["team_id"].to_list(), teams["region"].to_list(), strict=True))
    if allowed.teams is not None and "team_id" in rows.columns:
        assert set(rows["team_id"].to_list()) <= set(allowed.teams), (email, kpi_id)
    if team is not None and "team_id" in rows.columns:
        assert set(rows["team_id"].to_list()) <= {team}
    if region is not None and "region" in rows.columns:
        assert set(rows["region"].to_list()) <= {region}
    assert team_of  # teams exist in the demo


# ------------------------------------------------------------------- special-category data of other teams

MANAGER = "dampmould.north@example.org"


def test_a_manager_lists_household_rows_only_of_households_their_teams_serve(extract, users):
    """vu.* counts every household of the manager's regions (kpis.md), but the rows behind it name a
    household's vulnerability: a manager sees those of the households their teams serve only."""
    from housing_assurance.access import households_served

    kpi = "vu.adjustment_recorded_pct"
    allowed = user_scope(extract, users[MANAGER])
    counted = cases(extract, AS_OF, kpi, allowed)
    served = households_served(extract, allowed.teams)
    expected = counted.filter(pl.col("household_id").is_in(list(served)))
    assert 0 < expected.height < counted.height  # some rows are of households the teams do not serve
    at = run_as(MANAGER, "pages/vulnerability.py", kpi=kpi)
    assert len(at.dataframe[0].value) == expected.height
    withheld = counted.height - expected.height
    assert any(f"{withheld:,} of the {counted.height:,}" in c.value for c in at.caption)
    executive = run_as(email_of(users, "executive"), "pages/vulnerability.py", kpi=kpi)
    assert len(executive.dataframe[0].value) == len(cases(extract, AS_OF, kpi))


def test_cli_cases_as_a_manager_withholds_and_says_so(demo, extract, users):
    import json

    from housing_assurance.access import households_served

    kpi = "vu.households_flagged_pct"
    allowed = user_scope(extract, users[MANAGER])
    served = households_served(extract, allowed.teams)
    done = command("cases", "--data", demo, "--as-of", AS_OF.isoformat(), "--kpi", kpi, "--json", "--as-user",
                   MANAGER, env={"HOUSING_ASSURANCE_ACCESS": str(demo / "access.toml")})
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert rows and {r.get("household_id", r["id"]) for r in rows} <= served
    assert "counted but not listed" in done.stderr
    assert not any("vulnerability_type" in r for r in rows)  # a manager never sees the nature of it


def test_homes_at_risk_for_a_manager_says_vulnerable_only_of_their_households(extract, users):
    from housing_assurance import risk
    from housing_assurance.access import households_served

    allowed = user_scope(extract, users[MANAGER])
    whole = risk.homes_at_risk(extract, AS_OF, allowed)
    seen = risk.for_teams(extract, whole, allowed.teams)
    served_homes = {p for h, p in extract.query("households_served", scope_teams=list(allowed.teams)).iter_rows()}
    assert served_homes and households_served(extract, allowed.teams)
    vulnerable = seen.filter(pl.col("reasons").list.contains(risk.VULNERABLE_REASON))
    assert set(vulnerable["property_id"].to_list()) <= served_homes
    assert whole.filter(pl.col("reasons").list.contains(risk.VULNERABLE_REASON)).height > vulnerable.height
    own = extract.sql("select case_id from damp_mould_cases where team_id = any($t)", t=list(allowed.teams))
    assert set(seen["latest_case_id"].drop_nulls().to_list()) <= set(own["case_id"].to_list())
    # The list under a team scope is the homes of the teams' patch, not their whole region.
    patch = extract.query("team_patch", scope_teams=list(allowed.teams), as_of=AS_OF)
    assert whole.join(patch, on=["region", "area"], how="anti").is_empty()


def test_about_page_gives_managers_counts_not_other_teams_records(users):
    manager = run_as(MANAGER, "pages/about.py")
    executive = run_as(email_of(users, "executive"), "pages/about.py")
    assert any("Examples" in df.value.columns for df in executive.dataframe)
    assert not any("Examples" in df.value.columns for df in manager.dataframe)
