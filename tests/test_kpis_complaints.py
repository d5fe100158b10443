"""Complaints KPIs (Complaint Handling Code 2024, TSM CH01 and CH02) on hand-made extracts.

Every expected value is worked out by hand in a comment. Calendar facts used below:
- Christmas 2025: Thu 25 and Fri 26 Dec and Thu 1 Jan 2026 are bank holidays.
- Easter 2026: Good Friday 3 Apr and Easter Monday 6 Apr are bank holidays; Mon 4 May is a bank holiday.
- "N working days after X": day 0 is the date of X; the deadline is the Nth working day after it, and an
  action at any time on the deadline date (up to 23:59:59) meets it.

Most tests use as-of Sun 11 Jan 2026: week Mon 5 .. Sun 11 Jan 2026, E = Mon 12 Jan 2026 00:00,
financial year from 1 Apr 2025.
"""

from datetime import date, datetime

import pytest
from extract_factory import write_extract

from housing_assurance.db import open_extract
from housing_assurance.kpis import KPIS, cases, compute
from housing_assurance.scope import WHOLE_LANDLORD, Scope

AS_OF = date(2026, 1, 11)
E = datetime(2026, 1, 12)  # the end of AS_OF's week

CX_KPIS = [k for k in KPIS if k.startswith("cx.")] + ["vu.open_complaints_vulnerable"]


def complaint(complaint_id, received_at, **kw):
    return {"complaint_id": complaint_id, "household_id": "H1", "received_at": received_at, **kw}


def open_(tmp_path, closures=(), **tables):
    """An extract of the given tables; no landlord closure dates unless the test gives some."""
    return open_extract(write_extract(tmp_path, **tables), closures=closures)


def figure(extract, kpi_id, as_of=AS_OF, scope=WHOLE_LANDLORD):
    """(value, numerator, denominator), after checking the drill-down rows are exactly the figure's rows."""
    row = compute(extract, [as_of], scope, [kpi_id]).row(0, named=True)
    rows = cases(extract, as_of, kpi_id, scope)
    kind = KPIS[kpi_id].kind
    if kind == "pct":
        assert rows.height == row["denominator"]
        assert int(rows["meets"].sum()) == row["numerator"]
    elif kind == "per_1000_homes":
        assert rows.height == row["numerator"]
    elif kind == "count":
        assert rows.height == row["value"]
    elif kind == "sum_gbp":
        assert rows[KPIS[kpi_id].value_column].fill_null(0).sum() == pytest.approx(row["value"])
    assert rows["id"].n_unique() == rows.height
    return row["value"], row["numerator"], row["denominator"]


def meets_by_id(extract, kpi_id, as_of=AS_OF, scope=WHOLE_LANDLORD):
    rows = cases(extract, as_of, kpi_id, scope)
    return dict(zip(rows["id"], rows["meets"], strict=True))


def ids(extract, kpi_id, as_of=AS_OF, scope=WHOLE_LANDLORD):
    return list(cases(extract, as_of, kpi_id, scope)["id"])


# --- Stage 1 responses (CH02(1)), escalation -------------------------------------------------------------


@pytest.fixture
def stage1_extract(tmp_path):
    fri_19_dec = datetime(2025, 12, 19, 14)
    return open_(tmp_path, complaints=[
        # Received Fri 19 Dec 2025, acknowledged Mon 22 Dec. Response due 10 working days after 22 Dec:
        # 23 (1), 24 (2), [25, 26 bank holidays, 27-28 weekend] 29 (3), 30 (4), 31 (5), [1 Jan bank holiday]
        # 2 (6), 5 (7), 6 (8), 7 (9), 8 (10) -> Thu 8 Jan 2026.
        complaint("A", fri_19_dec, stage1_acknowledged_at=datetime(2025, 12, 22, 9),
                  stage1_responded_at=datetime(2026, 1, 8, 23, 59, 59),  # at the end of the deadline day: met
                  stage2_requested_at=datetime(2026, 1, 10, 10)),  # escalated before E
        complaint("B", fri_19_dec, stage1_acknowledged_at=datetime(2025, 12, 22, 9),
                  stage1_responded_at=datetime(2026, 1, 9, 0, 0, 0),  # next day 00:00: missed by 1 day
                  stage2_requested_at=E),  # requested at E: not yet requested, not escalated
        # No acknowledgement: the clock runs from the acknowledgement deadline, 5 working days after
        # Fri 19 Dec: 22, 23, 24, 29, 30 -> Tue 30 Dec; response due 10 working days after 30 Dec:
        # 31 (1), 2 (2), 5-9 (7), 12 (8), 13 (9), 14 (10) -> Wed 14 Jan. Responded Fri 9 Jan: met.
        complaint("C", fri_19_dec, stage1_responded_at=datetime(2026, 1, 9, 10)),
        # Received Mon 1 Dec; acknowledgement deadline 2, 3, 4, 5, 8 -> Mon 8 Dec; response due 10 working
        # days after 8 Dec: 9-12 (4), 15-19 (9), 22 (10) -> Mon 22 Dec. The acknowledgement is recorded at
        # Mon 12 Jan 09:00, after E, so it is unknown at E: the deadline is 22 Dec and the response on
        # Fri 9 Jan is late (from the recorded acknowledgement it would be 26 Jan, on time).
        complaint("D", datetime(2025, 12, 1, 10), stage1_acknowledged_at=datetime(2026, 1, 12, 9),
                  stage1_responded_at=datetime(2026, 1, 9, 10)),
        # Responded Sun 4 Jan 23:59:59: the week before (FYTD only); due Thu 8 Jan as A: met.
        complaint("F", fri_19_dec, stage1_acknowledged_at=datetime(2025, 12, 22, 9),
                  stage1_responded_at=datetime(2026, 1, 4, 23, 59, 59)),
        # Responded at E: not yet responded, counted nowhere.
        complaint("G", fri_19_dec, stage1_acknowledged_at=datetime(2025, 12, 22, 9), stage1_responded_at=E),
        # Responded Mon 31 Mar 2025: the previous financial year, counted nowhere.
        complaint("H", datetime(2025, 3, 20, 9), stage1_responded_at=datetime(2025, 3, 31, 9)),
    ])


