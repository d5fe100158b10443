"""Repairs (rp.*), contractor (ct.*) KPIs and vu.open_overdue_jobs_vulnerable on hand-made extracts.

Every expected value is worked out by hand in a comment. As-of date D = Sun 11 Jan 2026: the
reporting week is Mon 5 Jan 00:00 <= t < Mon 12 Jan 2026 00:00 = E. The 30 days before E start
at Sat 13 Dec 2025 00:00; the 13 weeks ending D start at Mon 13 Oct 2025 00:00 (D - 90 days).
"""

from datetime import date, datetime, timedelta

import polars as pl
import pytest
from extract_factory import write_extract

from housing_assurance.contractors import contractor_scorecard
from housing_assurance.db import open_extract
from housing_assurance.kpis import CATALOGUE, cases, compute, kpi
from housing_assurance.scope import WHOLE_LANDLORD, Scope

AS_OF = date(2026, 1, 11)
E = datetime(2026, 1, 12)
WEEK_START = datetime(2026, 1, 5)
SECOND = timedelta(seconds=1)

OUR_IDS = [k.id for k in CATALOGUE if k.domain in ("rp", "ct")] + ["vu.open_overdue_jobs_vulnerable"]

CONTRACTORS = [
    {"contractor_id": "C1", "contractor_name": "In-house", "is_in_house": True},
    {"contractor_id": "C2", "contractor_name": "Acme Repairs", "is_in_house": False},
]


def figures(extract, ids, as_of=AS_OF, scope=WHOLE_LANDLORD):
    out = compute(extract, [as_of], scope, ids)
    return {r["kpi_id"]: (r["value"], r["numerator"], r["denominator"]) for r in out.iter_rows(named=True)}


def check_drill_down(extract, kpi_id, scope=WHOLE_LANDLORD, as_of=AS_OF):
    """cases() has exactly the rows behind the figure: denominator rows (pct) or value rows (count)."""
    value, numerator, denominator = figures(extract, [kpi_id], as_of, scope)[kpi_id]
    rows = cases(extract, as_of, kpi_id, scope)
    if kpi(kpi_id).kind == "pct":
        assert rows.height == denominator
        assert int(rows["meets"].sum()) == numerator
    elif kpi(kpi_id).kind == "count":
        assert rows.height == value
    assert rows["id"].n_unique() == rows.height
    return rows


def meets_by_id(extract, kpi_id, scope=WHOLE_LANDLORD):
    rows = check_drill_down(extract, kpi_id, scope)
    return dict(zip(rows["id"], rows["meets"], strict=True))


def job(job_id, **kw):
    return {"job_id": job_id, **kw}


def done(job_id, completed_at, **kw):
    return {"job_id": job_id, "completed_at": completed_at, "status": "completed", **kw}


# ---------------------------------------------------------------------------------------------
# RP02: on time, emergency and non-emergency, rented homes only


@pytest.fixture
def rp02_extract(tmp_path):
    target = datetime(2026, 1, 7, 10)
    return open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "P1"}, {"property_id": "SO", "tenure": "shared_ownership"},
                    {"property_id": "LH", "tenure": "leasehold"}, {"property_id": "SU", "tenure": "supported"},
                    {"property_id": "OP", "tenure": "older_persons"}],
        repairs=[
            done("EM_AT", target, priority="emergency", target_at=target),  # exactly at target: on time
            done("EM_1S", target + SECOND, priority="emergency", target_at=target),  # one second late
            done("EM_SU", datetime(2026, 1, 6), priority="emergency", target_at=target, property_id="SU"),
            done("EM_SO", datetime(2026, 1, 6), priority="emergency", target_at=target, property_id="SO"),
            done("EM_LH", datetime(2026, 1, 9), priority="emergency", target_at=target, property_id="LH"),
            done("UR", datetime(2026, 1, 8), priority="urgent", target_at=target),  # late
            done("RO_START", WEEK_START, priority="routine", target_at=target),  # first instant of week, on time
            done("RO_E", E, priority="routine", target_at=datetime(2026, 2, 1)),  # at E: next week
            done("RO_OP", datetime(2026, 1, 10), priority="routine", target_at=datetime(2026, 2, 1),
                 property_id="OP"),
            done("PL", datetime(2026, 1, 8), priority="planned", target_at=target),  # planned: never RP02
            done("RO_LH", datetime(2026, 1, 9), priority="routine", target_at=target, property_id="LH"),
            done("RO_SO", datetime(2026, 1, 9), priority="routine", target_at=datetime(2026, 2, 1),
                 property_id="SO"),
        ]))


def test_rp02_emergency_on_time_rented_homes_only(rp02_extract):
    # Emergency, rented home, completed in the week: EM_AT (== target: met), EM_1S (1 s late: missed),
    # EM_SU (supported is rented; before target: met). EM_SO (shared ownership) and EM_LH (leasehold) out.
    # 2 / 3.
    assert meets_by_id(rp02_extract, "rp.emergency_on_time_pct") == {"EM_AT": True, "EM_1S": False, "EM_SU": True}
    value, num, den = figures(rp02_extract, ["rp.emergency_on_time_pct"])["rp.emergency_on_time_pct"]
    assert (num, den) == (2, 3)
    assert value == pytest.approx(200 / 3)


def test_rp02_non_emergency_on_time(rp02_extract):
    # Urgent/routine at rented homes completed in the week: UR (late), RO_START (00:00 Mon, in the week,
    # on time), RO_OP (older persons, on time). RO_E is at E (next week), PL planned, RO_LH leasehold,
    # RO_SO shared ownership. 2 / 3.
    assert meets_by_id(rp02_extract, "rp.non_emergency_on_time_pct") == {
        "UR": False, "RO_START": True, "RO_OP": True}
    assert figures(rp02_extract, ["rp.non_emergency_on_time_pct"])["rp.non_emergency_on_time_pct"][1:] == (2, 3)


