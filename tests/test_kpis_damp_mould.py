"""Damp and mould KPIs (Awaab's Law clocks) on hand-made extracts; expected values worked by hand.

The reporting week for as-of Sun 4 Jan 2026 is Mon 29 Dec 2025 .. Sun 4 Jan 2026; E = 5 Jan 2026 00:00.
"""

from datetime import date, datetime

import polars as pl
import pytest
from extract_factory import write_extract

from housing_assurance.db import open_extract
from housing_assurance.kpis import cases, compute
from housing_assurance.scope import WHOLE_LANDLORD, Scope

AS_OF = date(2026, 1, 4)


def figures(extract, ids, as_of=AS_OF, scope=WHOLE_LANDLORD):
    out = compute(extract, [as_of], scope, ids)
    return {r["kpi_id"]: (r["value"], r["numerator"], r["denominator"]) for r in out.iter_rows(named=True)}


def case(case_id, reported_at, **kw):
    return {"case_id": case_id, "reported_at": reported_at, **kw}


@pytest.fixture
def clocks_extract(tmp_path):
    return open_extract(write_extract(tmp_path, damp_mould_cases=[
        # Investigation clock: reported Fri 12 Dec 2025 14:00; 10 working days after day 0 (12 Dec):
        # 15-19 (5), 22, 23, 24 (8), [25, 26 bank holidays, 27-28 weekend], 29 (9), 30 (10) -> Tue 30 Dec,
        # which is in the week.
        case("A", datetime(2025, 12, 12, 14), hazard_level="significant",
             investigation_completed_at=datetime(2025, 12, 30, 23, 59, 59)),  # at the deadline: met
        case("B", datetime(2025, 12, 12, 14), hazard_level="not_significant",
             investigation_completed_at=datetime(2025, 12, 31, 0, 0, 0)),  # one second after: missed
        case("C", datetime(2025, 12, 12, 14)),  # not assessed (null hazard), never investigated: missed
        case("D", datetime(2025, 12, 12, 14), hazard_level="emergency",
             investigation_completed_at=datetime(2025, 12, 12, 15),
             safety_work_completed_at=datetime(2025, 12, 13, 9)),  # emergency: not on the 10-day clock
        # Emergency clock: reported Sat 3 Jan 2026 10:00 -> due Sun 4 Jan 10:00 (in the week).
        case("E1", datetime(2026, 1, 3, 10), hazard_level="emergency",
             investigation_completed_at=datetime(2026, 1, 3, 12),
             safety_work_completed_at=datetime(2026, 1, 4, 10)),  # exactly at 24h: met
        case("E2", datetime(2026, 1, 3, 10), hazard_level="emergency",
             investigation_completed_at=datetime(2026, 1, 3, 12),
             safety_work_completed_at=datetime(2026, 1, 4, 10, 0, 1)),  # one second late: missed
        case("E3", datetime(2026, 1, 3, 10), hazard_level="emergency",
             investigation_completed_at=datetime(2026, 1, 3, 12)),  # never made safe: missed, still running
        case("E4", datetime(2026, 1, 4, 10), hazard_level="emergency"),  # due 5 Jan 10:00: next week
        # Summary clock: investigated Wed 24 Dec 2025 -> 3 working days: 29, 30, 31 Dec -> Wed 31 Dec.
        case("S1", datetime(2025, 12, 1, 9), hazard_level="significant",
             investigation_completed_at=datetime(2025, 12, 24, 15),
             summary_sent_at=datetime(2025, 12, 31, 17),
             safety_work_completed_at=datetime(2025, 12, 29, 9),
             closed_at=datetime(2026, 1, 2, 9), status="closed"),
        # Safety work clock: significant, investigated Mon 22 Dec 2025 -> 5 working days:
        # 23, 24, 29, 30, 31 -> Wed 31 Dec; made safe Thu 1 Jan: missed.
        case("W1", datetime(2025, 12, 1, 9), hazard_level="significant",
             investigation_completed_at=datetime(2025, 12, 22, 11),
             summary_sent_at=datetime(2025, 12, 23, 9),
             safety_work_completed_at=datetime(2026, 1, 1, 9),
             closed_at=datetime(2026, 1, 2, 9), status="closed"),
        # Further work: investigated Tue 7 Oct 2025 -> 7 Oct + 84 days = Tue 30 Dec 2025; started 30 Dec 23:00: met.
        case("F1", datetime(2025, 10, 1, 9), hazard_level="not_significant",
             investigation_completed_at=datetime(2025, 10, 7, 16), summary_sent_at=datetime(2025, 10, 8, 9),
             further_work_required=True, further_work_started_at=datetime(2025, 12, 30, 23),
             closed_at=datetime(2026, 1, 6, 9), status="closed"),  # closed after E: still open at E
        case("F2", datetime(2025, 10, 1, 9), hazard_level="not_significant",
             investigation_completed_at=datetime(2025, 10, 7, 16), summary_sent_at=datetime(2025, 10, 8, 9),
             further_work_required=False, closed_at=datetime(2025, 11, 1, 9), status="closed"),
    ]))