def test_stage1_on_time_week_over_christmas(stage1_extract):
    # Responses in the week: A (met at 23:59:59), B (00:00:00 next day), C (met from the ack deadline),
    # D (ack after E unknown: late) -> 2 / 4 = 50%.
    assert figure(stage1_extract, "cx.stage1_on_time_pct") == (50.0, 2, 4)
    assert meets_by_id(stage1_extract, "cx.stage1_on_time_pct") == {"A": True, "B": False, "C": True, "D": False}
    rows = cases(stage1_extract, AS_OF, "cx.stage1_on_time_pct")
    due = dict(zip(rows["id"], rows["stage1_response_due_on"], strict=True))
    assert due == {"A": date(2026, 1, 8), "B": date(2026, 1, 8), "C": date(2026, 1, 14), "D": date(2025, 12, 22)}
    # Most overdue first: D (18 days late), then B (1 day), then the met ones.
    assert list(rows["id"]) == ["D", "B", "A", "C"]
    assert list(rows["days_late"]) == [18, 1, 0, 0]
    # D's acknowledgement is not known at E, so the drill-down does not show it.
    assert rows.filter(rows["id"] == "D")["stage1_acknowledged_at"].to_list() == [None]


def test_stage1_on_time_and_escalation_fytd(stage1_extract):
    # FYTD responses (1 Apr 2025 .. E): A, B, C, D, F (met) -> 3 / 5 = 60%. G is at E, H in the previous year.
    assert figure(stage1_extract, "cx.stage1_on_time_fytd_pct") == (60.0, 3, 5)
    # Escalated before E among those five: A only (B's request is at E) -> 1 / 5 = 20%.
    assert figure(stage1_extract, "cx.escalation_rate_fytd_pct") == (20.0, 1, 5)
    assert meets_by_id(stage1_extract, "cx.escalation_rate_fytd_pct") == {
        "A": True, "B": False, "C": False, "D": False, "F": False}
    # Stage 2 requests in the week: A (Sat 10 Jan); B's at E is not yet requested -> 1.
    assert figure(stage1_extract, "cx.stage2_received") == (1.0, None, None)
    assert ids(stage1_extract, "cx.stage2_received") == ["A"]


def test_stage1_extension_capped_and_earlier_extension_ignored(tmp_path):
    # As of Sun 25 Jan 2026: week Mon 19 .. Sun 25 Jan, E = Mon 26 Jan.
    # All received Fri 19 Dec 2025, acknowledged Mon 22 Dec: normal response deadline Thu 8 Jan (as above).
    # Cap: 10 working days after 8 Jan: 9 (1), 12-16 (6), 19-22 (10) -> Thu 22 Jan.
    as_of = date(2026, 1, 25)
    base = {"stage1_acknowledged_at": datetime(2025, 12, 22, 9)}
    extract = open_(tmp_path, complaints=[
        # Extended to 1 Mar 2026, beyond the cap: the deadline is Thu 22 Jan.
        complaint("E1", datetime(2025, 12, 19, 14), **base, stage1_extended_to=date(2026, 3, 1),
                  stage1_responded_at=datetime(2026, 1, 22, 23, 59, 59)),  # met
        complaint("E2", datetime(2025, 12, 19, 14), **base, stage1_extended_to=date(2026, 3, 1),
                  stage1_responded_at=datetime(2026, 1, 23, 0, 0, 0)),  # missed
        # Extended to Tue 20 Jan, within the cap: the deadline is 20 Jan.
        complaint("E3", datetime(2025, 12, 19, 14), **base, stage1_extended_to=date(2026, 1, 20),
                  stage1_responded_at=datetime(2026, 1, 20, 17)),  # met
        # "Extended" to Fri 2 Jan, earlier than the normal 8 Jan: ignored, the deadline stays 8 Jan.
        # Responded Wed 7 Jan (a past week, FYTD only): met.
        complaint("E4", datetime(2025, 12, 19, 14), **base, stage1_extended_to=date(2026, 1, 2),
                  stage1_responded_at=datetime(2026, 1, 7, 10)),
    ])
    # Week: E1 met, E2 missed, E3 met -> 2 / 3.
    assert figure(extract, "cx.stage1_on_time_pct", as_of) == (pytest.approx(200 / 3), 2, 3)
    rows = cases(extract, as_of, "cx.stage1_on_time_fytd_pct")
    due = dict(zip(rows["id"], rows["stage1_response_due_on"], strict=True))
    assert due == {"E1": date(2026, 1, 22), "E2": date(2026, 1, 22), "E3": date(2026, 1, 20), "E4": date(2026, 1, 8)}
    # FYTD: E1, E3, E4 met, E2 missed -> 3 / 4 = 75%.
    assert figure(extract, "cx.stage1_on_time_fytd_pct", as_of) == (75.0, 3, 4)


