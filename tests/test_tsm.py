"""Our own annual TSM figures (tsm.py), the `tsm` command, "How we compare" (compare.py) and its page.

The figures are worked out by hand in comments on a small extract for the reporting year 2025-26
(1 Apr 2025 .. 31 Mar 2026). The extract is taken Mon 23 Nov 2026 06:00: the latest complete week ends
Sun 22 Nov 2026, so 2025-26 has ended, D = Tue 31 Mar 2026 and E = Wed 1 Apr 2026 00:00; 2026-27 runs to
date, D = Sun 22 Nov 2026. Calendar facts used (England and Wales bank holidays):
- Easter 2025: Good Friday 18 Apr and Easter Monday 21 Apr; Mon 5 May 2025 is the early May bank holiday.
- Christmas 2025: Thu 25 and Fri 26 Dec, and Thu 1 Jan 2026.
- "N working days after X": day 0 is the date of X; the deadline is the Nth working day after it, and a
  response at any time on the deadline date meets it. No landlord closure dates (closures=()).
"""

from __future__ import annotations

import json
import os
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import as_read, command
from extract_factory import write_extract
from streamlit.testing.v1 import AppTest

from housing_assurance import compare, sector, tsm
from housing_assurance.db import open_extract
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import compute, query_rows
from housing_assurance.scope import WHOLE_LANDLORD
from housing_assurance.words import percentile_text

D = date(2026, 3, 31)
E = datetime(2026, 4, 1)
APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT = 120
TSM_FILES = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "tsm"

PROPERTIES = [
    {"property_id": "P1"},  # general needs, always in stock
    {"property_id": "P2", "tenure": "supported"},
    {"property_id": "P3", "tenure": "older_persons"},
    {"property_id": "SO", "tenure": "shared_ownership"},  # a home, not a rented one
    {"property_id": "LH", "tenure": "leasehold"},  # neither
    {"property_id": "SOLD", "in_stock_to": date(2026, 1, 15)},  # sold mid-year, before D
    {"property_id": "SOLD_ON_D", "in_stock_to": D},  # gone on D: not in stock on D
    {"property_id": "SOLD_AFTER_D", "in_stock_to": date(2026, 4, 1)},  # still in stock on D
    {"property_id": "SOLD_LATER", "in_stock_to": date(2026, 11, 30)},  # in stock on 31 Mar and 22 Nov 2026
    {"property_id": "BOUGHT_ON_D", "in_stock_from": D},  # in stock from D
    {"property_id": "BOUGHT_AFTER_D", "in_stock_from": date(2026, 4, 1)},
]
# Rented homes in stock on D = 31 Mar 2026: P1, P2, P3, SOLD_AFTER_D, SOLD_LATER, BOUGHT_ON_D = 6
# (not SO or LH by tenure; not SOLD, SOLD_ON_D or BOUGHT_AFTER_D by the stock dates). Homes (the size
# band's count, shared ownership included): 6 + SO = 7.
# On 22 Nov 2026: P1, P2, P3, SOLD_LATER, BOUGHT_ON_D, BOUGHT_AFTER_D = 6 rented (SOLD_AFTER_D gone); 7 homes.


def job(job_id, priority, completed_at, target_at, property_id="P1", **kw):
    return {"job_id": job_id, "priority": priority, "property_id": property_id, "completed_at": completed_at,
            "target_at": target_at, "reported_at": datetime(2025, 3, 30, 9), "status": "completed", **kw}


REPAIRS = [
    # Emergency, at rented homes, completed in [1 Apr 2025, E):
    job("E1", "emergency", datetime(2025, 4, 1), datetime(2025, 4, 1)),  # first instant of the year, at target: met
    job("E2", "emergency", datetime(2026, 3, 31, 23, 59, 59), datetime(2026, 3, 31, 12), "P2"),  # last second: late
    job("E7", "emergency", datetime(2025, 6, 1, 10), datetime(2025, 6, 1, 12), "SOLD"),  # sold later: still counts
    # Not counted in 2025-26:
    job("E3", "emergency", E, datetime(2026, 4, 1, 9)),  # completed at E: in 2026-27 (met there)
    job("E4", "emergency", datetime(2025, 3, 31, 23, 59, 59), datetime(2025, 4, 1)),  # the year before
    job("E5", "emergency", datetime(2025, 7, 1), datetime(2025, 7, 2), "SO"),  # shared ownership: not rented
    job("E6", "emergency", datetime(2025, 7, 1), datetime(2025, 7, 2), "LH"),  # leasehold
    # Non-emergency:
    job("U1", "urgent", datetime(2025, 9, 1, 10), datetime(2025, 9, 2, 10), "P3"),  # met
    job("R1", "routine", datetime(2025, 9, 1, 10, 0, 1), datetime(2025, 9, 1, 10)),  # one second late
    job("PL1", "planned", datetime(2025, 9, 1), datetime(2025, 9, 30)),  # planned: not a responsive repair
    job("R3", "routine", None, datetime(2025, 9, 30)),  # status completed, no completed_at: not completed
]
# RP02 emergency 2025-26: E1 met, E2 late, E7 met -> 2 of 3. Non-emergency: U1 met, R1 late -> 1 of 2.