def test_non_rp02_completed_job_kpis_include_every_tenure(rp02_extract):
    # rp.unverified_completion_pct counts responsive jobs completed in the week at any tenure:
    # EM_AT, EM_1S, EM_SU, EM_SO, EM_LH, UR, RO_START, RO_OP, RO_LH, RO_SO = 10 (PL planned, RO_E next
    # week); none has completion_verified recorded -> 10 / 10 unverified.
    assert figures(rp02_extract, ["rp.unverified_completion_pct"])["rp.unverified_completion_pct"] == (100.0, 10, 10)
    rows = check_drill_down(rp02_extract, "rp.unverified_completion_pct")
    assert {"EM_SO", "EM_LH", "RO_LH", "RO_SO"} <= set(rows["id"])
    assert "PL" not in set(rows["id"]) and "RO_E" not in set(rows["id"])
    # ct.in_house_on_time_pct: the same 10 jobs (all C1, in-house) with completed_at <= target_at:
    # EM_AT, EM_SU, EM_SO, RO_START, RO_OP, RO_SO (EM_LH 9 Jan > 7 Jan 10:00, EM_1S, UR, RO_LH late) -> 6/10.
    assert figures(rp02_extract, ["ct.in_house_on_time_pct"])["ct.in_house_on_time_pct"] == (60.0, 6, 10)
    check_drill_down(rp02_extract, "ct.in_house_on_time_pct")
    # No external contractor did anything: null, not 0.
    assert figures(rp02_extract, ["ct.external_on_time_pct"])["ct.external_on_time_pct"] == (None, 0, 0)


# ---------------------------------------------------------------------------------------------
# Average days to complete, unverified completions


def test_avg_days_to_complete(tmp_path):
    x = open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "P1"}, {"property_id": "LH", "tenure": "leasehold"}],
        repairs=[
            # Reported Mon 5 Jan 09:00, completed Tue 6 Jan 21:00: 1.5 days.
            done("A", datetime(2026, 1, 6, 21), reported_at=datetime(2026, 1, 5, 9)),
            # Leasehold (counted: only RP02 is rented-only), reported 1 Jan 09:00, completed 8 Jan 09:00: 7 days.
            done("B", datetime(2026, 1, 8, 9), reported_at=datetime(2026, 1, 1, 9), property_id="LH",
                 priority="emergency"),
            # Planned: not responsive, left out (would be 100 days).
            done("C", datetime(2026, 1, 8, 9), reported_at=datetime(2025, 9, 30, 9), priority="planned"),
            # Completed at E: next week.
            done("D", E, reported_at=datetime(2026, 1, 1)),
        ]))
    # mean(1.5, 7) = 4.25
    assert figures(x, ["rp.avg_days_to_complete"])["rp.avg_days_to_complete"] == (4.25, None, None)
    rows = check_drill_down(x, "rp.avg_days_to_complete")
    assert sorted(rows["id"]) == ["A", "B"]
    # The week before (29 Dec - 4 Jan) has no completions: the mean is null, not 0.
    assert figures(x, ["rp.avg_days_to_complete"], as_of=date(2026, 1, 4))["rp.avg_days_to_complete"] == (
        None, None, None)


def test_unverified_completion(tmp_path):
    x = open_extract(write_extract(tmp_path, repairs=[
        done("V", datetime(2026, 1, 6), completion_verified=True),
        done("F", datetime(2026, 1, 6), completion_verified=False),
        done("N", datetime(2026, 1, 6)),  # null: not recorded, so not verified
        done("PV", datetime(2026, 1, 6), priority="planned"),  # planned: left out
    ]))
    # V verified; F and N not -> 2 / 3 unverified.
    assert meets_by_id(x, "rp.unverified_completion_pct") == {"V": False, "F": True, "N": True}
    value, num, den = figures(x, ["rp.unverified_completion_pct"])["rp.unverified_completion_pct"]
    assert (num, den) == (2, 3) and value == pytest.approx(200 / 3)


# ---------------------------------------------------------------------------------------------
# First-time fix (and its contractor split)


@pytest.fixture
def ftf_extract(tmp_path):
    def appt(aid, job_id, slot_start, outcome="attended"):
        return {"appointment_id": aid, "job_id": job_id, "slot_start": slot_start, "outcome": outcome}

    return open_extract(write_extract(
        tmp_path,
        contractors=CONTRACTORS,
        repairs=[
            done("ONE", datetime(2026, 1, 7)),
            done("TWO", datetime(2026, 1, 7)),
            done("LATE_APPT", datetime(2026, 1, 7)),
            done("FOLLOWED", datetime(2026, 1, 7)),
            done("FOLLOWED_AFTER_E", datetime(2026, 1, 7)),
            done("NONE", datetime(2026, 1, 7)),
            done("NO_ACCESS_FIRST", datetime(2026, 1, 7), contractor_id="C2"),
            done("EXT_TWO", datetime(2026, 1, 7), contractor_id="C2"),
            job("F1", parent_job_id="FOLLOWED", reported_at=datetime(2026, 1, 11, 23, 59, 59), priority="planned"),
            job("F2", parent_job_id="FOLLOWED_AFTER_E", reported_at=E),
        ],
        appointments=[
            appt("A1", "ONE", datetime(2026, 1, 6)),
            appt("A2", "TWO", datetime(2026, 1, 5)),
            appt("A3", "TWO", datetime(2026, 1, 6)),
            appt("A4", "LATE_APPT", datetime(2026, 1, 6)),
            appt("A5", "LATE_APPT", E),  # at E: not yet known, so still exactly one attended
            appt("A6", "FOLLOWED", datetime(2026, 1, 6)),
            appt("A7", "FOLLOWED_AFTER_E", datetime(2026, 1, 6)),
            appt("A8", "NONE", datetime(2026, 1, 6), "no_access"),
            appt("A9", "NO_ACCESS_FIRST", datetime(2026, 1, 5), "no_access"),
            appt("A10", "NO_ACCESS_FIRST", datetime(2026, 1, 6)),
            appt("A11", "EXT_TWO", datetime(2025, 12, 30)),
            appt("A12", "EXT_TWO", datetime(2026, 1, 6)),
        ]))


def test_first_time_fix(ftf_extract):
    # ONE: one attended -> fix. TWO: two attended -> not. LATE_APPT: second attended slot is at E -> fix.
    # FOLLOWED: follow-on F1 (any priority) reported 1 s before E -> not. FOLLOWED_AFTER_E: follow-on at E ->
    # fix. NONE: no attended appointment -> not. NO_ACCESS_FIRST: no_access then one attended -> fix.
    # EXT_TWO: two attended (one before the week) -> not. 4 / 8 = 50%.
    assert meets_by_id(ftf_extract, "rp.first_time_fix_pct") == {
        "ONE": True, "TWO": False, "LATE_APPT": True, "FOLLOWED": False, "FOLLOWED_AFTER_E": True,
        "NONE": False, "NO_ACCESS_FIRST": True, "EXT_TWO": False}
    assert figures(ftf_extract, ["rp.first_time_fix_pct"])["rp.first_time_fix_pct"] == (50.0, 4, 8)