def test_landlord_closures_extend_complaint_clocks(tmp_path):
    # The landlord is closed Mon 29 .. Wed 31 Dec 2025.
    closures = (date(2025, 12, 29), date(2025, 12, 30), date(2025, 12, 31))
    rows = [
        # Received Fri 19 Dec. With the closures the acknowledgement deadline is 22 (1), 23 (2), 24 (3),
        # [25-26 bank holidays, 27-28 weekend, 29-31 closed, 1 Jan bank holiday] 2 Jan (4), Mon 5 Jan (5);
        # without them Tue 30 Dec. Acknowledged Fri 2 Jan 10:00.
        complaint("K", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2026, 1, 2, 10)),
        # Acknowledged Mon 22 Dec. With the closures the response deadline is 23 (1), 24 (2), 2 Jan (3),
        # 5-9 (8), 12 (9), Tue 13 Jan (10); without them Thu 8 Jan. Responded Mon 12 Jan 10:00.
        complaint("R", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2025, 12, 22, 9),
                  stage1_responded_at=datetime(2026, 1, 12, 10)),
    ]
    closed = open_(tmp_path / "closed", closures=closures, complaints=rows)
    normal = open_(tmp_path / "normal", complaints=rows)
    # As of Sun 11 Jan (week 5 .. 11 Jan): with the closures K's and R's acknowledgements are due 5 Jan,
    # both acknowledged before it -> 2 / 2; without them both were due 30 Dec (the week before), so
    # nothing is due: null, not 0.
    assert figure(closed, "cx.acknowledged_on_time_pct") == (100.0, 2, 2)
    assert figure(normal, "cx.acknowledged_on_time_pct") == (None, 0, 0)
    # As of Sun 18 Jan (week 12 .. 18 Jan): R's response on Mon 12 Jan is on time with the closures
    # (due 13 Jan), late without them (due 8 Jan).
    as_of = date(2026, 1, 18)
    assert figure(closed, "cx.stage1_on_time_pct", as_of) == (100.0, 1, 1)
    assert figure(normal, "cx.stage1_on_time_pct", as_of) == (0.0, 0, 1)
    # At E of 11 Jan, R (no response yet) is open: due 8 Jan without closures (overdue), 13 Jan with them.
    assert figure(normal, "cx.open_overdue") == (1.0, None, None)
    assert figure(closed, "cx.open_overdue") == (0.0, None, None)


# --- Stage 2 responses (CH02(2)) over Easter -----------------------------------------------------------


def test_stage2_on_time_over_easter_with_capped_extension(tmp_path):
    # As of Sun 3 May 2026: week Mon 27 Apr .. Sun 3 May, E = Mon 4 May 00:00, financial year from 1 Apr 2026.
    as_of = date(2026, 5, 3)
    mon_30_mar = datetime(2026, 3, 30, 10)
    s1 = {"stage1_responded_at": datetime(2026, 3, 27, 10)}
    extract = open_(tmp_path, complaints=[
        # Stage 2 acknowledged Wed 1 Apr 2026: response due 20 working days after 1 Apr:
        # 2 (1), [3 Good Friday, 4-5 weekend, 6 Easter Monday] 7-10 (5), 13-17 (10), 20-24 (15),
        # 27-30 (19), Fri 1 May (20) -> Fri 1 May.
        complaint("S1", datetime(2026, 3, 16, 9), **s1, stage2_requested_at=mon_30_mar,
                  stage2_acknowledged_at=datetime(2026, 4, 1, 10),
                  stage2_responded_at=datetime(2026, 5, 1, 23, 59, 59)),  # at the deadline: met
        complaint("S2", datetime(2026, 3, 16, 9), **s1, stage2_requested_at=mon_30_mar,
                  stage2_acknowledged_at=datetime(2026, 4, 1, 10),
                  stage2_responded_at=datetime(2026, 5, 2, 0, 0, 0)),  # next day 00:00: missed
        # Not acknowledged: acknowledgement deadline 5 working days after Mon 30 Mar: 31 (1), 1 (2), 2 (3),
        # [3-6 Easter] 7 (4), Wed 8 Apr (5); response due 20 working days after 8 Apr: 9-10 (2), 13-17 (7),
        # 20-24 (12), 27 Apr-1 May (17), [4 May bank holiday] 5, 6, Thu 7 May (20). Responded 30 Apr: met.
        complaint("S3", datetime(2026, 3, 16, 9), **s1, stage2_requested_at=mon_30_mar,
                  stage2_responded_at=datetime(2026, 4, 30, 10)),
        # Stage 2 acknowledged Wed 4 Mar: normal deadline 20 working days later: 5-6 (2), 9-13 (7),
        # 16-20 (12), 23-27 (17), 30, 31 Mar, Wed 1 Apr (20). Extended to 30 Jun, beyond the cap of 20
        # working days after 1 Apr (Fri 1 May, as for S1): the deadline is Fri 1 May.
        complaint("S4", datetime(2026, 2, 2, 9), stage1_responded_at=datetime(2026, 2, 27, 9),
                  stage2_requested_at=datetime(2026, 3, 2, 10), stage2_acknowledged_at=datetime(2026, 3, 4, 10),
                  stage2_extended_to=date(2026, 6, 30), stage2_responded_at=datetime(2026, 5, 1, 12)),  # met
        complaint("S5", datetime(2026, 2, 2, 9), stage1_responded_at=datetime(2026, 2, 27, 9),
                  stage2_requested_at=datetime(2026, 3, 2, 10), stage2_acknowledged_at=datetime(2026, 3, 4, 10),
                  stage2_extended_to=date(2026, 6, 30), stage2_responded_at=datetime(2026, 5, 2, 9)),  # missed
        # A stage 2 response in the week whose request is recorded at E (impossible order): the response
        # is counted, but at E stage 2 has not been requested, so there is no deadline it could meet.
        complaint("S6", datetime(2026, 3, 16, 9), **s1, stage2_requested_at=datetime(2026, 5, 4),
                  stage2_responded_at=datetime(2026, 5, 1, 10)),
        # Responded Tue 31 Mar 2026 (previous financial year; due 1 Apr): counted nowhere.
        complaint("S7", datetime(2026, 2, 2, 9), stage1_responded_at=datetime(2026, 2, 27, 9),
                  stage2_requested_at=datetime(2026, 3, 2, 10), stage2_acknowledged_at=datetime(2026, 3, 4, 10),
                  stage2_responded_at=datetime(2026, 3, 31, 10)),
        # Responded Wed 15 Apr (FYTD, not the week); due Fri 1 May as S1: met.
        complaint("S8", datetime(2026, 3, 16, 9), **s1, stage2_requested_at=mon_30_mar,
                  stage2_acknowledged_at=datetime(2026, 4, 1, 10), stage2_responded_at=datetime(2026, 4, 15, 10)),
    ])
    # Week: S1 met, S2 missed, S3 met, S4 met, S5 missed, S6 missed -> 3 / 6 = 50%.
    assert figure(extract, "cx.stage2_on_time_pct", as_of) == (50.0, 3, 6)
    rows = cases(extract, as_of, "cx.stage2_on_time_pct")
    due = dict(zip(rows["id"], rows["stage2_response_due_on"], strict=True))
    assert due == {"S1": date(2026, 5, 1), "S2": date(2026, 5, 1), "S3": date(2026, 5, 7), "S4": date(2026, 5, 1),
                   "S5": date(2026, 5, 1), "S6": None}
    # FYTD (1 Apr 2026 .. E): the six above plus S8 (met) -> 4 / 7; S7 is in the previous year.
    assert figure(extract, "cx.stage2_on_time_fytd_pct", as_of) == (pytest.approx(400 / 7), 4, 7)
    # Nothing answered at stage 2 in the week before Christmas 2025: null, not 0.
    assert figure(extract, "cx.stage2_on_time_pct", date(2025, 12, 21)) == (None, 0, 0)