def test_investigated_within_10_working_days_over_christmas(clocks_extract):
    # Due in the week: A (met at 23:59:59 on the deadline day), B (00:00:00 next day), C (never) -> 1/3.
    value, met, due = figures(clocks_extract, ["dm.investigated_10wd_pct"])["dm.investigated_10wd_pct"]
    assert (met, due) == (1, 3)
    assert value == pytest.approx(100 / 3)
    rows = cases(clocks_extract, AS_OF, "dm.investigated_10wd_pct")
    assert dict(zip(rows["id"], rows["meets"], strict=True)) == {"A": True, "B": False, "C": False}
    assert set(rows["due_on"]) == {date(2025, 12, 30)}


def test_emergency_made_safe_within_24_hours(clocks_extract):
    # Due Sun 4 Jan 10:00 for E1, E2, E3; E4 is due next week. Only E1 met -> 1/3.
    assert figures(clocks_extract, ["dm.emergency_made_safe_24h_pct"])["dm.emergency_made_safe_24h_pct"][1:] == (1, 3)


def test_summary_safety_and_further_work_clocks(clocks_extract):
    got = figures(clocks_extract, ["dm.summary_3wd_pct", "dm.safety_work_5wd_pct", "dm.further_work_12wk_pct"])
    # Summary: S1 investigated 24 Dec -> 29, 30, 31 Dec: due 31 Dec, sent 31 Dec 17:00 (met); W1 investigated
    # 22 Dec -> 23, 24, 29: due 29 Dec, sent 23 Dec (met). Not due in the week: A investigated 30 Dec ->
    # 31 Dec, [1 Jan bank holiday], 2 Jan, 5 Jan: due 5 Jan; B investigated 31 Dec -> due 6 Jan;
    # D investigated 12 Dec -> due 17 Dec; E1-E3 investigated Sat 3 Jan -> 5, 6, 7 Jan.
    assert got["dm.summary_3wd_pct"][1:] == (2, 2)
    # Safety work: W1 investigated Mon 22 Dec -> 23, 24, 29, 30, 31: due 31 Dec, done 1 Jan (missed).
    # S1 investigated 24 Dec -> 29, 30, 31, 2 Jan, 5 Jan: due 5 Jan (next week); A investigated 30 Dec: later.
    assert got["dm.safety_work_5wd_pct"][1:] == (0, 1)
    # Further work: F1 due 30 Dec, started 30 Dec 23:00 (met); F2 not required.
    assert got["dm.further_work_12wk_pct"][1:] == (1, 1)