def complaint(complaint_id, received_at, property_id="P1", **kw):
    return {"complaint_id": complaint_id, "property_id": property_id, "received_at": received_at, **kw}


COMPLAINTS = [
    # C1 over Easter 2025: received and acknowledged Thu 17 Apr 2025. Response due 10 working days after
    # 17 Apr: [18 Good Friday, 19-20 weekend, 21 Easter Monday] 22 (1), 23 (2), 24 (3), 25 (4), 28 (5), 29 (6),
    # 30 (7), 1 May (8), 2 May (9), [5 May bank holiday] 6 May (10) -> Tue 6 May 2025. Responded 6 May 17:00:
    # met (without the three bank holidays it would have been due Thu 1 May and late).
    complaint("C1", datetime(2025, 4, 17, 10), stage1_acknowledged_at=datetime(2025, 4, 17, 15),
              stage1_responded_at=datetime(2025, 5, 6, 17)),
    # C2 over Christmas, no acknowledgement: the acknowledgement deadline is 5 working days after Fri 19 Dec:
    # 22 (1), 23 (2), 24 (3), [25, 26 bank holidays, 27-28 weekend] 29 (4), 30 (5) -> Tue 30 Dec; the response
    # is due 10 working days after it: 31 (1), [1 Jan] 2 (2), 5 (3), 6 (4), 7 (5), 8 (6), 9 (7), 12 (8),
    # 13 (9), 14 (10) -> Wed 14 Jan 2026. Responded Wed 14 Jan 23:59:59: met.
    complaint("C2", datetime(2025, 12, 19, 14), stage1_responded_at=datetime(2026, 1, 14, 23, 59, 59)),
    # C3: received Fri 19 Dec, acknowledged Mon 22 Dec; due 10 working days after 22 Dec: 23 (1), 24 (2),
    # 29 (3), 30 (4), 31 (5), 2 Jan (6), 5 (7), 6 (8), 7 (9), 8 (10) -> Thu 8 Jan 2026. Responded Fri 9 Jan
    # 00:00: late. Stage 2 requested Mon 12 Jan 2026, acknowledged Tue 13 Jan; due 20 working days after
    # 13 Jan: 14-16 (3), 19-23 (8), 26-30 (13), 2-6 Feb (18), 9 (19), 10 (20) -> Tue 10 Feb. Responded Wed
    # 11 Feb: late.
    complaint("C3", datetime(2025, 12, 19, 14), stage1_acknowledged_at=datetime(2025, 12, 22, 9),
              stage1_responded_at=datetime(2026, 1, 9), stage2_requested_at=datetime(2026, 1, 12, 10),
              stage2_acknowledged_at=datetime(2026, 1, 13, 9), stage2_responded_at=datetime(2026, 2, 11, 10)),
    # C4: received Tue 25 Mar 2025 (the year before), acknowledged Wed 26 Mar; due 10 working days after:
    # 27, 28, 31 Mar, 1, 2, 3, 4, 7, 8, 9 Apr -> Wed 9 Apr 2025. Responded Thu 3 Apr 2025, in 2025-26: met.
    complaint("C4", datetime(2025, 3, 25, 9), stage1_acknowledged_at=datetime(2025, 3, 26, 9),
              stage1_responded_at=datetime(2025, 4, 3, 9)),
    complaint("C5", datetime(2026, 3, 30, 10)),  # received in the year, no response yet
    # C6 at the home sold in January: received Wed 1 Oct 2025, no acknowledgement (due Wed 8 Oct), response
    # due 10 working days after 8 Oct (Wed 22 Oct); responded Thu 2 Oct: met. Stage 2 requested on D at noon.
    complaint("C6", datetime(2025, 10, 1, 10), "SOLD", stage1_responded_at=datetime(2025, 10, 2, 10),
              stage2_requested_at=datetime(2026, 3, 31, 12)),
    complaint("C7", datetime(2026, 3, 31, 23, 59)),  # the year's last minute
    complaint("C8", E),  # received at E: in 2026-27
    # C9 at the leasehold home (counted: kpis.md counts complaints whatever the tenure): received and
    # acknowledged Mon 2 Jun 2025, due Mon 16 Jun, responded Tue 3 Jun: met. Stage 2 requested at E: 2026-27.
    complaint("C9", datetime(2025, 6, 2, 9), "LH", stage1_acknowledged_at=datetime(2025, 6, 2, 10),
              stage1_responded_at=datetime(2025, 6, 3, 9), stage2_requested_at=E),
    # C10: received and acknowledged Mon 10 Nov 2025, responded Wed 12 Nov (due 24 Nov): met. Stage 2
    # requested Thu 11 Dec 2025, not acknowledged: acknowledgement due 5 working days after 11 Dec: 12, 15,
    # 16, 17, 18 -> Thu 18 Dec; response due 20 working days after 18 Dec: 19 (1), 22 (2), 23 (3), 24 (4),
    # [25, 26] 29 (5), 30 (6), 31 (7), [1 Jan] 2 (8), 5-9 (13), 12-16 (18), 19 (19), 20 (20) -> Tue 20 Jan 2026.
    # Responded Tue 20 Jan 16:00: met (without the three bank holidays it would have been due Thu 15 Jan).
    complaint("C10", datetime(2025, 11, 10, 9), stage1_acknowledged_at=datetime(2025, 11, 10, 10),
              stage1_responded_at=datetime(2025, 11, 12, 9), stage2_requested_at=datetime(2025, 12, 11, 10),
              stage2_responded_at=datetime(2026, 1, 20, 16)),
]
# 2025-26 (received / requested / responded in [1 Apr 2025, E)):
# CH01(1): received C1, C2, C3, C5, C6, C7, C9, C10 = 8 (not C4: the year before; not C8: at E) -> 8 / 6 x 1000.
# CH01(2): stage 2 requested C3, C6, C10 = 3 (C9's is at E) -> 3 / 6 x 1000 = 500.
# CH02(1): responses C1 met, C2 met, C3 late, C4 met, C6 met, C9 met, C10 met -> 6 of 7.
# CH02(2): responses C3 late, C10 met -> 1 of 2.
# 2026-27 to Sun 22 Nov 2026: RP02 emergency E3 met -> 1 of 1; non-emergency none -> null (0 of 0);
# CH01(1) C8 -> 1 / 6 x 1000; CH01(2) C9 -> 1 / 6 x 1000; CH02 no responses -> null (0 of 0).