# --- Acknowledgements ------------------------------------------------------------------------------------


def test_acknowledgements_due_in_the_week(tmp_path):
    # As of Sun 18 Jan 2026: week Mon 12 .. Sun 18 Jan, E = Mon 19 Jan 00:00.
    as_of = date(2026, 1, 18)
    extract = open_(tmp_path, complaints=[
        # Day 0 Sat 10 Jan: 12, 13, 14, 15, 16 -> Fri 16 Jan.
        complaint("K1", datetime(2026, 1, 10, 11), stage1_acknowledged_at=datetime(2026, 1, 16, 23, 59, 59)),  # met
        complaint("K2", datetime(2026, 1, 10, 11), stage1_acknowledged_at=datetime(2026, 1, 17, 0, 0, 0)),  # missed
        # Day 0 Sun 11 Jan -> Fri 16 Jan; never acknowledged: missed (even though responded in time).
        complaint("K3", datetime(2026, 1, 11, 11), stage1_responded_at=datetime(2026, 1, 15, 11)),
        # Day 0 Mon 12 Jan: 13, 14, 15, 16, 19 -> Mon 19 Jan: due next week, not counted.
        complaint("K4", datetime(2026, 1, 12, 9)),
        # Day 0 Fri 9 Jan -> Fri 16 Jan; acknowledged at E (19 Jan 00:00): not known at E, missed.
        complaint("K5", datetime(2026, 1, 9, 17), stage1_acknowledged_at=datetime(2026, 1, 19)),
        # Stage 1 received Mon 1 Dec (due 8 Dec, another week); stage 2 requested Mon 5 Jan 10:00:
        # 6, 7, 8, 9, 12 -> Mon 12 Jan, in the week; acknowledged 12 Jan 08:00: met.
        complaint("K6", datetime(2025, 12, 1, 9), stage1_acknowledged_at=datetime(2025, 12, 2, 9),
                  stage1_responded_at=datetime(2025, 12, 15, 9), stage2_requested_at=datetime(2026, 1, 5, 10),
                  stage2_acknowledged_at=datetime(2026, 1, 12, 8)),
        # Withdrawn later, but the stage 1 acknowledgement was due Fri 16 Jan and given on time: met.
        complaint("K8", datetime(2026, 1, 9, 9), stage1_acknowledged_at=datetime(2026, 1, 12, 9), outcome="withdrawn"),
    ])
    # Due in the week: K1 (met), K2, K3, K5 (missed), K6 stage 2 (met), K8 (met) -> 3 / 6 = 50%.
    assert figure(extract, "cx.acknowledged_on_time_pct", as_of) == (50.0, 3, 6)
    assert meets_by_id(extract, "cx.acknowledged_on_time_pct", as_of) == {
        "K1:stage1": True, "K2:stage1": False, "K3:stage1": False, "K5:stage1": False, "K6:stage2": True,
        "K8:stage1": True}
    rows = cases(extract, as_of, "cx.acknowledged_on_time_pct")
    assert rows.filter(rows["id"] == "K6:stage2").select("complaint_id", "stage", "ack_due_on").row(0) == (
        "K6", 2, date(2026, 1, 12))
    assert rows.filter(rows["id"] == "K5:stage1")["acknowledged_at"].to_list() == [None]  # unknown at E