def test_first_time_fix_split_by_contractor(ftf_extract):
    # In-house (C1): ONE, TWO, LATE_APPT, FOLLOWED, FOLLOWED_AFTER_E, NONE -> fixes ONE, LATE_APPT,
    # FOLLOWED_AFTER_E = 3 / 6. External (C2): NO_ACCESS_FIRST (fix), EXT_TWO (not) -> 1 / 2.
    f = figures(ftf_extract, ["ct.in_house_first_time_fix_pct", "ct.external_first_time_fix_pct"])
    assert f["ct.in_house_first_time_fix_pct"] == (50.0, 3, 6)
    assert f["ct.external_first_time_fix_pct"] == (50.0, 1, 2)
    assert set(check_drill_down(ftf_extract, "ct.external_first_time_fix_pct")["id"]) == {"NO_ACCESS_FIRST",
                                                                                           "EXT_TWO"}
    check_drill_down(ftf_extract, "ct.in_house_first_time_fix_pct")


def test_contractor_on_time_split(tmp_path):
    target = datetime(2026, 1, 8, 12)
    x = open_extract(write_extract(
        tmp_path,
        contractors=CONTRACTORS,
        properties=[{"property_id": "P1"}, {"property_id": "LH", "tenure": "leasehold"}],
        repairs=[
            done("I1", target, target_at=target),  # in-house, on time (at target)
            done("I2", target + SECOND, target_at=target),  # in-house, 1 s late
            done("X1", target, target_at=target, contractor_id="C2"),  # external, on time
            done("X2", target, target_at=target, contractor_id="C2", property_id="LH"),  # leasehold counts here
            done("X3", datetime(2026, 1, 9), target_at=target, contractor_id="C2"),  # external, late
            done("X4", datetime(2026, 1, 9), target_at=target, contractor_id="C2", priority="planned"),
        ]))
    # In-house 1 / 2 = 50%; external X1, X2 on time, X3 late (X4 planned, out) = 2 / 3.
    f = figures(x, ["ct.in_house_on_time_pct", "ct.external_on_time_pct"])
    assert f["ct.in_house_on_time_pct"] == (50.0, 1, 2)
    assert f["ct.external_on_time_pct"][1:] == (2, 3)
    assert f["ct.external_on_time_pct"][0] == pytest.approx(200 / 3)
    assert meets_by_id(x, "ct.external_on_time_pct") == {"X1": True, "X2": True, "X3": False}


# ---------------------------------------------------------------------------------------------
# Open jobs, overdue, chased three times, vulnerable households


@pytest.fixture
def open_extract_(tmp_path):
    chase = {"reason": "repair_chase"}
    return open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "P1"}, {"property_id": "LH", "tenure": "leasehold"}],
        repairs=[
            job("OPEN_OVERDUE", reported_at=datetime(2025, 12, 1), target_at=datetime(2026, 1, 11, 23, 59, 59)),
            # Status says completed, but completed_at is at E: still open at E; target at E is not overdue.
            done("DONE_AT_E", E, reported_at=datetime(2026, 1, 6), target_at=E),
            job("CANCELLED", reported_at=datetime(2026, 1, 6), cancelled_at=datetime(2026, 1, 9), status="cancelled",
                target_at=datetime(2026, 1, 7)),
            job("CANCELLED_AT_E", reported_at=datetime(2026, 1, 6), cancelled_at=E, status="cancelled",
                target_at=datetime(2026, 1, 7)),  # cancelled at E: still open at E, overdue
            done("DONE", datetime(2026, 1, 10), reported_at=datetime(2026, 1, 6), target_at=datetime(2026, 1, 7)),
            job("REPORTED_AT_E", reported_at=E, target_at=datetime(2026, 1, 1)),  # not yet reported at E
            job("PLANNED", priority="planned", reported_at=datetime(2025, 6, 1), target_at=datetime(2025, 9, 1)),
            job("LEASEHOLD", property_id="LH", reported_at=datetime(2025, 12, 1), target_at=datetime(2025, 12, 2)),
            # Status says open but completed before E: closed at E (timestamps, not status).
            job("STALE_STATUS", completed_at=datetime(2026, 1, 3), reported_at=datetime(2026, 1, 1),
                target_at=datetime(2026, 1, 2)),
        ],
        contacts=[
            {**chase, "job_id": "OPEN_OVERDUE", "contacted_at": datetime(2025, 12, 10)},
            {**chase, "job_id": "OPEN_OVERDUE", "contacted_at": datetime(2025, 12, 20)},
            {**chase, "job_id": "OPEN_OVERDUE", "contacted_at": datetime(2026, 1, 11, 23, 59, 59)},
            {**chase, "job_id": "DONE_AT_E", "contacted_at": datetime(2026, 1, 7)},
            {**chase, "job_id": "DONE_AT_E", "contacted_at": datetime(2026, 1, 8)},
            {**chase, "job_id": "DONE_AT_E", "contacted_at": E},  # at E: not yet made
            {"reason": "enquiry", "job_id": "DONE_AT_E", "contacted_at": datetime(2026, 1, 9)},  # not a chase
            {**chase, "job_id": "DONE", "contacted_at": datetime(2026, 1, 7)},
            {**chase, "job_id": "DONE", "contacted_at": datetime(2026, 1, 8)},
            {**chase, "job_id": "DONE", "contacted_at": datetime(2026, 1, 9)},  # 3 chases, but not open at E
        ]))


def test_open_jobs(open_extract_):
    # Open at E: OPEN_OVERDUE, DONE_AT_E (completed at E), CANCELLED_AT_E, LEASEHOLD (all tenures) = 4.
    # Not open: CANCELLED (before E), DONE, STALE_STATUS (completed before E), REPORTED_AT_E, PLANNED.
    assert figures(open_extract_, ["rp.open_jobs"])["rp.open_jobs"] == (4.0, None, None)
    rows = check_drill_down(open_extract_, "rp.open_jobs")
    assert set(rows["id"]) == {"OPEN_OVERDUE", "DONE_AT_E", "CANCELLED_AT_E", "LEASEHOLD"}
    # Most overdue first.
    assert rows["id"].to_list() == ["LEASEHOLD", "CANCELLED_AT_E", "OPEN_OVERDUE", "DONE_AT_E"]