def make(folder: Path, extracted_at: str = "2026-11-23T06:00:00") -> Path:
    return write_extract(folder, extracted_at=extracted_at, properties=PROPERTIES, repairs=REPAIRS,
                         complaints=COMPLAINTS)


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("tsm"))


@pytest.fixture(scope="module")
def extract(folder):
    return open_extract(folder, closures=())


def figures(ours: tsm.OurReturn) -> dict[str, tuple]:
    return {key: (f.value, f.numerator, f.denominator) for key, f in ours.figures.items()}


# --- our annual figures ----------------------------------------------------------------------------------


def test_a_whole_year_over_easter_and_christmas_with_a_home_sold(extract):
    ours = tsm.our_figures(extract, "2025-26")
    assert (ours.year, ours.as_of, ours.year_to_date) == ("2025-26", D, False)
    assert (ours.homes, ours.rented_homes) == (7, 6)
    assert figures(ours) == {
        "RP02_emergency_pct": (pytest.approx(200 / 3), 2, 3),
        "RP02_non_emergency_pct": (50.0, 1, 2),
        "CH01_stage1_per_1000": (pytest.approx(8000 / 6), 8, 6),
        "CH01_stage2_per_1000": (500.0, 3, 6),
        "CH02_stage1_pct": (pytest.approx(600 / 7), 6, 7),
        "CH02_stage2_pct": (50.0, 1, 2),
    }
    assert tuple(ours.figures) == sector.MEASURE_KEYS