def test_open_cases_come_from_timestamps_not_status(clocks_extract):
    got = figures(clocks_extract, ["dm.open_cases", "dm.open_emergency_cases", "dm.open_unassessed_cases",
                                   "dm.overdue_open_cases"])
    # Open at E (5 Jan 00:00): A, B, C, D, E1-E4 (never closed) and F1 (closed 6 Jan, after E, though its
    # status says closed). S1, W1 closed 2 Jan; F2 closed in November -> 9 open.
    assert got["dm.open_cases"][0] == 9
    assert got["dm.open_emergency_cases"][0] == 5  # D, E1, E2, E3, E4
    assert got["dm.open_unassessed_cases"][0] == 2  # C and E4 have no investigation
    # Breaches running at E: D (summary due 17 Dec, never sent), C (investigation due 30 Dec, not done),
    # E3 (never made safe, due 4 Jan 10:00). Not running: E1, E2 (both actions done by E, E2 late);
    # B (investigated late but before E; its summary is due 6 Jan); A (summary due 5 Jan, not yet passed).
    rows = cases(clocks_extract, AS_OF, "dm.overdue_open_cases")
    assert got["dm.overdue_open_cases"][0] == 3
    # Most overdue first: D (17 Dec), C (30 Dec), E3 (4 Jan 10:00).
    assert list(rows["id"]) == ["D", "C", "E3"]


def test_action_recorded_after_the_week_does_not_meet_and_case_is_unassessed(tmp_path):
    # Reported Mon 15 Dec 2025 -> 10 wd: 16,17,18,19,22,23,24,29,30,31 -> Wed 31 Dec (in the week).
    # Investigated 2 Jan? that meets nothing (late). Here: investigated at exactly E (5 Jan 00:00): unknown at E.
    extract = open_extract(write_extract(tmp_path, damp_mould_cases=[
        case("X", datetime(2025, 12, 15, 9), hazard_level="significant",
             investigation_completed_at=datetime(2026, 1, 5, 0, 0))]))
    got = figures(extract, ["dm.investigated_10wd_pct", "dm.open_unassessed_cases", "dm.overdue_open_cases"])
    assert got["dm.investigated_10wd_pct"][1:] == (0, 1)
    assert got["dm.open_unassessed_cases"][0] == 1
    assert got["dm.overdue_open_cases"][0] == 1


def test_no_cases_due_is_null_not_zero(tmp_path):
    extract = open_extract(write_extract(tmp_path))
    got = figures(extract, ["dm.investigated_10wd_pct", "dm.resolved_median_days", "dm.open_cases",
                            "dm.repeat_cases_pct"])
    assert got["dm.investigated_10wd_pct"] == (None, 0, 0)
    assert got["dm.repeat_cases_pct"] == (None, 0, 0)
    assert got["dm.resolved_median_days"] == (None, None, None)
    assert got["dm.open_cases"] == (0, None, None)


def test_resolved_median_days(tmp_path):
    extract = open_extract(write_extract(tmp_path, damp_mould_cases=[
        case("R1", datetime(2025, 12, 30, 0), resolved_at=datetime(2025, 12, 31, 12)),  # 1.5 days
        case("R2", datetime(2025, 12, 28, 9), resolved_at=datetime(2025, 12, 30, 9)),  # 2 days
        case("R3", datetime(2025, 12, 20, 9), resolved_at=datetime(2025, 12, 30, 9)),  # 10 days
        case("R4", datetime(2025, 12, 20, 9), resolved_at=datetime(2026, 1, 5, 0)),  # at E: not in week
    ]))
    assert figures(extract, ["dm.resolved_median_days"])["dm.resolved_median_days"][0] == pytest.approx(2.0)


def test_repeat_cases_365_day_edge_and_reopened(tmp_path):
    extract = open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": p} for p in ("P1", "P2", "P3", "P4")],
        damp_mould_cases=[
            case("OLD1", datetime(2025, 1, 2, 10), property_id="P1"),  # exactly 365 days before NEW1
            case("NEW1", datetime(2026, 1, 2, 10), property_id="P1"),  # repeat
            case("OLD2", datetime(2025, 1, 2, 9, 59, 59), property_id="P2"),  # 365 days + 1 s before NEW2
            case("NEW2", datetime(2026, 1, 2, 10), property_id="P2"),  # not a repeat
            case("NEW3", datetime(2026, 1, 2, 10), property_id="P3", reopened_from_case_id="OLD2"),  # reopened
            case("NEW4", datetime(2026, 1, 3, 10), property_id="P4"),  # first at the home
        ]))
    value, repeats, reported = figures(extract, ["dm.repeat_cases_pct"])["dm.repeat_cases_pct"]
    assert (repeats, reported) == (2, 4)
    assert value == 50.0
    rows = cases(extract, AS_OF, "dm.repeat_cases_pct")
    assert sorted(rows.filter(rows["meets"])["id"]) == ["NEW1", "NEW3"]


