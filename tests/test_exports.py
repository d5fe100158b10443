"""Exports a person can use: every table the app offers downloads as the raw CSV and as a formatted
Excel file (names not ids, UK dates, whole days, headings in words, a header naming the landlord, week,
scope and when it was made), and each download is recorded in the audit trail.

The Excel files are opened with openpyxl, as Excel would read them: the cells' values and their number
formats, the frozen heading row and the column widths.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import DEMO_AS_OF, no_error
from openpyxl import load_workbook
from streamlit.testing.v1 import AppTest

from housing_assurance import audit, exports, kpis
from housing_assurance.app import data
from housing_assurance.scope import WHOLE_LANDLORD
from housing_assurance.words import week_text

APP = str(Path(__file__).resolve().parent.parent / "app.py")
MADE = datetime(2026, 11, 23, 9, 41)


def workbook(blob: bytes):
    return load_workbook(io.BytesIO(blob)).active


def table(sheet) -> tuple[int, list[str], list[list]]:
    """The sheet's one Excel table: its heading row number, headings and cells (row by row)."""
    (found,) = sheet.tables.values()
    first, last = found.ref.split(":")
    top = int(re.sub(r"\D", "", first))
    rows = [list(r) for r in sheet.iter_rows(min_row=top, max_row=int(re.sub(r"\D", "", last)))]
    return top, [c.value for c in rows[0]], rows[1:]


def column(headings: list[str], rows: list[list], heading: str) -> list:
    return [r[headings.index(heading)] for r in rows]


def context(**kw) -> exports.Context:
    base = {"title": "Open damp and mould cases", "landlord": "Brookmere Housing (demo)",
            "week": week_text(DEMO_AS_OF), "scope": "North region", "made_at": MADE,
            "made_for": "exec@example.org", "team_names": {"damp-mould-north": "Damp and Mould North"},
            "contractor_names": {"CON-101": "Aldwick Heating & Plumbing Ltd"}}
    return exports.Context(**(base | kw))


HAND_MADE = pl.DataFrame({
    "id": ["DM000001", "DM000002"],
    "as_of": [DEMO_AS_OF, DEMO_AS_OF],
    "team_id": ["damp-mould-north", "damp-mould-north"],
    "contractor_id": ["CON-101", None],
    "reported_at": [datetime(2023, 11, 30, 8, 15, 42), datetime(2026, 11, 2, 17, 5)],
    "first_breached_due_by": [datetime(2026, 11, 5, 23, 59, 59, 999999), None],
    "response_due_on": [date(2026, 11, 6), None],
    "hazard_level": ["not_significant", None],
    "clocks_breached": ["investigated_10wd,summary_3wd", None],
    "days_open": [1088.1899305555555, 20.7],
    "is_vulnerable_household": [True, False],
    "reasons": [["a leak repair in the last 90 days", "2 damp and mould reports in the last 2 years"], []],
    "cost_gbp": [123.456, None],
    "on_time_pct": [87.55555, None],
})