def test_the_response_clocks_skip_easter_and_christmas(extract):
    """The deadlines the CH02 figures above were judged against, as worked out in the comments."""
    stage1 = query_rows(extract, "cx_stage1_responses", [D], WHOLE_LANDLORD)
    due1 = dict(zip(stage1["id"], stage1["stage1_response_due_on"], strict=True))
    assert {c: due1[c] for c in ("C1", "C2", "C3")} == {
        "C1": date(2025, 5, 6), "C2": date(2026, 1, 14), "C3": date(2026, 1, 8)}
    stage2 = query_rows(extract, "cx_stage2_responses", [D], WHOLE_LANDLORD)
    assert dict(zip(stage2["id"], stage2["stage2_response_due_on"], strict=True)) == {
        "C3": date(2026, 2, 10), "C10": date(2026, 1, 20)}


def test_the_year_to_date_and_nothing_to_count_is_null(extract):
    ours = tsm.our_figures(extract, "2026-27")
    assert (ours.as_of, ours.year_to_date, ours.period) == (date(2026, 11, 22), True, "2026-27 to 22 Nov 2026")
    assert (ours.homes, ours.rented_homes) == (7, 6)
    assert figures(ours) == {
        "RP02_emergency_pct": (100.0, 1, 1),
        "RP02_non_emergency_pct": (None, 0, 0),
        "CH01_stage1_per_1000": (pytest.approx(1000 / 6), 1, 6),
        "CH01_stage2_per_1000": (pytest.approx(1000 / 6), 1, 6),
        "CH02_stage1_pct": (None, 0, 0),
        "CH02_stage2_pct": (None, 0, 0),
    }


def test_the_year_is_to_date_until_it_has_ended_when_the_extract_was_taken(tmp_path):
    # Taken Tue 31 Mar 2026 06:00, before the year ended: the latest complete week ends Sun 29 Mar, so 2025-26
    # is to date at D = 29 Mar (E = Mon 30 Mar 00:00): E2 (31 Mar) is not yet completed -> RP02 emergency
    # E1, E7: 2 of 2. Received before E: C1, C2, C3, C6, C9, C10 = 6 (C5 30 Mar and C7 31 Mar not yet);
    # stage 2: C3, C10 = 2. Rented homes on 29 Mar: P1, P2, P3, SOLD_ON_D, SOLD_AFTER_D, SOLD_LATER = 6
    # (BOUGHT_ON_D not yet).
    early = tsm.our_figures(open_extract(make(tmp_path / "early", "2026-03-31T06:00:00"), closures=()), "2025-26")
    assert (early.as_of, early.year_to_date, early.rented_homes) == (date(2026, 3, 29), True, 6)
    assert figures(early)["RP02_emergency_pct"] == (100.0, 2, 2)
    assert figures(early)["CH01_stage1_per_1000"] == (1000.0, 6, 6)
    assert figures(early)["CH01_stage2_per_1000"] == (pytest.approx(2000 / 6), 2, 6)
    # Taken Wed 1 Apr 2026 06:00: the year ended at 1 Apr 00:00, before the extract was taken, so D = 31 Mar
    # although the latest complete week still ends Sun 29 Mar: the whole year, as worked out above (E2 late:
    # emergency 2 of 3; received 8).
    ended = tsm.our_figures(open_extract(make(tmp_path / "ended", "2026-04-01T06:00:00"), closures=()), "2025-26")
    assert (ended.as_of, ended.year_to_date) == (D, False)
    assert figures(ended)["RP02_emergency_pct"] == (pytest.approx(200 / 3), 2, 3)
    assert figures(ended)["CH01_stage1_per_1000"] == (pytest.approx(8000 / 6), 8, 6)
    # Taken at E itself: the year has just ended.
    at_e = tsm.our_figures(open_extract(make(tmp_path / "at_e", "2026-04-01T00:00:00"), closures=()), "2025-26")
    assert (at_e.as_of, at_e.year_to_date) == (D, False)