def test_acknowledgements_over_christmas_and_easter(tmp_path):
    extract = open_(tmp_path, complaints=[
        # Received Fri 19 Dec 2025 14:00: 22, 23, 24, 29, 30 -> Tue 30 Dec (week of Sun 4 Jan 2026).
        complaint("X1", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2025, 12, 30, 23, 59, 59)),  # met
        complaint("X2", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2025, 12, 31, 0, 0, 0)),  # missed
        # Received Tue 31 Mar 2026: 1 (1), 2 (2), [3 Good Friday, 4-5 weekend, 6 Easter Monday] 7, 8,
        # Thu 9 Apr (5). Acknowledged 9 Apr 23:59:59: met.
        complaint("X3", datetime(2026, 3, 31, 10), stage1_acknowledged_at=datetime(2026, 4, 9, 23, 59, 59)),
        # Stage 2 requested Mon 30 Mar 2026: 31, 1, 2, 7, Wed 8 Apr. Acknowledged Thu 9 Apr 00:00: missed.
        # (Its stage 1, received Mon 2 Mar, was due Mon 9 Mar: another week.)
        complaint("X4", datetime(2026, 3, 2, 10), stage1_acknowledged_at=datetime(2026, 3, 3, 10),
                  stage1_responded_at=datetime(2026, 3, 16, 10), stage2_requested_at=datetime(2026, 3, 30, 10),
                  stage2_acknowledged_at=datetime(2026, 4, 9, 0, 0, 0)),
    ])
    # Week of Sun 4 Jan 2026 (29 Dec .. 4 Jan): X1 met, X2 missed -> 1 / 2.
    assert figure(extract, "cx.acknowledged_on_time_pct", date(2026, 1, 4)) == (50.0, 1, 2)
    # Week of Sun 12 Apr 2026 (6 .. 12 Apr): X3 stage 1 (9 Apr) met, X4 stage 2 (8 Apr) missed -> 1 / 2.
    assert meets_by_id(extract, "cx.acknowledged_on_time_pct", date(2026, 4, 12)) == {
        "X3:stage1": True, "X4:stage2": False}
    assert figure(extract, "cx.acknowledged_on_time_pct", date(2026, 4, 12)) == (50.0, 1, 2)


# --- Open complaints -------------------------------------------------------------------------------------


@pytest.fixture
def open_extract_(tmp_path):
    return open_(
        tmp_path,
        properties=[{"property_id": "P1"}, {"property_id": "P2"}, {"property_id": "P3"}],
        households=[
            {"household_id": "H1", "property_id": "P1"},
            {"household_id": "H2", "property_id": "P1"},
            {"household_id": "H3", "property_id": "P2", "tenancy_start": date(2025, 6, 1)},
            {"household_id": "H4", "property_id": "P1"},
            {"household_id": "H6", "property_id": "P3", "tenancy_end": date(2025, 12, 31)},
        ],
        vulnerabilities=[
            {"vulnerability_id": "V2", "household_id": "H2", "recorded_on": date(2025, 6, 1)},
            {"vulnerability_id": "V3", "household_id": "H3", "recorded_on": date(2026, 1, 11)},  # on D: counts
            {"vulnerability_id": "V4", "household_id": "H4", "recorded_on": date(2026, 1, 12)},  # after D
            {"vulnerability_id": "V6", "household_id": "H6", "recorded_on": date(2025, 1, 1)},  # tenancy ended
        ],
        complaints=[
            # Received Mon 1 Dec, no acknowledgement: ack deadline Mon 8 Dec, response due Mon 22 Dec: overdue.
            complaint("O1", datetime(2025, 12, 1, 10)),
            # Same, acknowledged at E (unknown at E): still due 22 Dec, overdue (from the recorded
            # acknowledgement it would be due 26 Jan).
            complaint("O2", datetime(2025, 12, 1, 10), stage1_acknowledged_at=E),
            # Received Fri 19 Dec, acknowledged 22 Dec: due Thu 8 Jan: overdue.
            complaint("O3", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2025, 12, 22, 9)),
            # Stage 1 answered Fri 9 Jan, stage 2 requested Sat 10 Jan: open at stage 2; ack due
            # 12-16 Jan (Fri 16 Jan), response 20 working days later, Fri 13 Feb: not overdue.
            complaint("O4", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2025, 12, 22, 9),
                      stage1_responded_at=datetime(2026, 1, 9, 10), stage2_requested_at=datetime(2026, 1, 10, 10)),
            # Stage 1 answered, stage 2 requested at E (not yet requested): closed at E.
            complaint("O5", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2025, 12, 22, 9),
                      stage1_responded_at=datetime(2026, 1, 9, 10), stage2_requested_at=E),
            # Received Mon 5 Jan; answered at E (not yet): open; ack due Mon 12 Jan, response Mon 26 Jan.
            complaint("O6", datetime(2026, 1, 5, 9), stage1_responded_at=E),
            # Withdrawn: never open.
            complaint("O7", datetime(2025, 12, 1, 10), outcome="withdrawn"),
            # Received at E: not yet received.
            complaint("O8", E),
            # Both stages answered before E: closed.
            complaint("O9", datetime(2025, 11, 3, 9), stage1_responded_at=datetime(2025, 12, 10, 9),
                      stage2_requested_at=datetime(2025, 12, 11, 10), stage2_responded_at=datetime(2026, 1, 9, 9)),
            # Vulnerable household H2; received 1 Dec, no acknowledgement: due 22 Dec, overdue.
            complaint("O10", datetime(2025, 12, 1, 10), household_id="H2"),
            # No household: P2's household H3 (tenancy covering 5 Jan) was flagged on D: vulnerable.
            complaint("O11", datetime(2026, 1, 5, 9), household_id=None, property_id="P2"),
            # Household H4 flagged after D: not vulnerable at D.
            complaint("O12", datetime(2026, 1, 5, 9), household_id="H4"),
            # No household: P3's only flagged household's tenancy ended 31 Dec, before receipt: not vulnerable.
            complaint("O14", datetime(2026, 1, 5, 9), household_id=None, property_id="P3"),
            # Stage 2 requested Mon 3 Nov 2025, never acknowledged: ack deadline 4-7, 10 -> Mon 10 Nov;
            # response due 20 working days after 10 Nov: 11-14 (4), 17-21 (9), 24-28 (14), 1-5 Dec (19),
            # Mon 8 Dec (20): overdue at stage 2.
            complaint("O13", datetime(2025, 10, 1, 9), stage1_responded_at=datetime(2025, 10, 31, 9),
                      stage2_requested_at=datetime(2025, 11, 3, 10)),
        ])