def test_the_excel_file_reads_like_the_page():
    sheet = workbook(exports.to_xlsx(HAND_MADE, context()))
    lines = [sheet.cell(row=i, column=1).value for i in range(1, 7)]
    assert lines == ["Open damp and mould cases", "Landlord: Brookmere Housing (demo)",
                     "Week: week ending Sunday 22 Nov 2026 (16 Nov to 22 Nov 2026)", "Scope: North region",
                     "Made: 23/11/2026 09:41 for exec@example.org, from the housing assurance dashboard",
                     "Rows: 2"]
    top, headings, rows = table(sheet)
    assert sheet.freeze_panes == f"A{top + 1}"  # the heading row stays in view
    # what explains a row first, as in the app's lists; no "Week ending": the header says the week
    assert headings == ["Id", "Deadlines missed", "Response deadline", "First deadline missed",
                        "Vulnerable household", "Hazard level", "Team", "Contractor", "Reported", "Days open",
                        "Reasons", "Cost", "On time %"]
    cells = {h: column(headings, rows, h) for h in headings}
    assert [c.value for c in cells["Team"]] == ["Damp and Mould North"] * 2
    assert [c.value for c in cells["Contractor"]] == ["Aldwick Heating & Plumbing Ltd", None]
    assert [c.value for c in cells["Hazard level"]] == ["Not significant", None]
    assert cells["Deadlines missed"][0].value == "investigated in 10 working days; summary in 3 working days"
    assert [c.value for c in cells["Vulnerable household"]] == ["Yes", "No"]
    # UK dates; times to the minute, so a deadline kept as 23:59:59.999999 stays on its own day
    reported = cells["Reported"][0]
    assert reported.number_format == "dd/mm/yyyy hh:mm" and reported.value == datetime(2023, 11, 30, 8, 15)
    deadline = cells["First deadline missed"][0]
    assert deadline.number_format == "dd/mm/yyyy hh:mm" and deadline.value == datetime(2026, 11, 5, 23, 59)
    due = cells["Response deadline"][0]
    assert due.number_format == "dd/mm/yyyy" and due.value.date() == date(2026, 11, 6)
    # whole days completed: 1088.19 days is 1,088 days, and 20.7 days is 20
    assert [(c.value, c.number_format) for c in cells["Days open"]] == [(1088, "#,##0"), (20, "#,##0")]
    assert cells["Cost"][0].number_format == "£#,##0.00"
    assert cells["On time %"][0].number_format == '0.0"%"'
    reasons = cells["Reasons"][0]
    assert reasons.alignment.wrap_text and reasons.value.startswith("a leak repair in the last 90 days; 2 damp")
    widths = {h: sheet.column_dimensions[c.column_letter].width for h, c in zip(headings, rows[0], strict=True)}
    assert widths["Reasons"] > widths["Days open"] >= len("Days open")
    assert widths["Contractor"] >= len("Aldwick Heating & Plumbing Ltd")


def test_the_csv_stays_raw_without_float_noise():
    text = exports.to_csv(HAND_MADE).decode()
    assert text.startswith("id,as_of,team_id,contractor_id,reported_at,")
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["team_id"] == "damp-mould-north" and row["contractor_id"] == "CON-101"  # ids, to join back
    assert row["reported_at"].startswith("2023-11-30T08:15:42") and row["hazard_level"] == "not_significant"
    assert row["days_open"] == "1088.19" and row["cost_gbp"] == "123.46" and row["on_time_pct"] == "87.56"
    assert row["reasons"] == "a leak repair in the last 90 days; 2 damp and mould reports in the last 2 years"
    assert row["is_vulnerable_household"] == "true" and row["clocks_breached"] == "investigated_10wd,summary_3wd"


def test_exports_need_no_streamlit():
    source = Path(exports.__file__).read_text()
    assert "streamlit" not in source.replace("Nothing here knows about Streamlit", "")


@pytest.mark.parametrize("kpi_id", ["dm.overdue_open_cases", "rp.open_overdue_jobs", "cx.open_complaints"])
def test_a_drill_down_of_the_demo_in_excel(demo_extract, kpi_id):
    rows = kpis.cases(demo_extract, DEMO_AS_OF, kpi_id, WHOLE_LANDLORD)
    assert len(rows), kpi_id
    found = demo_extract.query("names")
    teams = dict(found.filter(pl.col("kind") == "team").select("id", "label").iter_rows())
    contractors = dict(found.filter(pl.col("kind") == "contractor").select("id", "label").iter_rows())
    sheet = workbook(exports.to_xlsx(rows, context(title=kpis.KPIS[kpi_id].title, scope="Whole landlord",
                                                   team_names=teams, contractor_names=contractors)))
    _, headings, cells = table(sheet)
    assert len(cells) == len(rows)
    assert all("_" not in h for h in headings), headings
    assert set(c.value for c in column(headings, cells, "Team")) <= set(teams.values())
    if "Contractor" in headings:
        assert set(c.value for c in column(headings, cells, "Contractor")) <= set(contractors.values())
    for h in headings:
        values = [c.value for c in column(headings, cells, h) if c.value is not None]
        if h.startswith("Days"):
            assert all(isinstance(v, int) for v in values), h
        if isinstance(values[0] if values else None, datetime):
            assert column(headings, cells, h)[0].number_format in ("dd/mm/yyyy", "dd/mm/yyyy hh:mm"), h
    raw_days = [c for c in rows.columns if c.startswith("days_") and rows.schema[c].is_float()]
    for c in raw_days:
        shown = [x.value for x in column(headings, cells, exports.label(c))]
        assert shown == [None if v is None else math.floor(v) for v in rows[c].to_list()], c