def test_the_figures_are_the_kpis_rules_over_the_year(extract):
    """CH02 is the catalogue's year-to-date KPI at D; CH01's numerator is the catalogue's, its denominator the
    rented homes (the catalogue's per-1,000-homes KPI counts shared ownership too: 7 homes)."""
    ours = tsm.our_figures(extract, "2025-26")
    catalogue = {r["kpi_id"]: (r["value"], r["numerator"], r["denominator"]) for r in compute(
        extract, [D], WHOLE_LANDLORD, ["cx.stage1_on_time_fytd_pct", "cx.stage2_on_time_fytd_pct",
                                       "cx.stage1_per_1000_homes_fytd"]).iter_rows(named=True)}
    assert figures(ours)["CH02_stage1_pct"] == catalogue["cx.stage1_on_time_fytd_pct"]
    assert figures(ours)["CH02_stage2_pct"] == catalogue["cx.stage2_on_time_fytd_pct"]
    assert catalogue["cx.stage1_per_1000_homes_fytd"][1:] == (8, 7)


def test_the_weekly_repairs_kpis_still_count_the_week_alone(extract):
    """The week ending D holds E2 alone (31 Mar): rp.emergency_on_time_pct 0 of 1, whatever the year holds;
    rp_completed_jobs lists the year only when asked (the TSM return asks), and the figure store keeps only
    that week's rows, not the year's."""
    week = compute(extract, [D], WHOLE_LANDLORD, ["rp.emergency_on_time_pct", "rp.non_emergency_on_time_pct"])
    assert week.select("value", "numerator", "denominator").rows() == [(0.0, 0, 1), (None, 0, 0)]
    year = query_rows(extract, "rp_completed_jobs", [D], WHOLE_LANDLORD, with_fytd=True)
    assert year["in_fytd"].sum() == 7  # E1, E2, E7, E5, E6, U1, R1
    assert query_rows(extract, "rp_completed_jobs", [D], WHOLE_LANDLORD)["id"].to_list() == ["E2"]  # the week's
    kept = FigureStore(extract).rows("rp_completed_jobs", [D])
    assert kept["n"].sum() == 1 and kept["in_week"].all()


@pytest.mark.parametrize(("year", "message"), [
    ("2027-28", "the 2027-28 reporting year starts on 1 Apr 2027, after the extract's latest complete week "
                "(ending 22 Nov 2026)"),
    ("2019-20", "the extract has no data for the 2019-20 reporting year: its records start on 25 Mar 2025 "
                "(the first whole year is 2025-26)"),
    ("2025-2026", "'2025-2026' is not a TSM reporting year in the form YYYY-YY, e.g. 2024-25"),
])
def test_a_year_the_extract_cannot_give_is_one_line(extract, year, message):
    with pytest.raises(tsm.TsmError) as caught:
        tsm.our_figures(extract, year)
    assert str(caught.value) == message


def test_a_year_the_extract_covers_in_part_is_worked_out_and_said_to_be(extract, folder):
    """kpis.md defines the figures, not a refusal: 2024-25 (1 Apr 2024 .. 31 Mar 2025), of which the extract
    holds the last week (its first record is C4, received 25 Mar 2025), is worked out over what it holds, and
    said to be understated. D = 31 Mar 2025, E = 1 Apr 2025 00:00. RP02 emergency: E4, completed 31 Mar 2025
    23:59:59, target 1 Apr 2025: met -> 1 of 1; non-emergency: none -> null. CH01(1): C4 -> 1 over the rented
    homes in stock on 31 Mar 2025: P1, P2, P3, SOLD, SOLD_ON_D, SOLD_AFTER_D, SOLD_LATER = 7 (not the two
    bought in 2026). CH02(1): C4's response is on 3 Apr 2025, in 2025-26 -> 0 of 0."""
    ours = tsm.our_figures(extract, "2024-25")
    assert (ours.as_of, ours.year_to_date, ours.rented_homes) == (date(2025, 3, 31), False, 7)
    assert figures(ours)["RP02_emergency_pct"] == (100.0, 1, 1)
    assert figures(ours)["RP02_non_emergency_pct"] == (None, 0, 0)
    assert figures(ours)["CH01_stage1_per_1000"] == (pytest.approx(1000 / 7), 1, 7)
    assert figures(ours)["CH02_stage1_pct"] == (None, 0, 0)
    gap = ("the extract does not cover the whole of the 2024-25 reporting year: its records start on 25 Mar 2025, "
           "after the year began on 1 Apr 2024 (the first whole year is 2025-26)")
    assert tsm.coverage_gap(extract, tsm.reporting_year("2024-25")) == gap
    assert tsm.coverage_gap(extract, tsm.reporting_year("2025-26")) is None
    out = command("tsm", "--data", str(folder), "--year", "2024-25", "--json")
    assert out.returncode == 0 and out.stderr == f"note: {gap}; the figures count only what it holds\n"
    assert json.loads(out.stdout)["CH01_stage1_per_1000"] == {"value": pytest.approx(1000 / 7), "numerator": 1,
                                                               "denominator": 7}
    assert compare.our_years(extract, ["2024-25"]) == {"2024-25": gap}  # never set beside the sector