def test_open_complaints(open_extract_):
    # Open at E: O1, O2, O3, O4, O6, O10, O11, O12, O13, O14 -> 10 (O5 closed, O7 withdrawn, O8 at E,
    # O9 closed).
    assert figure(open_extract_, "cx.open_complaints") == (10.0, None, None)
    rows = cases(open_extract_, AS_OF, "cx.open_complaints")
    stage = dict(zip(rows["id"], rows["current_stage"], strict=True))
    assert stage == {"O1": 1, "O2": 1, "O3": 1, "O4": 2, "O6": 1, "O10": 1, "O11": 1, "O12": 1, "O13": 2, "O14": 1}
    due = dict(zip(rows["id"], rows["response_due_on"], strict=True))
    assert due["O2"] == date(2025, 12, 22)
    assert due["O4"] == date(2026, 2, 13)
    assert due["O13"] == date(2025, 12, 8)
    # Most overdue first: O13 (due 8 Dec), then those due 22 Dec (by received time, then id), then 8 Jan.
    assert list(rows["id"])[:5] == ["O13", "O1", "O10", "O2", "O3"]


def test_open_overdue(open_extract_):
    # Current stage's deadline on or before D (11 Jan): O1, O2, O10 (22 Dec), O3 (8 Jan), O13 (8 Dec) -> 5.
    assert figure(open_extract_, "cx.open_overdue") == (5.0, None, None)
    assert sorted(ids(open_extract_, "cx.open_overdue")) == ["O1", "O10", "O13", "O2", "O3"]


def test_open_complaints_vulnerable(open_extract_):
    # Open and vulnerable: O10 (household H2), O11 (via P2's household H3, flagged on D) -> 2.
    assert figure(open_extract_, "vu.open_complaints_vulnerable") == (2.0, None, None)
    assert sorted(ids(open_extract_, "vu.open_complaints_vulnerable")) == ["O10", "O11"]


def test_open_overdue_from_the_deadline_day(tmp_path):
    # Received Fri 19 Dec 2025, acknowledged Tue 23 Dec: due 24 (1), 29-31 (4), 2 (5), 5-9 Jan (10)
    # -> Fri 9 Jan. As of Thu 8 Jan it is not overdue; as of Fri 9 Jan (D = the deadline date) the
    # deadline has passed by E = 10 Jan 00:00: overdue.
    extract = open_(tmp_path, complaints=[
        complaint("Q", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2025, 12, 23, 9))])
    assert figure(extract, "cx.open_overdue", date(2026, 1, 8)) == (0.0, None, None)
    assert figure(extract, "cx.open_overdue", date(2026, 1, 9)) == (1.0, None, None)
    # Past weeks come from timestamps: before receipt it was not open.
    assert figure(extract, "cx.open_complaints", date(2025, 12, 18)) == (0.0, None, None)


# --- Final responses: upheld, compensation -------------------------------------------------------------------