def test_repeat_case_found_through_the_household_on_either_side(tmp_path):
    # A row's property is its property_id or, where that is null, its household's property; the
    # look-back uses that home for both the new case and the earlier one.
    #   NEW1 (household H1 at P1, no property_id) follows OLD1 at P1: repeat.
    #   NEW2 at P2 follows OLD2 (household H2 at P2, no property_id): repeat.
    #   NEW3 at P3: its only earlier case OLD3 belongs to H1 (at P1): not a repeat.
    # Hand-worked: 2 repeats of 3 reported = 66.67%.
    extract = open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": p} for p in ("P1", "P2", "P3")],
        households=[{"household_id": "H1", "property_id": "P1"}, {"household_id": "H2", "property_id": "P2"}],
        damp_mould_cases=[
            case("OLD1", datetime(2025, 6, 1, 10), property_id="P1", household_id=None),
            case("NEW1", datetime(2026, 1, 2, 10), property_id=None, household_id="H1"),
            case("OLD2", datetime(2025, 6, 1, 10), property_id=None, household_id="H2"),
            case("NEW2", datetime(2026, 1, 2, 10), property_id="P2", household_id=None),
            case("OLD3", datetime(2025, 6, 1, 10), property_id=None, household_id="H1"),
            case("NEW3", datetime(2026, 1, 2, 11), property_id="P3", household_id=None),
        ]))
    value, repeats, reported = figures(extract, ["dm.repeat_cases_pct"])["dm.repeat_cases_pct"]
    assert (repeats, reported) == (2, 3)
    rows = cases(extract, AS_OF, "dm.repeat_cases_pct")
    assert sorted(rows.filter(rows["meets"])["id"]) == ["NEW1", "NEW2"]
    assert rows.filter(pl.col("id") == "NEW1")["property_id"].to_list() == ["P1"]  # the home, as the drill-down shows


def test_per_1000_homes_and_financial_year_boundary(tmp_path):
    extract = open_extract(write_extract(
        tmp_path,
        properties=[
            {"property_id": "P1"}, {"property_id": "P2", "tenure": "shared_ownership"},
            {"property_id": "P3", "tenure": "leasehold"},  # leasehold: not a home for the denominator
            {"property_id": "P4", "in_stock_to": date(2026, 3, 1)},  # sold before D
            {"property_id": "P5", "in_stock_from": date(2026, 4, 3)},  # acquired after D
            {"property_id": "P6", "in_stock_from": date(2026, 4, 2)},  # acquired on D: in stock
        ],
        damp_mould_cases=[
            case("M1", datetime(2026, 3, 30, 9), property_id="P1"),  # in the week, before the FY starts
            case("M2", datetime(2026, 4, 1, 0), property_id="P3"),  # in the week and FYTD (leasehold home)
            case("M3", datetime(2026, 4, 2, 23, 59), property_id="P2"),  # in both
        ]))
    # As of Thu 2 Apr 2026: week 27 Mar .. 2 Apr; FYTD 1 Apr .. 2 Apr. Homes: P1, P2, P6 = 3.
    got = figures(extract, ["dm.new_cases", "dm.cases_fytd_per_1000_homes", "dm.open_cases_per_1000_homes"],
                  as_of=date(2026, 4, 2))
    assert got["dm.new_cases"][0] == 3
    assert got["dm.cases_fytd_per_1000_homes"] == (pytest.approx(2 / 3 * 1000), 2, 3)
    assert got["dm.open_cases_per_1000_homes"] == (pytest.approx(1000.0), 3, 3)