def test_open_overdue_jobs(open_extract_):
    # target_at < E: OPEN_OVERDUE (1 s before E), CANCELLED_AT_E, LEASEHOLD; DONE_AT_E's target is E -> 3.
    assert figures(open_extract_, ["rp.open_overdue_jobs"])["rp.open_overdue_jobs"] == (3.0, None, None)
    rows = check_drill_down(open_extract_, "rp.open_overdue_jobs")
    assert set(rows["id"]) == {"OPEN_OVERDUE", "CANCELLED_AT_E", "LEASEHOLD"}


def test_repeat_contact_open_jobs(open_extract_):
    # OPEN_OVERDUE: 3 chases before E (the last 1 s before E) -> counted. DONE_AT_E: 2 chases before E
    # (the one at E and the enquiry do not count). DONE: 3 chases but completed before E. -> 1.
    assert figures(open_extract_, ["rp.repeat_contact_open_jobs"])["rp.repeat_contact_open_jobs"] == (
        1.0, None, None)
    rows = check_drill_down(open_extract_, "rp.repeat_contact_open_jobs")
    assert rows["id"].to_list() == ["OPEN_OVERDUE"]
    assert rows["chases"].to_list() == [3]


def test_open_overdue_jobs_vulnerable(tmp_path):
    overdue = {"reported_at": datetime(2025, 12, 1), "target_at": datetime(2025, 12, 5)}
    x = open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": f"P{i}"} for i in range(1, 6)],
        households=[
            {"household_id": "H1", "property_id": "P1"},
            {"household_id": "H2", "property_id": "P2", "tenancy_start": date(2020, 1, 1)},
            {"household_id": "H3", "property_id": "P3"},
            {"household_id": "H4", "property_id": "P4", "tenancy_start": date(2018, 1, 1),
             "tenancy_end": date(2025, 6, 30)},
            {"household_id": "H5", "property_id": "P5", "tenancy_start": date(2025, 12, 2)},
        ],
        vulnerabilities=[
            {"household_id": "H1", "recorded_on": date(2025, 1, 1)},
            {"household_id": "H2", "recorded_on": date(2024, 1, 1)},
            {"household_id": "H3", "recorded_on": date(2026, 1, 12)},  # recorded after D: not yet vulnerable
            {"household_id": "H4", "recorded_on": date(2019, 1, 1)},
            {"household_id": "H5", "recorded_on": date(2026, 1, 11)},  # recorded on D: vulnerable
        ],
        repairs=[
            job("HH_VULN", household_id="H1", property_id="P1", **overdue),  # counted
            job("VIA_PROPERTY", household_id=None, property_id="P2", **overdue),  # H2's tenancy covers 1 Dec
            job("NOT_YET", household_id="H3", property_id="P3", **overdue),  # vulnerability after D
            job("OLD_TENANCY", household_id=None, property_id="P4", **overdue),  # H4's tenancy ended 30 Jun
            job("TENANCY_LATER", household_id=None, property_id="P5", **overdue),  # H5 moved in after 1 Dec
            job("NOT_OVERDUE", household_id="H1", property_id="P1", reported_at=datetime(2026, 1, 5),
                target_at=datetime(2026, 2, 1)),  # vulnerable but not overdue
            done("CLOSED", datetime(2026, 1, 2), household_id="H1", property_id="P1", **overdue),  # not open
        ]))
    # HH_VULN and VIA_PROPERTY -> 2.
    f = figures(x, ["vu.open_overdue_jobs_vulnerable", "rp.open_overdue_jobs"])
    assert f["vu.open_overdue_jobs_vulnerable"] == (2.0, None, None)
    assert f["rp.open_overdue_jobs"] == (5.0, None, None)
    rows = check_drill_down(x, "vu.open_overdue_jobs_vulnerable")
    assert set(rows["id"]) == {"HH_VULN", "VIA_PROPERTY"}


# ---------------------------------------------------------------------------------------------
# Reported jobs: repeat repairs and offline records


@pytest.fixture
def reported_extract(tmp_path):
    reported = datetime(2026, 1, 7, 9)  # Wed 7 Jan 09:00; 30 days before = Mon 8 Dec 2025 09:00
    earlier = datetime(2025, 11, 1)
    return open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": f"P{i}"} for i in range(1, 8)],
        repairs=[
            # Earlier jobs (reported before the week).
            done("E1", datetime(2025, 12, 8, 9), reported_at=earlier, property_id="P1"),  # exactly 30 days
            done("E2", datetime(2025, 12, 8, 8, 59, 59), reported_at=earlier, property_id="P2"),  # 30 d + 1 s
            done("E3", datetime(2026, 1, 1), reported_at=earlier, property_id="P3", category="heating"),
            done("E4", datetime(2026, 1, 1), reported_at=earlier, property_id="P4", priority="planned"),
            done("E5", reported, reported_at=earlier, property_id="P5"),  # completed at the same instant
            job("E6", reported_at=earlier, property_id="P6", cancelled_at=datetime(2026, 1, 2)),  # never completed
            # Reported in the week (all plumbing unless said).
            job("J1", reported_at=reported, property_id="P1"),
            job("J2", reported_at=reported, property_id="P2", source_system="spreadsheet"),
            job("J3", reported_at=reported, property_id="P3"),
            job("J4", reported_at=reported, property_id="P4"),
            job("J5", reported_at=reported, property_id="P5", source_system="mobile"),
            job("J6", reported_at=reported, property_id="P6"),
            job("PL", reported_at=reported, property_id="P1", priority="planned", source_system="spreadsheet"),
            job("J7", reported_at=WEEK_START, property_id="P7", priority="emergency"),  # first instant of week
            job("AT_E", reported_at=E, property_id="P1", source_system="spreadsheet"),  # next week
        ]))


def test_repeat_repairs(reported_extract):
    # Responsive jobs reported in the week: J1..J7 = 7 (PL planned, AT_E next week).
    # Repeat: J1 (E1 completed exactly 30 days before). Not: J2 (30 days + 1 s), J3 (other category),
    # J4 (earlier job planned), J5 (completed at the same instant, not before), J6 (earlier job never
    # completed), J7 (no earlier job). -> 1 / 7.
    assert meets_by_id(reported_extract, "rp.repeat_repairs_pct") == {
        "J1": True, "J2": False, "J3": False, "J4": False, "J5": False, "J6": False, "J7": False}
    value, num, den = figures(reported_extract, ["rp.repeat_repairs_pct"])["rp.repeat_repairs_pct"]
    assert (num, den) == (1, 7) and value == pytest.approx(100 / 7)