def test_upheld_and_compensation(tmp_path):
    extract = open_(tmp_path, complaints=[
        # Final stage 1 response Tue 6 Jan, upheld, £100.
        complaint("U1", datetime(2025, 12, 1, 9), stage1_responded_at=datetime(2026, 1, 6, 10), outcome="upheld",
                  compensation_offered_gbp=100.0),
        # Stage 1 answered 7 Jan but escalated Fri 9 Jan (before E): the final response is stage 2's, not yet given.
        complaint("U2", datetime(2025, 12, 1, 9), stage1_responded_at=datetime(2026, 1, 7, 10),
                  stage2_requested_at=datetime(2026, 1, 9, 10), outcome="partly_upheld", compensation_offered_gbp=50.0),
        # Final stage 2 response Thu 8 Jan, not upheld, £25.50.
        complaint("U3", datetime(2025, 11, 3, 9), stage1_responded_at=datetime(2025, 12, 1, 10),
                  stage2_requested_at=datetime(2025, 12, 3, 10), stage2_responded_at=datetime(2026, 1, 8, 10),
                  outcome="not_upheld", compensation_offered_gbp=25.5),
        # Stage 1 answered Thu 8 Jan; stage 2 requested at E, so not requested: final, partly upheld, no money.
        complaint("U4", datetime(2025, 12, 1, 9), stage1_responded_at=datetime(2026, 1, 8, 10),
                  stage2_requested_at=E, outcome="partly_upheld"),
        # Final response Fri 9 Jan, withdrawn (no decided outcome), £10 offered.
        complaint("U5", datetime(2025, 12, 1, 9), stage1_responded_at=datetime(2026, 1, 9, 10), outcome="withdrawn",
                  compensation_offered_gbp=10.0),
        # Final response Sun 11 Jan 23:59:59, outcome not recorded.
        complaint("U6", datetime(2025, 12, 1, 9), stage1_responded_at=datetime(2026, 1, 11, 23, 59, 59)),
        # Responded at E: not in the week.
        complaint("U7", datetime(2025, 12, 1, 9), stage1_responded_at=E, outcome="upheld",
                  compensation_offered_gbp=1000.0),
    ])
    # Decided final responses in the week: U1 (upheld), U3 (not upheld), U4 (partly upheld) -> 2 / 3.
    assert figure(extract, "cx.upheld_pct") == (pytest.approx(200 / 3), 2, 3)
    assert meets_by_id(extract, "cx.upheld_pct") == {"U1": True, "U3": False, "U4": True}
    # Compensation over every final response in the week: U1 100 + U3 25.50 + U4 0 + U5 10 + U6 0 = 135.50.
    assert figure(extract, "cx.compensation_offered_gbp") == (135.5, None, None)
    rows = cases(extract, AS_OF, "cx.compensation_offered_gbp")
    assert list(rows["id"]) == ["U1", "U3", "U4", "U5", "U6"]
    assert dict(zip(rows["id"], rows["final_stage"], strict=True))["U3"] == 2
    # A week with no final responses: compensation 0 (a sum of money over no rows), upheld null.
    assert figure(extract, "cx.compensation_offered_gbp", date(2026, 2, 1)) == (0.0, None, None)
    assert figure(extract, "cx.upheld_pct", date(2026, 2, 1)) == (None, 0, 0)


# --- Financial year to date: received, escalated, responses, Ombudsman ------------------------------------


def test_fytd_boundary_in_the_first_week_of_april(tmp_path):
    # As of Thu 2 Apr 2026: week Fri 27 Mar .. Thu 2 Apr, E = Fri 3 Apr 00:00; FYTD from Wed 1 Apr 2026.
    as_of = date(2026, 4, 2)
    extract = open_(
        tmp_path,
        # Homes on D: P1 (general needs), P3 (shared ownership); P2 leasehold and P4 sold are not homes -> 2.
        properties=[{"property_id": "P1"}, {"property_id": "P2", "tenure": "leasehold"},
                    {"property_id": "P3", "tenure": "shared_ownership"},
                    {"property_id": "P4", "in_stock_to": date(2026, 1, 1)}],
        complaints=[
            complaint("R1", datetime(2026, 3, 28, 10)),  # week, previous year
            complaint("R2", datetime(2026, 3, 31, 23, 59, 59)),  # week, previous year
            complaint("R3", datetime(2026, 4, 1, 0, 0, 0),  # week and FYTD
                      stage1_responded_at=datetime(2026, 4, 2, 12), stage2_requested_at=datetime(2026, 4, 2, 15)),
            complaint("R4", datetime(2026, 3, 26, 23, 59, 59),  # neither; its stage 1 answer is in the week only
                      stage1_responded_at=datetime(2026, 3, 31, 12), stage2_requested_at=datetime(2026, 3, 31, 15)),
            complaint("R5", datetime(2026, 4, 3, 0, 0, 0)),  # at E: neither
            # Ombudsman determinations (dates): in FYTD when 1 Apr 2026 <= date <= D (2 Apr).
            complaint("M1", datetime(2025, 6, 2, 9), ombudsman_determined_at=date(2026, 4, 1),
                      ombudsman_outcome="severe_maladministration"),  # counted
            complaint("M2", datetime(2025, 6, 2, 9), ombudsman_determined_at=date(2026, 4, 2),
                      ombudsman_outcome="maladministration"),  # counted (on D)
            complaint("M3", datetime(2025, 6, 2, 9), ombudsman_determined_at=date(2026, 3, 31),
                      ombudsman_outcome="maladministration"),  # previous year
            complaint("M4", datetime(2025, 6, 2, 9), ombudsman_determined_at=date(2026, 4, 3),
                      ombudsman_outcome="maladministration"),  # after D
            complaint("M5", datetime(2025, 6, 2, 9), ombudsman_determined_at=date(2026, 4, 1),
                      ombudsman_outcome="service_failure"),  # not maladministration
        ])
    # Received in the week: R1, R2, R3 -> 3; in FYTD: R3 -> 1 / 2 homes * 1000 = 500.
    assert figure(extract, "cx.stage1_received", as_of) == (3.0, None, None)
    assert figure(extract, "cx.stage1_per_1000_homes_fytd", as_of) == (500.0, 1, 2)
    assert ids(extract, "cx.stage1_per_1000_homes_fytd", as_of) == ["R3"]
    # Stage 2 requested in the week: R4 (31 Mar), R3 (2 Apr) -> 2; in FYTD: R3 -> 1 / 2 * 1000 = 500.
    assert figure(extract, "cx.stage2_received", as_of) == (2.0, None, None)
    assert figure(extract, "cx.stage2_per_1000_homes_fytd", as_of) == (500.0, 1, 2)
    # Stage 1 answers: week R4 and R3 (both on time) -> 2 / 2; FYTD R3 only -> 1 / 1; escalated: R3 -> 1 / 1.
    assert figure(extract, "cx.stage1_on_time_pct", as_of) == (100.0, 2, 2)
    assert figure(extract, "cx.stage1_on_time_fytd_pct", as_of) == (100.0, 1, 1)
    assert figure(extract, "cx.escalation_rate_fytd_pct", as_of) == (100.0, 1, 1)
    # Ombudsman maladministration FYTD: M1, M2 -> 2.
    assert figure(extract, "cx.ombudsman_maladministration_fytd", as_of) == (2.0, None, None)
    assert ids(extract, "cx.ombudsman_maladministration_fytd", as_of) == ["M1", "M2"]
    # As of Tue 31 Mar 2026 the financial year is 2025-26: M3 counts, M1, M2 and M4 are in the future.
    assert ids(extract, "cx.ombudsman_maladministration_fytd", date(2026, 3, 31)) == ["M3"]