# ---------------------------------------------------------------------------------------- in the app


@pytest.fixture
def app_env(demo_dir, demo_store, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(demo_dir))
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "1")
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(demo_dir / "access.toml"))
    monkeypatch.setenv("HOUSING_ASSURANCE_PREFETCH", "0")


def opened(page: str, **params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["as_of"] = DEMO_AS_OF.isoformat()
    at.run()  # the first run registers the pages (st.navigation)
    at.switch_page(page)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert no_error(at), [e.message for e in at.exception]
    return at


def buttons(at: AppTest) -> dict[str, str]:
    """The page's download buttons: key (csv:… / xlsx:…) → label."""
    return {b.proto.id.rsplit("-", 1)[-1]: b.proto.label for b in at.get("download_button")}


def test_every_table_offers_csv_and_excel_and_each_download_is_audited(app_env, demo_extract):
    case_id = kpis.cases(demo_extract, DEMO_AS_OF, "dm.open_cases", WHOLE_LANDLORD)["id"][0]
    views = {  # page, URL → the tables it offers for download
        ("pages/overview.py", ()): {"exc:dm.overdue_open_cases", "exc:cx.open_overdue"},
        ("pages/overview.py", (("kpi", "dm.open_cases"),)): {"drill:dm.open_cases"},
        ("pages/damp_mould.py", ()): {"due:damp_mould_case", "exc:dm.overdue_open_cases", "bars:dm.open_cases:region"},
        ("pages/damp_mould.py", (("kpi", "dm.open_cases"), ("by", "region"), ("value", "North"))):
            {"drill:dm.open_cases"},
        ("pages/complaints.py", ()): {"due:complaint"},
        ("pages/contractors.py", ()): {"contractors"},
        ("pages/vulnerability.py", ()): {"teams", "exc:vu.open_overdue_jobs_vulnerable", "exc:dq.dm_open_without_job"},
        ("pages/case.py", (("case", case_id),)): {"timeline"},
        ("pages/about.py", ()): {"findings"},
        ("pages/homes_at_risk.py", ()): {"homes_at_risk"},
    }
    for (page, params), tables in views.items():
        at = opened(page, **dict(params))
        offered = buttons(at)
        for name in tables:
            if name.startswith("exc:") and kpis.cases(demo_extract, DEMO_AS_OF, name[4:], WHOLE_LANDLORD).is_empty():
                continue  # an empty list says "None this week" and offers nothing
            assert offered.get(f"csv:{name}") == "Download (CSV)", (page, name, offered)
            assert offered.get(f"xlsx:{name}") == "Download (Excel)", (page, name, offered)
    # a click on either button writes an export entry naming the file
    at = opened("pages/overview.py", kpi="dm.open_cases")
    excel = next(b for b in at.get("download_button") if b.proto.id.endswith("xlsx:drill:dm.open_cases"))
    excel.click().run()
    csv = next(b for b in at.get("download_button") if b.proto.id.endswith("csv:drill:dm.open_cases"))
    csv.click().run()
    exported = [e for e in audit.read_entries(Path(os.environ["HOUSING_ASSURANCE_AUDIT"])) if e["action"] == "export"]
    stem = f"dm.open_cases_{DEMO_AS_OF}"
    assert [e["target"] for e in exported] == [f"{stem}.xlsx", f"{stem}.csv"]
    assert all(e["as_of"] == DEMO_AS_OF.isoformat() and e["chain_ok"] for e in exported)


@pytest.fixture
def made(monkeypatch) -> dict:
    """What each download button hands over when clicked, by file name (the app passes a callable)."""
    import streamlit as st

    files = {}
    real = st.download_button

    def spy(label, data, *args, file_name=None, **kwargs):
        files[file_name] = data
        return real(label, data, *args, file_name=file_name, **kwargs)

    monkeypatch.setattr(st, "download_button", spy)
    return files


def lines_above(sheet, top: int) -> list[str]:
    return [sheet.cell(row=i, column=1).value for i in range(1, top) if sheet.cell(row=i, column=1).value]


def test_due_soon_and_a_breakdown_in_excel_from_the_app(app_env, made, demo_extract):
    opened("pages/damp_mould.py", breakdown="dm.open_cases", by="team_id")
    week = DEMO_AS_OF.isoformat()
    due = workbook(made[f"due_soon_damp_mould_case_{week}.xlsx"]())
    top, headings, rows = table(due)
    above = lines_above(due, top)
    assert above[0] == "Due soon: damp and mould deadlines" and above[3] == "Scope: Whole landlord"
    assert above[2] == f"Week: {week_text(DEMO_AS_OF)}" and above[4].startswith("Made: ")
    assert above[-1].startswith("Open deadlines not yet met, falling due from the end of the week")
    assert headings[:3] == ["Id", "Clock", "Deadline"] and "Team" in headings
    found = demo_extract.query("names")
    teams = set(found.filter(pl.col("kind") == "team")["label"].to_list())
    assert rows and all(c.value in teams for c in column(headings, rows, "Team"))
    clocks = [c.value for c in column(headings, rows, "Clock")]
    assert all(" " in c and "_" not in c for c in clocks), clocks  # "Safety work within 5 working days"
    deadline = column(headings, rows, "Deadline")[0]
    assert deadline.number_format == "dd/mm/yyyy hh:mm" and deadline.value.minute == 59
    assert {c.value for c in column(headings, rows, "Vulnerable household")} <= {"Yes", "No"}
    raw = next(csv.DictReader(io.StringIO(made[f"due_soon_damp_mould_case_{week}.csv"]().decode())))
    assert raw["team_id"] not in teams and "_" in raw["clock"]  # the CSV keeps ids and codes

    bars = workbook(made[f"dm.open_cases_by_team_id_{week}.xlsx"]())
    top, headings, rows = table(bars)
    assert lines_above(bars, top)[0] == "Open damp and mould cases by team"
    assert headings == ["Team", "Open damp and mould cases", "Cases"]
    assert {c.value for c in column(headings, rows, "Team")} <= teams | {None}
    assert sum(c.value for c in column(headings, rows, "Cases")) == len(
        kpis.cases(demo_extract, DEMO_AS_OF, "dm.open_cases", WHOLE_LANDLORD))
    raw = list(csv.DictReader(io.StringIO(made[f"dm.open_cases_by_team_id_{week}.csv"]().decode())))
    assert raw[0].keys() == {"team_id", "dm.open_cases", "cases"} and raw[0]["team_id"] not in teams


def test_a_value_that_looks_like_a_formula_stays_text_in_the_excel_file():
    """Free text from the extract (an area, a description) typed as =HYPERLINK(…) or =cmd|… must reach the
    reader's Excel as the text it is, never a live formula (the app's downloads and the pack's workbooks)."""
    planted = ['=HYPERLINK("http://evil.example","Open the case")', "=1+1", "@SUM(A1)"]
    frame = pl.DataFrame({"id": ["J1", "J2", "J3"], "area": planted})
    context = exports.Context(title="Cases", landlord="L", week="w", scope="s", made_at=datetime(2026, 11, 23, 9))
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(frame, context))).active
    cells = [c for row in sheet.iter_rows() for c in row if c.value in planted]
    assert [c.value for c in cells] == planted and {c.data_type for c in cells} == {"s"}