def test_offline_record(reported_extract):
    # Jobs of any priority reported in the week: J1..J7 and PL = 8; spreadsheet: J2, PL -> 2 / 8 = 25%.
    assert figures(reported_extract, ["rp.offline_record_pct"])["rp.offline_record_pct"] == (25.0, 2, 8)
    rows = check_drill_down(reported_extract, "rp.offline_record_pct")
    assert rows.filter(rows["meets"])["id"].sort().to_list() == ["J2", "PL"]


def test_a_tie_names_the_same_earlier_job_and_follow_up_every_time(tmp_path):
    """Records often share a timestamp (a system that keeps dates only, a batch closed at once). When two
    earlier jobs were completed at the same instant, the drill-down names the greater job id; when a
    chase and a new job came at the same instant, the first follow-up is the first of the two by its
    words. Named by a rule, not by whichever row the database met first."""
    reported, completed = datetime(2026, 1, 7, 9), datetime(2026, 1, 3, 9)
    x = open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "P1"}, {"property_id": "P2"}],
        repairs=[
            done("EB", datetime(2026, 1, 2), reported_at=datetime(2025, 12, 1), property_id="P1"),
            done("EA", datetime(2026, 1, 2), reported_at=datetime(2025, 12, 1), property_id="P1"),
            done("EC", datetime(2026, 1, 2), reported_at=datetime(2025, 12, 1), property_id="P1"),
            job("J1", reported_at=reported, property_id="P1"),
            done("S1", completed, reported_at=datetime(2026, 1, 2), property_id="P2"),
            job("N1", reported_at=datetime(2026, 1, 5, 8), property_id="P2"),
        ],
        contacts=[{"job_id": "S1", "contacted_at": datetime(2026, 1, 5, 8), "reason": "repair_chase"}]))
    repeats = cases(x, AS_OF, "rp.repeat_repairs_pct").filter(pl.col("id") == "J1")
    assert repeats.select("earlier_job_id", "is_repeat").rows() == [("EC", True)]
    suspected = cases(x, AS_OF, "rp.suspected_not_fixed").filter(pl.col("id") == "S1")
    assert suspected.select("chases_after_completion", "new_jobs_after_completion", "first_follow_up").rows() == [
        (1, 1, "new job N1")]


# ---------------------------------------------------------------------------------------------
# Suspected not fixed


def test_suspected_not_fixed(tmp_path):
    def chase(job_id, at, reason="repair_chase"):
        return {"job_id": job_id, "contacted_at": at, "reason": reason}

    x = open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": f"P{i}"} for i in range(1, 12)],
        repairs=[
            # Completed exactly at E - 30 days (Sat 13 Dec 00:00), chased exactly 14 days later: counted.
            done("S1", datetime(2025, 12, 13), reported_at=datetime(2025, 12, 1), property_id="P1"),
            # Completed 1 s before the 30 days: out.
            done("S2", datetime(2025, 12, 12, 23, 59, 59), reported_at=datetime(2025, 12, 1), property_id="P2"),
            # Chased 14 days + 1 s after completion: out.
            done("S3", datetime(2026, 1, 2, 9), reported_at=datetime(2025, 12, 20), property_id="P3"),
            # Chased at the completion instant (not after): out.
            done("S4", datetime(2026, 1, 2, 9), reported_at=datetime(2025, 12, 20), property_id="P4"),
            # Chased at E (within 14 days, but not before E): out.
            done("S5", datetime(2026, 1, 8, 9), reported_at=datetime(2026, 1, 6), property_id="P5"),
            # New responsive heating job at the same home 7 days later: counted.
            done("S6", datetime(2026, 1, 3, 9), reported_at=datetime(2026, 1, 2), property_id="P6",
                 category="heating"),
            job("N6", reported_at=datetime(2026, 1, 10, 9), property_id="P6", category="heating",
                priority="emergency", team_id="T9"),  # another team: follow-ups search the whole extract
            # New job at the same home but planned, or another category: out.
            done("S7", datetime(2026, 1, 3, 9), reported_at=datetime(2026, 1, 2), property_id="P7",
                 category="heating"),
            job("N7A", reported_at=datetime(2026, 1, 5), property_id="P7", category="heating", priority="planned"),
            job("N7B", reported_at=datetime(2026, 1, 5), property_id="P7", category="electrical"),
            # Only an enquiry contact on the job: out.
            done("S8", datetime(2026, 1, 3, 9), reported_at=datetime(2026, 1, 2), property_id="P8"),
            # Planned job chased: not responsive, out.
            done("S9", datetime(2026, 1, 3, 9), reported_at=datetime(2026, 1, 2), property_id="P9",
                 priority="planned"),
            # New same-category job exactly 14 days after completion: counted.
            done("S10", datetime(2025, 12, 20, 10), reported_at=datetime(2025, 12, 19), property_id="P10"),
            job("N10", reported_at=datetime(2026, 1, 3, 10), property_id="P10",
                completed_at=datetime(2026, 1, 4), status="completed"),
            # The follow-on N10 itself completed 4 Jan, with nothing after it: out.
            # New same-category job reported at E: out.
            done("S11", datetime(2026, 1, 9), reported_at=datetime(2026, 1, 8), property_id="P11"),
            job("N11", reported_at=E, property_id="P11"),
        ],
        contacts=[
            chase("S1", datetime(2025, 12, 27)),
            chase("S2", datetime(2025, 12, 13, 12)),
            chase("S3", datetime(2026, 1, 16, 9, 0, 1)),
            chase("S4", datetime(2026, 1, 2, 9)),
            chase("S5", E),
            chase("S8", datetime(2026, 1, 4), reason="enquiry"),
            chase("S7", datetime(2025, 12, 1)),  # before completion: out
            chase("S9", datetime(2026, 1, 4)),
        ]))
    # S1, S6, S10 -> 3.
    assert figures(x, ["rp.suspected_not_fixed"])["rp.suspected_not_fixed"] == (3.0, None, None)
    rows = check_drill_down(x, "rp.suspected_not_fixed")
    assert rows["id"].to_list() == ["S1", "S10", "S6"]  # oldest completion first
    assert rows["first_follow_up"].to_list() == ["repair_chase contact CO1", "new job N10", "new job N6"]
    # A team scope counts the completed jobs of that team only (N6's team T9 does not matter).
    assert figures(x, ["rp.suspected_not_fixed"], scope=Scope(teams=("T9",)))["rp.suspected_not_fixed"][0] == 0.0