def test_an_extract_with_no_date_taken_has_no_year(tmp_path):
    undated = open_extract(make(tmp_path, extracted_at="yesterday"), closures=())
    with pytest.raises(tsm.TsmError, match="^the extract's manifest gives no valid extracted_at"):
        tsm.our_figures(undated, "2025-26")


# --- the command -----------------------------------------------------------------------------------------


def test_cli_json(folder):
    out = command("tsm", "--data", str(folder), "--year", "2025-26", "--json")
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"year", "as_of", "year_to_date", *sector.MEASURE_KEYS}
    assert (doc["year"], doc["as_of"], doc["year_to_date"]) == ("2025-26", "2026-03-31", False)
    assert doc["CH01_stage2_per_1000"] == {"value": 500.0, "numerator": 3, "denominator": 6}
    assert doc["RP02_non_emergency_pct"] == {"value": 50.0, "numerator": 1, "denominator": 2}
    to_date = json.loads(command("tsm", "--data", str(folder), "--year", "2026-27", "--json").stdout)
    assert (to_date["as_of"], to_date["year_to_date"]) == ("2026-11-22", True)
    assert to_date["CH02_stage1_pct"] == {"value": None, "numerator": 0, "denominator": 0}


def test_cli_table(folder):
    out = command("tsm", "--data", str(folder), "--year", "2025-26")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "Test Homes: TSM reporting year 2025-26, at 31 Mar 2026 (whole landlord)"
    stage2 = next(line for line in lines if line.startswith("Stage 2 complaints, rented homes (CH01 part 2)"))
    assert stage2.split()[-3:] == ["500.0", "3", "6"]


def test_cli_exit_codes(folder):
    beyond = command("tsm", "--data", str(folder), "--year", "2027-28", "--json")
    assert beyond.returncode == 1 and beyond.stdout == ""
    assert beyond.stderr.splitlines() == ["error: the 2027-28 reporting year starts on 1 Apr 2027, after the "
                                          "extract's latest complete week (ending 22 Nov 2026)"]
    badly_written = command("tsm", "--data", str(folder), "--year", "2025-2026")
    assert badly_written.returncode == 2 and "YYYY-YY" in badly_written.stderr
    no_data = command("tsm", "--data", "/nonexistent", "--year", "2025-26")
    assert no_data.returncode == 1 and "Traceback" not in no_data.stderr


# --- how we compare, on the suite's demo landlord --------------------------------------------------------


@pytest.fixture(scope="module")
def published() -> dict[str, sector.SectorYear]:
    return compare.published_years(TSM_FILES)


@pytest.fixture(scope="module")
def section(demo_extract, published) -> compare.HowWeCompare:
    latest = tsm.latest_week(demo_extract)
    ours = compare.our_years(demo_extract, compare.years_wanted(latest, published))
    return compare.build(demo_extract.landlord, ours, published)


def test_what_is_set_beside_what(section, demo_extract):
    # The demo's records start on 23 Nov 2023 and it is taken on 23 Nov 2026: 2023-24 is not whole,
    # 2024-25 is (and published), 2025-26 is whole (not published yet), 2026-27 is to date.
    assert section.published_years == ("2024-25", "2023-24")
    assert [(o.year, o.year_to_date) for o in section.ours] == [("2026-27", True), ("2025-26", False),
                                                                 ("2024-25", False)]
    assert [m.key for m in section.measures] == list(sector.MEASURE_KEYS)
    for m in section.measures:
        to_date, unpublished, same = m.placings
        assert (to_date.sector_year, to_date.like_for_like) == ("2024-25", False)
        assert to_date.label.endswith("(not the same year)")
        assert (unpublished.sector_year, unpublished.sector, unpublished.position) == (None, None, None)
        assert (same.sector_year, same.like_for_like, same.label) == ("2024-25", True, "Ours, 2024-25")
    assert section.notes[0].startswith("The extract does not cover the whole of the 2023-24 reporting year")
    assert "The regulator has not published 2025-26 yet: our figures for it are shown alone." in section.notes
    assert section.notes[-1] == compare.NO_REGION
    assert section.attribution == sector.ATTRIBUTION


