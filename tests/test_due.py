"""The "Due soon" list (kpis.md) on a hand-worked extract over Christmas 2025, and the `due` command.

D = Sunday 21 Dec 2025, E = Monday 22 Dec 00:00. The window ends with the fifth working day after D:
22, 23, 24 Dec, then 29 (25 and 26 Dec are bank holidays), 30 Dec, so it closes at the end of Tuesday
30 Dec 2025. Every deadline below is worked out by hand in its comment.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest
from conftest import command
from extract_factory import write_extract

from housing_assurance import due
from housing_assurance.db import open_extract
from housing_assurance.scope import Scope

D = date(2025, 12, 21)
ROOT = Path(__file__).resolve().parent.parent


def end_of(day: str) -> str:
    return f"{day}T23:59:59.999999"


CASES = [
    # Reported Mon 15 Dec: 10 working days are 16-19, 22-24, 29-31 Dec: due Wed 31 Dec, after the window.
    {"case_id": "DM1", "reported_at": datetime(2025, 12, 15, 10), "hazard_level": "moderate"},
    # Reported Fri 12 Dec: 15-19, 22-24, 29, 30 Dec: due Tue 30 Dec, the window's last day. Vulnerable.
    {"case_id": "DM2", "reported_at": datetime(2025, 12, 12, 10), "household_id": "H1"},
    # Investigated early (Fri 19 Dec, met) and summary sent early (met): only the significant hazard's
    # safety work runs, 5 working days from 19 Dec: 22, 23, 24, 29, 30 Dec.
    {"case_id": "DM3", "reported_at": datetime(2025, 12, 12, 10), "hazard_level": "significant",
     "investigation_completed_at": datetime(2025, 12, 19, 15), "summary_sent_at": datetime(2025, 12, 20, 9),
     "team_id": "T2", "property_id": "P2", "household_id": "H2"},
    # Emergency reported Sun 21 Dec 23:00: made safe by Mon 22 Dec 23:00 (an hour clock, at or after E);
    # investigated Sun 21 Dec 23:30, so its summary is due 3 working days on: 22, 23, 24 Dec.
    {"case_id": "DM4", "reported_at": datetime(2025, 12, 21, 23), "hazard_level": "emergency",
     "investigation_completed_at": datetime(2025, 12, 21, 23, 30)},  # investigated, not yet made safe
    # Emergency reported Sat 20 Dec 10:00: its deadline (Sun 10:00) passed before E: a breach, not due soon.
    {"case_id": "DM5", "reported_at": datetime(2025, 12, 20, 10), "hazard_level": "emergency"},
    # Closed before E: nothing of it is due.
    {"case_id": "DM6", "reported_at": datetime(2025, 12, 12, 10), "closed_at": datetime(2025, 12, 20, 12)},
    # Investigated at E (Mon 22 Dec 09:00): not known at E, so the 10-day clock (due Tue 30 Dec) still runs
    # and the summary and safety clocks have not started.
    {"case_id": "DM7", "reported_at": datetime(2025, 12, 12, 11), "hazard_level": "significant",
     "investigation_completed_at": datetime(2025, 12, 22, 9)},
    # Further work: investigated Mon 6 Oct, 84 days later is Mon 29 Dec.
    {"case_id": "DM8", "reported_at": datetime(2025, 10, 1, 9), "hazard_level": "moderate",
     "investigation_completed_at": datetime(2025, 10, 6, 9), "summary_sent_at": datetime(2025, 10, 7, 9),
     "further_work_required": True},
]

COMPLAINTS = [
    # Received Tue 16 Dec, not acknowledged: 17, 18, 19, 22, 23 Dec: acknowledge by Tue 23 Dec. Its
    # response (10 working days from the acknowledgement deadline, into January) is after the window.
    # At P1 with no household named: vulnerable, as H1's tenancy there covers the received date.
    {"complaint_id": "CX1", "received_at": datetime(2025, 12, 16, 10), "property_id": "P1"},
    # Acknowledged Tue 2 Dec: respond by Tue 16 Dec, before E: a breach, not due soon.
    {"complaint_id": "CX2", "received_at": datetime(2025, 12, 1, 10),
     "stage1_acknowledged_at": datetime(2025, 12, 2, 10)},
    # Acknowledged Thu 11 Dec: 12, 15-19, 22-24, 29 Dec: respond by Mon 29 Dec.
    {"complaint_id": "CX3", "received_at": datetime(2025, 12, 10, 10),
     "stage1_acknowledged_at": datetime(2025, 12, 11, 10), "team_id": "T2", "property_id": "P2"},
    # Acknowledged Wed 3 Dec: normally due Wed 17 Dec (breached), extended to Wed 24 Dec (within the cap
    # of 10 more working days, Mon 5 Jan): due soon on 24 Dec.
    {"complaint_id": "CX4", "received_at": datetime(2025, 12, 3, 9),
     "stage1_acknowledged_at": datetime(2025, 12, 3, 10), "stage1_extended_to": date(2025, 12, 24)},
    # Escalated Fri 19 Dec 16:00: acknowledge stage 2 by 22, 23, 24, 29, 30 Dec: Tue 30 Dec.
    {"complaint_id": "CX5", "received_at": datetime(2025, 10, 1, 9),
     "stage1_acknowledged_at": datetime(2025, 10, 1, 10), "stage1_responded_at": datetime(2025, 10, 10, 10),
     "stage2_requested_at": datetime(2025, 12, 19, 16)},
    # Withdrawn: never open.
    {"complaint_id": "CX6", "received_at": datetime(2025, 12, 16, 10), "outcome": "withdrawn"},
    # Acknowledged at E (not known at E): received Mon 15 Dec, acknowledge by Mon 22 Dec, still due soon.
    {"complaint_id": "CX7", "received_at": datetime(2025, 12, 15, 10),
     "stage1_acknowledged_at": datetime(2025, 12, 22, 9)},
    # Acknowledged and answered early: met, nothing due.
    {"complaint_id": "CX8", "received_at": datetime(2025, 12, 15, 10),
     "stage1_acknowledged_at": datetime(2025, 12, 15, 11), "stage1_responded_at": datetime(2025, 12, 18, 11)},
]

# Soonest first; ties by id, then clock. Vulnerable: the cases at P1 (H1 is vulnerable and its tenancy
# covers them); DM3 and CX3 are H2's, recorded as vulnerable only after D; the other complaints have no home.
EXPECTED = [
    ("DM4", "emergency_made_safe_24h", "2025-12-22T23:00:00", "T1", True),
    ("CX7", "stage1_acknowledge", end_of("2025-12-22"), "T1", False),
    ("CX1", "stage1_acknowledge", end_of("2025-12-23"), "T1", True),
    ("CX4", "stage1_respond", end_of("2025-12-24"), "T1", False),
    ("DM4", "summary_3wd", end_of("2025-12-24"), "T1", True),
    ("CX3", "stage1_respond", end_of("2025-12-29"), "T2", False),
    ("DM8", "further_work_12wk", end_of("2025-12-29"), "T1", True),
    ("CX5", "stage2_acknowledge", end_of("2025-12-30"), "T1", False),
    ("DM2", "investigated_10wd", end_of("2025-12-30"), "T1", True),
    ("DM3", "safety_work_5wd", end_of("2025-12-30"), "T2", False),
    ("DM7", "investigated_10wd", end_of("2025-12-30"), "T1", True),
]


@pytest.fixture(scope="module")
def extract_dir(tmp_path_factory) -> Path:
    return write_extract(
        tmp_path_factory.mktemp("due") / "extract", extracted_at="2025-12-22T06:00:00",
        properties=[{"property_id": "P1"}, {"property_id": "P2", "region": "South"}],
        households=[{"household_id": "H1"}, {"household_id": "H2", "property_id": "P2"}],
        # H1 vulnerable since before D; H2's vulnerability is recorded after D, so not yet.
        vulnerabilities=[{"household_id": "H1", "recorded_on": date(2025, 6, 1)},
                         {"household_id": "H2", "recorded_on": date(2025, 12, 22)}],
        teams=[{"team_id": "T1"}, {"team_id": "T2", "region": "South"}],
        damp_mould_cases=CASES, complaints=COMPLAINTS)


def test_the_window_ends_on_the_fifth_working_day_after_d():
    assert due.window_last_day(D) == date(2025, 12, 30)
    assert due.window_last_day(date(2026, 11, 22)) == date(2026, 11, 27)


def test_due_soon_is_the_hand_worked_list(extract_dir):
    rows = due.as_json(due.due_soon(open_extract(extract_dir), D))
    assert [(r["id"], r["clock"], r["deadline"], r["team_id"], r["vulnerable"]) for r in rows] == EXPECTED


def test_due_soon_is_scoped_like_its_clocks(extract_dir):
    extract = open_extract(extract_dir)
    south = due.due_soon(extract, D, Scope(region="South"))
    assert south["id"].to_list() == ["CX3", "DM3"]
    assert due.due_soon(extract, D, Scope(teams=("T2",)))["id"].to_list() == ["CX3", "DM3"]
    assert due.due_soon(extract, D, Scope(region="South", teams=("T1",))).is_empty()


def test_the_due_command_gives_the_same_list(extract_dir, tmp_path):
    stores = {"HOUSING_ASSURANCE_CACHE": str(tmp_path / "stores")}
    done = command("due", "--data", extract_dir, "--as-of", D.isoformat(), "--json", env=stores)
    assert done.returncode == 0, done.stderr
    listed = json.loads(done.stdout)
    assert [tuple(r.values()) for r in listed] == EXPECTED
    assert all(list(r) == ["id", "clock", "deadline", "team_id", "vulnerable"] for r in listed)
    text = command("due", "--data", extract_dir, "--as-of", D.isoformat(), "--team", "T2", env=stores)
    assert text.returncode == 0, text.stderr
    assert "Tue 30 Dec 2025" in text.stdout and "CX3" in text.stdout and "DM2" not in text.stdout
    # interfaces.md: `due … [--region R | --team T]`, one or the other (both were taken, exit 0).
    both = command("due", "--data", extract_dir, "--as-of", D.isoformat(), "--region", "South", "--team", "T2",
                   env=stores)
    assert both.returncode == 2 and "not allowed with argument" in both.stderr and both.stdout == ""