# ---------------------------------------------------------------------------------------------
# Appointments: no access, landlord missed


def test_appointments(tmp_path):
    def appt(aid, outcome, slot_start=datetime(2026, 1, 7, 9), job_id="J1"):
        return {"appointment_id": aid, "job_id": job_id, "slot_start": slot_start, "outcome": outcome}

    x = open_extract(write_extract(
        tmp_path,
        repairs=[job("J1"), job("PL", priority="planned")],
        appointments=[
            appt("A1", "attended"),
            appt("A2", "no_access"),
            appt("A3", "cancelled_by_landlord"),
            appt("A4", "missed_by_operative"),
            appt("A5", "cancelled_by_resident"),
            appt("A6", "pending"),  # outcome not known: out
            appt("A7", "no_access", E),  # at E: next week
            appt("A8", "no_access", WEEK_START),  # first instant of the week
            appt("A9", "no_access", job_id="PL"),  # planned jobs count (any priority)
            appt("A10", "missed_by_operative", datetime(2026, 1, 4, 23, 59, 59)),  # last week
            # No outcome (a warning: "rows are used", extract-contract.md): not pending, so counted, as
            # neither no access nor landlord missed (it was left out until a reading of the spec found it).
            appt("A11", None),
        ]))
    # In the week, not pending: A1, A2, A3, A4, A5, A8, A9, A11 = 8.
    # No access: A2, A8, A9 = 3 / 8. Landlord missed: A3, A4 = 2 / 8.
    f = figures(x, ["rp.no_access_pct", "rp.landlord_missed_pct"])
    assert f["rp.no_access_pct"][1:] == (3, 8)
    assert f["rp.no_access_pct"][0] == pytest.approx(300 / 8)
    assert f["rp.landlord_missed_pct"][1:] == (2, 8)
    no_access = meets_by_id(x, "rp.no_access_pct")
    assert {k for k, v in no_access.items() if v} == {"A2", "A8", "A9"} and no_access["A11"] is False
    assert {k for k, v in meets_by_id(x, "rp.landlord_missed_pct").items() if v} == {"A3", "A4"}
    # Several weeks asked at once (a trend, a prepared store) each count their own: the week before holds A10.
    both = compute(x, [AS_OF - timedelta(days=7), AS_OF], WHOLE_LANDLORD, ["rp.landlord_missed_pct"])
    assert both.sort("as_of").select("numerator", "denominator").rows() == [(1, 1), (2, 8)]


# ---------------------------------------------------------------------------------------------
# Satisfaction, and its contractor split


def test_satisfaction(tmp_path):
    def survey(sid, job_id, satisfied, responded_at=datetime(2026, 1, 8), **kw):
        return {"survey_id": sid, "job_id": job_id, "satisfied": satisfied, "responded_at": responded_at, **kw}

    x = open_extract(write_extract(
        tmp_path,
        contractors=CONTRACTORS,
        repairs=[job("J1"), job("J2", contractor_id="C2"), job("PL", priority="planned"),
                 job("J3", contractor_id="C2")],
        surveys=[
            survey("S1", "J1", True),
            survey("S2", "J2", False),
            survey("S3", None, True, complaint_id="CX1"),  # not about a job: out
            survey("S4", "PL", True),  # planned job: counted (any priority)
            survey("S5", "J1", False, E),  # at E: next week
            survey("S6", "J3", True, WEEK_START),
        ]))
    # Job surveys in the week: S1 (yes), S2 (no), S4 (yes), S6 (yes) -> 3 / 4.
    # In-house (C1): S1, S4 -> 2 / 2. External (C2): S2, S6 -> 1 / 2.
    f = figures(x, ["rp.satisfaction_pct", "ct.in_house_satisfaction_pct", "ct.external_satisfaction_pct"])
    assert f["rp.satisfaction_pct"] == (75.0, 3, 4)
    assert f["ct.in_house_satisfaction_pct"] == (100.0, 2, 2)
    assert f["ct.external_satisfaction_pct"] == (50.0, 1, 2)
    for kpi_id in f:
        check_drill_down(x, kpi_id)
    assert meets_by_id(x, "rp.satisfaction_pct") == {"S6": True, "S1": True, "S2": False, "S4": True}
    # Several weeks asked at once each count their own: the next week holds S5 alone.
    both = compute(x, [AS_OF, AS_OF + timedelta(days=7)], WHOLE_LANDLORD, ["rp.satisfaction_pct"])
    assert both.sort("as_of").select("numerator", "denominator").rows() == [(3, 4), (0, 1)]


# ---------------------------------------------------------------------------------------------
# Nothing to count, and scope


def test_nothing_to_count_gives_null_ratios_and_zero_counts(tmp_path):
    x = open_extract(write_extract(tmp_path))
    f = figures(x, OUR_IDS)
    assert set(f) == set(OUR_IDS)
    for kpi_id, (value, numerator, denominator) in f.items():
        kind = kpi(kpi_id).kind
        if kind == "pct":
            assert (value, numerator, denominator) == (None, 0, 0), kpi_id
        elif kind == "count":
            assert (value, numerator, denominator) == (0.0, None, None), kpi_id
        else:
            assert (value, numerator, denominator) == (None, None, None), kpi_id
        assert cases(x, AS_OF, kpi_id).height == 0