def test_positions_and_peers_are_the_sector_modules(section, published, demo_extract):
    ours = {o.year: o for o in section.ours}
    band = sector.size_band(ours["2024-25"].homes)
    for m in section.measures:
        same = m.placings[2]
        mine = ours["2024-25"].figures[m.key]
        assert (same.value, same.numerator, same.denominator) == (mine.value, mine.numerator, mine.denominator)
        everyone = published["2024-25"].values(m.key)
        peers = published["2024-25"].landlords.filter(pl.col("size_band") == band)[m.key].drop_nulls().to_list()
        assert same.position == sector.percentile_position(mine.value, everyone)
        assert same.peer_position == sector.percentile_position(mine.value, peers)
        assert same.sector == sector.sector_figures(published["2024-25"])[m.key]
        assert same.peers == sector.peers_by_size(published["2024-25"], band)[m.key]
        assert same.size_band == band


def test_the_chart_marks_ours_among_every_landlord(section, published):
    m = section.measures[0]
    traces = {t.name: t for t in m.chart.figure().data}
    # Every published landlord's value on the all-landlords and peers rows of both years.
    band = m.placings[0].size_band
    shown = sum(len(published[y].values(m.key)) + len(published[y].values(m.key, band)) for y in published)
    assert len(traces["Each landlord"].x) == shown
    assert list(traces["Ours, 2024-25"].x) == [m.placings[2].value] * 2  # all landlords and peers, 2024-25
    assert list(traces[m.placings[0].label].x) == [m.placings[0].value] * 2
    assert traces["Ours, 2024-25"].marker.symbol == "diamond"
    assert traces[m.placings[0].label].marker.symbol == "diamond-open"


def test_no_tsm_files_is_one_line(tmp_path, demo_extract):
    with pytest.raises(sector.SectorError, match=r"^no TSM folder at /nonexistent"):
        compare.how_we_compare(demo_extract, Path("/nonexistent"))
    with pytest.raises(sector.SectorError, match=r"^no TSM files in "):
        compare.how_we_compare(demo_extract, tmp_path)


def test_the_regulators_files_are_read_once_per_version_and_an_error_is_never_kept(tmp_path, monkeypatch):
    """The app's page and every pack ask for the published years: a process reads each version of the
    folder's files once. A replaced file is read again, a broken one is said, and once fixed it is read."""
    import shutil

    published = next(p for p in sorted(TSM_FILES.iterdir()) if p.suffix == ".xlsx")
    folder = tmp_path / "tsm"
    folder.mkdir()
    copy = folder / published.name
    shutil.copyfile(published, copy)  # not its read-only mode: the test writes over it
    reads = []
    read = sector.read_tsm_file
    monkeypatch.setattr(sector, "read_tsm_file", lambda path: reads.append(Path(path).name) or read(path))
    first = compare.published_years(folder)
    [year] = first
    assert compare.published_years(folder)[year] is first[year] and reads == [copy.name]

    copy.write_bytes(b"not a workbook")
    with pytest.raises(sector.SectorError, match=copy.name):
        compare.published_years(folder)
    shutil.copyfile(published, copy)
    assert list(compare.published_years(folder)) == [year] and reads == [copy.name, copy.name]


# --- the page --------------------------------------------------------------------------------------------


@pytest.fixture
def page_env(demo_dir, demo_store, monkeypatch):
    monkeypatch.setenv("HOUSING_ASSURANCE_DATA", str(demo_dir))
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "1")
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(demo_dir / "access.toml"))
    monkeypatch.delenv("HOUSING_ASSURANCE_TSM", raising=False)