# --- Scope ---------------------------------------------------------------------------------------------------


@pytest.fixture
def scoped_extract(tmp_path):
    return open_(
        tmp_path,
        properties=[{"property_id": "P1", "region": "North"}, {"property_id": "P2", "region": "South"}],
        households=[{"household_id": "H1", "property_id": "P1"}, {"household_id": "H2", "property_id": "P2"}],
        teams=[{"team_id": "T1", "region": "North"}, {"team_id": "T2", "region": "South"}],
        complaints=[
            # No property_id: found through household H2's property P2 (South). Team T1.
            complaint("Z1", datetime(2026, 1, 5, 9), household_id="H2", team_id="T1",
                      stage1_responded_at=datetime(2026, 1, 6, 9)),
            complaint("Z2", datetime(2026, 1, 6, 9), household_id=None, property_id="P1", team_id="T1"),
            complaint("Z3", datetime(2026, 1, 7, 9), household_id=None, property_id="P2", team_id="T2"),
            # No property and no household: no region; team T2.
            complaint("Z4", datetime(2026, 1, 8, 9), household_id=None, team_id="T2"),
        ])


@pytest.mark.parametrize(("scope", "expected"), [
    (Scope(), ["Z1", "Z2", "Z3", "Z4"]),
    (Scope(region="South"), ["Z1", "Z3"]),
    (Scope(region="North"), ["Z2"]),
    (Scope(teams=("T1",)), ["Z1", "Z2"]),
    (Scope(teams=("T2",)), ["Z3", "Z4"]),
    (Scope(region="South", teams=("T2",)), ["Z3"]),
    (Scope(region="East"), []),
])
def test_scope_by_region_and_team(scoped_extract, scope, expected):
    assert ids(scoped_extract, "cx.stage1_received", scope=scope) == expected
    assert figure(scoped_extract, "cx.stage1_received", scope=scope) == (float(len(expected)), None, None)
    assert ids(scoped_extract, "cx.open_complaints", scope=scope) == [z for z in expected if z != "Z1"]


def test_scope_details(scoped_extract):
    # Z1's property is its household's: P2 in the South.
    rows = cases(scoped_extract, AS_OF, "cx.stage1_received")
    assert rows.filter(rows["id"] == "Z1").select("property_id", "region").row(0) == ("P2", "South")
    # South: Z1, Z3 received in FYTD / 1 South home * 1000 = 2000.
    assert figure(scoped_extract, "cx.stage1_per_1000_homes_fytd", scope=Scope(region="South")) == (2000.0, 2, 1)
    # Stage 1 answers in the South: Z1 (received Mon 5 Jan, answered 6 Jan, due 26 Jan) -> 1 / 1;
    # a region with no rows: counts 0, ratios null.
    assert figure(scoped_extract, "cx.stage1_on_time_pct", scope=Scope(region="South")) == (100.0, 1, 1)
    assert figure(scoped_extract, "cx.stage1_on_time_pct", scope=Scope(region="North")) == (None, 0, 0)
    assert figure(scoped_extract, "cx.stage1_received", scope=Scope(region="East")) == (0.0, None, None)


# --- Every complaints KPI at once ----------------------------------------------------------------------------


def test_every_complaints_kpi_over_several_weeks(open_extract_):
    # The trend path (several as-of dates in one query) gives each week what a single-week run gives,
    # and every drill-down agrees with its figure.
    weeks = [date(2025, 12, 21), date(2025, 12, 28), AS_OF]
    together = compute(open_extract_, weeks, Scope(), CX_KPIS)
    for as_of in weeks:
        alone = compute(open_extract_, [as_of], Scope(), CX_KPIS)
        assert together.filter(together["as_of"] == as_of).sort("kpi_id").equals(alone.sort("kpi_id"))
        for kpi_id in CX_KPIS:
            figure(open_extract_, kpi_id, as_of)
    # No resident names or vulnerability details in any complaints drill-down.
    for kpi_id in CX_KPIS:
        columns = set(cases(open_extract_, AS_OF, kpi_id).columns)
        assert not columns & {"learning_action", "vulnerability_type", "reasonable_adjustment", "address"}