@pytest.fixture
def scoped_extract(tmp_path):
    return open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "N1", "region": "North"}, {"property_id": "S1", "region": "South"}],
        teams=[{"team_id": "T1", "region": "North"}, {"team_id": "T2", "region": "South"}],
        contractors=CONTRACTORS,
        repairs=[
            done("NORTH_T1", datetime(2026, 1, 7), property_id="N1", team_id="T1", target_at=datetime(2026, 1, 8),
                 reported_at=datetime(2025, 12, 20)),
            done("SOUTH_T2", datetime(2026, 1, 7), property_id="S1", team_id="T2", target_at=datetime(2026, 1, 6),
                 contractor_id="C2", reported_at=datetime(2025, 12, 20)),
            done("SOUTH_T1", datetime(2026, 1, 7), property_id="S1", team_id="T1", target_at=datetime(2026, 1, 6),
                 category="heating", reported_at=datetime(2025, 12, 20)),
            # Reported in the week by T1 at S1: a repeat of SOUTH_T2's plumbing job (owned by T2, another team).
            job("REPEAT_T1", reported_at=datetime(2026, 1, 9), property_id="S1", team_id="T1"),
        ],
        appointments=[
            {"appointment_id": "A1", "job_id": "SOUTH_T2", "slot_start": datetime(2026, 1, 6),
             "outcome": "no_access"},
            {"appointment_id": "A2", "job_id": "NORTH_T1", "slot_start": datetime(2026, 1, 6),
             "outcome": "attended"},
            {"appointment_id": "A3", "job_id": "MISSING", "slot_start": datetime(2026, 1, 6),
             "outcome": "no_access"},  # its job is not in the extract: whole landlord only
        ],
        surveys=[{"survey_id": "V1", "job_id": "SOUTH_T1", "satisfied": False, "responded_at": datetime(2026, 1, 8)}],
    ))


@pytest.mark.parametrize(("scope", "on_time", "no_access", "satisfaction", "repeat"), [
    # Whole landlord: on time NORTH_T1 only of 3; no access A1, A3 of 3; V1 not satisfied of 1;
    # REPEAT_T1 repeats SOUTH_T2 (plumbing, completed 7 Jan) of 1 responsive job reported.
    (Scope(), (1, 3), (2, 3), (0, 1), (1, 1)),
    # North: NORTH_T1 (on time), A2 (attended), no surveys, no jobs reported.
    (Scope(region="North"), (1, 1), (0, 1), (0, 0), (0, 0)),
    # South: SOUTH_T2, SOUTH_T1 (both late), A1 (no access), V1, REPEAT_T1 (repeat).
    (Scope(region="South"), (0, 2), (1, 1), (0, 1), (1, 1)),
    # Team T1: NORTH_T1, SOUTH_T1; A2; V1 (SOUTH_T1 is T1's); REPEAT_T1 still a repeat though the earlier
    # job is T2's (look-backs search the whole extract).
    (Scope(teams=("T1",)), (1, 2), (0, 1), (0, 1), (1, 1)),
    # South and T1: SOUTH_T1 only; no appointments; V1; REPEAT_T1.
    (Scope(region="South", teams=("T1",)), (0, 1), (0, 0), (0, 1), (1, 1)),
    # A region with no rows: every ratio null.
    (Scope(region="East"), (0, 0), (0, 0), (0, 0), (0, 0)),
])
def test_region_and_team_scope(scoped_extract, scope, on_time, no_access, satisfaction, repeat):
    ids = ["rp.non_emergency_on_time_pct", "rp.no_access_pct", "rp.satisfaction_pct", "rp.repeat_repairs_pct"]
    f = figures(scoped_extract, ids, scope=scope)
    for kpi_id, expected in zip(ids, [on_time, no_access, satisfaction, repeat], strict=True):
        value, num, den = f[kpi_id]
        assert (num, den) == expected, kpi_id
        assert (value is None) == (den == 0), kpi_id
        check_drill_down(scoped_extract, kpi_id, scope)


def test_contractor_split_within_region(scoped_extract):
    # External (C2) on time in North: none of its jobs are there -> null; in South: SOUTH_T2 late -> 0 / 1.
    north = figures(scoped_extract, ["ct.external_on_time_pct"], scope=Scope(region="North"))
    south = figures(scoped_extract, ["ct.external_on_time_pct"], scope=Scope(region="South"))
    assert north["ct.external_on_time_pct"] == (None, 0, 0)
    assert south["ct.external_on_time_pct"] == (0.0, 0, 1)


def test_every_as_of_date_at_once(scoped_extract):
    # The week before (ending 4 Jan) has nothing; this week as above. Trends run every week in one query.
    out = compute(scoped_extract, [date(2026, 1, 4), AS_OF], Scope(), ["rp.non_emergency_on_time_pct"])
    got = {r["as_of"]: (r["numerator"], r["denominator"]) for r in out.iter_rows(named=True)}
    assert got == {date(2026, 1, 4): (0, 0), AS_OF: (1, 3)}


# ---------------------------------------------------------------------------------------------
# Contractor scorecard (13 weeks ending D: 13 Oct 2025 00:00 <= t < 12 Jan 2026 00:00)


@pytest.fixture
def scorecard_extract(tmp_path):
    def appt(aid, job_id, slot_start, outcome="attended"):
        return {"appointment_id": aid, "job_id": job_id, "slot_start": slot_start, "outcome": outcome}

    def survey(sid, job_id, responded_at, satisfied):
        return {"survey_id": sid, "job_id": job_id, "responded_at": responded_at, "satisfied": satisfied}

    target = datetime(2025, 12, 1)
    return open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "N1", "region": "North"}, {"property_id": "S1", "region": "South"}],
        teams=[{"team_id": "T1", "region": "North"}, {"team_id": "T2", "region": "South"}],
        contractors=[*CONTRACTORS, {"contractor_id": "C3", "contractor_name": "Idle Ltd", "is_in_house": False}],
        repairs=[
            # C1 (in-house), North.
            done("K1", datetime(2025, 10, 13), reported_at=datetime(2025, 10, 1), target_at=target, cost_gbp=100.0,
                 property_id="N1"),  # first instant of the 13 weeks; on time; one attended -> fixed first time
            done("K2", datetime(2025, 10, 12, 23, 59, 59), reported_at=datetime(2025, 10, 1), target_at=target,
                 cost_gbp=1000.0, property_id="N1"),  # 1 s before the 13 weeks: out
            done("K3", datetime(2026, 1, 11, 23), reported_at=datetime(2025, 12, 20), target_at=target,
                 property_id="N1"),  # late, no cost; follow-on F3 before E -> not fixed first time
            done("K4", datetime(2025, 11, 20), reported_at=datetime(2025, 11, 1), target_at=target, cost_gbp=200.0,
                 property_id="N1"),  # on time; follow-on F4 only at E; one attended -> fixed first time
            done("K5", datetime(2025, 12, 1), reported_at=datetime(2025, 11, 1), target_at=target,
                 property_id="N1", priority="planned", cost_gbp=5000.0),  # planned: not a completed job
            job("F3", parent_job_id="K3", reported_at=datetime(2026, 1, 5), property_id="N1", priority="planned"),
            job("F4", parent_job_id="K4", reported_at=E, property_id="N1"),
            # C1, South.
            done("K6", datetime(2025, 12, 15), reported_at=datetime(2025, 12, 1), target_at=target, cost_gbp=300.0,
                 property_id="S1", team_id="T2"),  # late, no appointment
            # C2 (external), South.
            done("M1", datetime(2025, 11, 15), reported_at=datetime(2025, 11, 1), target_at=target,
                 property_id="S1", team_id="T2", contractor_id="C2"),  # on time, no appointment, no cost
        ],
        appointments=[
            appt("A1", "K1", datetime(2025, 10, 12, 9)),  # before the 13 weeks: FTF yes, no-access % no
            appt("A3", "K3", datetime(2026, 1, 10)),
            appt("A3P", "K3", datetime(2026, 1, 11), "pending"),  # pending: out
            appt("A3E", "K3", E, "no_access"),  # at E: out
            appt("A4", "K4", datetime(2025, 12, 1)),
            appt("A4N", "K4", datetime(2025, 11, 30), "no_access"),
            appt("A5", "K5", datetime(2025, 12, 1), "cancelled_by_landlord"),  # planned job's appointment counts
            appt("AM", "M1", datetime(2025, 11, 10), None),  # no outcome (a warning): not pending, so counted
        ],
        surveys=[
            survey("V1", "K1", datetime(2025, 10, 20), True),
            survey("V3", "K3", datetime(2026, 1, 11), False),
            survey("V5", "K5", datetime(2025, 12, 1), True),
            survey("V2", "K2", datetime(2025, 10, 12), True),  # before the 13 weeks: out
        ]))