def open_page(user: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if user is not None:
        at.session_state["_demo_user"] = user
    at.run()  # the pages are registered by the first run
    at.switch_page("pages/how_we_compare.py")
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_page_shows_every_measure_and_the_attribution(page_env, section):
    at = open_page()
    assert at.title[0].value == "How we compare"
    assert [s.value for s in at.subheader] == [m.title for m in sector.MEASURES]
    assert len(at.get("plotly_chart")) == len(sector.MEASURES)
    captions = [as_read(c.value) for c in at.caption]
    assert sector.ATTRIBUTION in captions
    assert compare.NO_REGION in captions
    tables = [t.value for t in at.dataframe]
    assert len(tables) == len(sector.MEASURES)
    first = section.measures[0]  # emergency repairs: "n of N"
    assert tables[0]["Our figure"].tolist() == [p.period for p in first.placings]
    assert tables[0]["Cases"].tolist() == [f"{p.numerator:,} of {p.denominator:,}" for p in first.placings]
    assert tables[0]["Compared with"].tolist() == ["2024-25, not the same year", "Not yet published",
                                                   "2024-25, same year"]
    assert tables[0]["Among all landlords"].tolist() == [percentile_text(p.position) for p in first.placings]
    assert tables[0]["Among peers"].tolist() == [percentile_text(p.peer_position) for p in first.placings]
    assert tables[0]["Among all landlords"].tolist()[1] == "—"  # not published yet
    stage1 = section.measures[2]  # complaints per 1,000 homes: "n in N homes"
    assert tables[2]["Cases"].tolist() == [f"{p.numerator:,} in {p.denominator:,} homes" for p in stage1.placings]
    assert (f"{first.placings[0].period} is set beside 2024-25, the latest published year: not the same year, so its "
            "positions show where it would sit, never a ranking.") in captions


def test_the_charts_are_drawn_once_and_every_view_shows_the_same(page_env, monkeypatch):
    """Six charts of a thousand landlords' dots are drawn once, not on every view, and a second user's view
    shows exactly the first's."""
    from housing_assurance import charts
    from housing_assurance.app import compare_page, data
    from housing_assurance.app.warm_up import warm_up

    drawn = []
    draw = charts.sector_position_chart
    monkeypatch.setattr(charts, "sector_position_chart", lambda *a, **kw: drawn.append(1) or draw(*a, **kw))
    warm_up(data.data_key(data.data_folder())).join()  # the server's own warm-up draws them once too
    compare_page.position_charts.cache_clear()

    def specs(at: AppTest) -> list[str]:
        return [e.proto.spec for e in at.get("plotly_chart")]

    first, second = open_page(), open_page()
    assert len(specs(first)) == len(sector.MEASURES) == len(drawn)
    assert specs(second) == specs(first)
    first.run()  # the same view again: nothing drawn again
    assert specs(first) == specs(second) and len(drawn) == len(sector.MEASURES)


def test_page_without_the_regulators_files_says_so_once(page_env, monkeypatch):
    monkeypatch.setenv("HOUSING_ASSURANCE_TSM", "/nonexistent")
    at = open_page()
    about_tsm = [as_read(w.value) for w in at.warning if "TSM" in w.value]
    assert about_tsm == ["The regulator's published TSM figures cannot be read, so there is nothing to "
                         "compare with: no TSM folder at /nonexistent (HOUSING_ASSURANCE_TSM names another)."]
    assert sector.ATTRIBUTION not in [as_read(c.value) for c in at.caption]
    assert not at.get("plotly_chart")
    assert [s.value for s in at.subheader] == ["Our figures, 2026-27 to 22 Nov 2026", "Our figures, 2025-26"]
    at.switch_page("pages/repairs.py")
    at.run()
    assert not at.exception and at.title[0].value == "Repairs"


def test_page_is_for_users_who_see_the_whole_landlord(page_env, demo_dir):
    from housing_assurance.access import load_users

    users = load_users(demo_dir / "access.toml")
    manager = next(e for e, u in sorted(users.items()) if u.role.name == "manager")
    at = open_page(manager)
    assert [i.value for i in at.info] == ["These are the whole landlord's figures, and your access covers your own "
                                          "teams, so they are not shown to you."]
    assert not at.dataframe and not at.get("plotly_chart")


def test_the_page_is_in_the_menu_after_contractors():
    from housing_assurance import routes

    keys = [p.key for p in routes.PAGES]
    assert keys[keys.index("ct") + 1] == "compare"
    assert routes.PAGE["compare"].url_path == "how_we_compare"
    assert os.path.isfile(Path(APP).parent / routes.PAGE["compare"].file)


def test_positions_in_words():
    assert [percentile_text(p) for p in (1, 2, 3, 4, 11, 12, 13, 21, 22.4, 99.6, 0)] == [
        "1st percentile", "2nd percentile", "3rd percentile", "4th percentile", "11th percentile", "12th percentile",
        "13th percentile", "21st percentile", "22nd percentile", "100th percentile", "0th percentile"]
    assert percentile_text(None) == "—"