def test_vulnerable_household_found_through_the_property(tmp_path):
    extract = open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "P1"}, {"property_id": "P2"}],
        households=[
            {"household_id": "H1", "property_id": "P1", "tenancy_start": date(2020, 1, 1),
             "tenancy_end": date(2025, 12, 1)},
            {"household_id": "H2", "property_id": "P1", "tenancy_start": date(2025, 12, 2)},
            {"household_id": "H3", "property_id": "P2", "tenancy_start": date(2020, 1, 1)},
        ],
        vulnerabilities=[{"household_id": "H2", "recorded_on": date(2025, 12, 10)},
                         {"household_id": "H3", "recorded_on": date(2026, 1, 5)}],  # after D: not yet known
        damp_mould_cases=[
            case("V1", datetime(2025, 12, 20, 9), property_id="P1"),  # H2's tenancy covers 20 Dec: vulnerable
            case("V2", datetime(2025, 11, 20, 9), property_id="P1"),  # H1's tenancy (not vulnerable)
            case("V3", datetime(2025, 12, 20, 9), property_id="P2", household_id="H3"),  # recorded after D
        ]))
    rows = cases(extract, AS_OF, "dm.open_cases_vulnerable")
    assert list(rows["id"]) == ["V1"]


def test_scope_by_region_and_team_adds_up(tmp_path):
    extract = open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "P1", "region": "North"}, {"property_id": "P2", "region": "South"}],
        teams=[{"team_id": "T1", "region": "North"}, {"team_id": "T2", "region": "South"}],
        damp_mould_cases=[
            case("N1", datetime(2025, 12, 30, 9), property_id="P1", team_id="T1"),
            case("N2", datetime(2025, 12, 31, 9), property_id="P1", team_id="T2"),
            case("S1", datetime(2026, 1, 2, 9), property_id="P2", team_id="T2"),
        ]))
    whole = figures(extract, ["dm.new_cases"])["dm.new_cases"][0]
    north = figures(extract, ["dm.new_cases"], scope=Scope(region="North"))["dm.new_cases"][0]
    south = figures(extract, ["dm.new_cases"], scope=Scope(region="South"))["dm.new_cases"][0]
    assert (whole, north, south) == (3, 2, 1)
    t2 = figures(extract, ["dm.new_cases", "dm.open_cases_per_1000_homes"], scope=Scope(teams=("T2",)))
    assert t2["dm.new_cases"][0] == 2
    # Under a team scope alone the homes are the team's region's (South: P2 only): 2 open / 1 home.
    assert t2["dm.open_cases_per_1000_homes"] == (2000.0, 2, 1)
    both = figures(extract, ["dm.new_cases"], scope=Scope(region="North", teams=("T2",)))["dm.new_cases"][0]
    assert both == 1
    nobody = figures(extract, ["dm.new_cases", "dm.open_cases_per_1000_homes"], scope=Scope(region="East"))
    assert nobody["dm.new_cases"][0] == 0
    assert nobody["dm.open_cases_per_1000_homes"] == (None, 0, 0)


def test_open_serious_case_without_a_job(tmp_path):
    extract = open_extract(write_extract(
        tmp_path,
        damp_mould_cases=[
            case("J1", datetime(2025, 12, 1, 9), hazard_level="significant"),  # job before E
            case("J2", datetime(2025, 12, 1, 9), hazard_level="emergency"),  # job only after E
            case("J3", datetime(2025, 12, 1, 9), hazard_level="not_significant"),  # not serious
        ],
        repairs=[
            {"job_id": "R1", "dm_case_id": "J1", "reported_at": datetime(2026, 1, 4, 23, 59)},
            {"job_id": "R2", "dm_case_id": "J2", "reported_at": datetime(2026, 1, 5, 0, 0)},
        ]))
    assert list(cases(extract, AS_OF, "dq.dm_open_without_job")["id"]) == ["J2"]


def test_trend_gives_one_figure_per_week(clocks_extract):
    from housing_assurance.kpis import trend

    t = trend(clocks_extract, AS_OF, 13, kpi_ids=["dm.open_cases", "dm.investigated_10wd_pct"])
    assert t.height == 26
    this_week = t.filter((t["as_of"] == AS_OF) & (t["kpi_id"] == "dm.open_cases"))["value"][0]
    assert this_week == 9