def test_contractor_scorecard_whole_landlord(scorecard_extract):
    card = contractor_scorecard(scorecard_extract, AS_OF)
    by = {r["contractor_id"]: r for r in card.iter_rows(named=True)}
    # C3 did nothing: not listed. Worst on time first: C1 (50%) before C2 (100%).
    assert card["contractor_id"].to_list() == ["C1", "C2"]
    c1 = by["C1"]
    # C1 jobs completed: K1, K3, K4, K6 = 4 (K2 before the window, K5 planned).
    # On time: K1, K4 = 2/4. First-time fix: K1, K4 = 2/4 (K3 has follow-on F3, K6 no appointment).
    # Follow-on: K3 = 1/4 (F4 reported at E). Appointments in window, not pending: A3, A4, A4N, A5 = 4
    # (A1 before, A3P pending, A3E at E): no access A4N 1/4, landlord-missed A5 1/4. Surveys: V1 yes, V3 no,
    # V5 yes = 2/3. Average cost over K1, K4, K6 (K3 none): (100 + 200 + 300) / 3 = 200.
    assert (c1["contractor_name"], c1["is_in_house"], c1["jobs_completed"]) == ("In-house", True, 4)
    assert c1["on_time_pct"] == 50.0
    assert c1["first_time_fix_pct"] == 50.0
    assert c1["follow_on_jobs_pct"] == 25.0
    assert (c1["no_access_appointments"], c1["appointments"], c1["no_access_pct"]) == (1, 4, 25.0)
    assert c1["landlord_missed_pct"] == 25.0
    assert (c1["satisfied_surveys"], c1["surveys"]) == (2, 3)
    assert c1["satisfaction_pct"] == pytest.approx(200 / 3)
    assert c1["avg_cost_gbp"] == 200.0
    c2 = by["C2"]
    # C2: M1 on time, no attended appointment (not fixed first time), no follow-on; one appointment with no
    # outcome, counted as neither no access nor landlord missed (0 of 1); no surveys (null, not 0), no cost
    # (null).
    assert (c2["jobs_completed"], c2["on_time_pct"], c2["first_time_fix_pct"], c2["follow_on_jobs_pct"]) == (
        1, 100.0, 0.0, 0.0)
    assert (c2["appointments"], c2["no_access_pct"], c2["landlord_missed_pct"]) == (1, 0.0, 0.0)
    assert (c2["surveys"], c2["satisfaction_pct"], c2["avg_cost_gbp"]) == (0, None, None)
    assert (card["period_start"][0], card["period_end"][0]) == (date(2025, 10, 13), AS_OF)


def test_contractor_scorecard_in_region(scorecard_extract):
    # North: only C1's North jobs K1, K3, K4: on time 2/3, FTF 2/3, follow-on 1/3; the same appointments and
    # surveys (all at N1); average cost (100 + 200) / 2 = 150. C2 has nothing in the North: not listed.
    card = contractor_scorecard(scorecard_extract, AS_OF, Scope(region="North"))
    assert card["contractor_id"].to_list() == ["C1"]
    c1 = card.row(0, named=True)
    assert c1["jobs_completed"] == 3
    assert c1["on_time_pct"] == pytest.approx(200 / 3)
    assert c1["first_time_fix_pct"] == pytest.approx(200 / 3)
    assert c1["follow_on_jobs_pct"] == pytest.approx(100 / 3)
    assert c1["avg_cost_gbp"] == 150.0
    assert c1["no_access_pct"] == 25.0
    # South, team T2: C1's K6 (late, cost 300) and C2's M1; no appointments or surveys there.
    south = {r["contractor_id"]: r for r in contractor_scorecard(
        scorecard_extract, AS_OF, Scope(region="South", teams=("T2",))).iter_rows(named=True)}
    assert (south["C1"]["jobs_completed"], south["C1"]["on_time_pct"], south["C1"]["avg_cost_gbp"]) == (
        1, 0.0, 300.0)
    assert south["C1"]["no_access_pct"] is None
    # A region with nothing: an empty scorecard.
    assert contractor_scorecard(scorecard_extract, AS_OF, Scope(region="East")).height == 0


def test_scorecard_agrees_with_weekly_contractor_kpis(ftf_extract):
    # All of ftf_extract's completions are in the week, so the 13-week first-time fix equals the weekly
    # split: in-house 3/6, external 1/2.
    card = {r["contractor_id"]: r for r in contractor_scorecard(ftf_extract, AS_OF).iter_rows(named=True)}
    assert (card["C1"]["jobs_fixed_first_time"], card["C1"]["jobs_completed"]) == (3, 6)
    assert (card["C2"]["jobs_fixed_first_time"], card["C2"]["jobs_completed"]) == (1, 2)
    # Follow-on jobs: FOLLOWED (F1 reported before E) -> 1/6 in-house.
    assert card["C1"]["jobs_with_follow_on"] == 1
