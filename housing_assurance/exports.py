"""Tables as a person opens them: a formatted Excel file beside the raw CSV, written once for every
table the app offers for download.

An executive opens a download in Excel, so the Excel file reads like the page: team and contractor
names rather than ids, words rather than codes, UK dates (dd/mm/yyyy, dd/mm/yyyy hh:mm), whole days,
headings in words, and a few lines above the table saying whose data it is, which week, which scope
and when it was made. The CSV stays the rows as the command line gives them (ids, codes, ISO
timestamps), so it joins back to the landlord's systems; only its fractional days, percentages and
pounds are cut to 2 decimal places, because 1088.1899305555555 days is noise, not precision.

Nothing here knows about Streamlit: the app, a test or a script passes a frame and its Context.
The frames are already as the user may see them (access.visible_rows): nothing is added back.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from housing_assurance import clocks
from housing_assurance.contractors import SCORECARD_COLUMNS
from housing_assurance.kpis import KPIS

# Headings people read, where a column's name does not say it well enough (label() does the rest).
LABELS: dict[str, str] = SCORECARD_COLUMNS | {
    "id": "Id", "meets": "Meets", "team_id": "Team", "team_name": "Team", "contractor_id": "Contractor",
    "as_of": "Week ending", "is_in_house": "In-house", "days_open": "Days open", "category": "Category",
    "property_id": "Home", "property_type": "Type of home", "status_in_extract": "Status in the extract",
    "severity_category": "Severity (0–4)", "jobs_linked": "Repair jobs linked",
    "clocks_breached": "Deadlines missed", "first_breached_due_by": "First deadline missed",
    "due_by": "Deadline", "due_on": "Deadline", "response_due_on": "Response deadline",
    "ack_due_on": "Acknowledgement deadline", "target_at": "Target", "is_vulnerable_household": "Vulnerable household",
    "days_over_deadline": "Days over deadline", "action_at": "Done", "event_at": "When", "lane": "What",
    "ref_id": "Record", "rank": "Rank", "score": "Chance of a report", "landlord_rank": "Rank in the landlord",
    "times_average": "Times the average home", "has_open_dm_case": "Damp and mould case open",
    "latest_case_id": "Latest case", "band": "Band", "reasons": "Reasons", "message": "What is wrong",
    "examples": "Examples", "rows": "Rows", "table": "Table", "column": "Column", "check": "Check",
    "jobs_with_follow_on": "Jobs with follow-on work", "period_start": "From", "period_end": "To",
}
MONEY = {"compensation_offered_gbp", "compensation_paid_gbp", "cost_gbp", "avg_cost_gbp"}
# Codes that read as words once "_" is a space and the first letter a capital.
ENUMS = {"hazard_level", "root_cause", "source", "category", "priority", "outcome", "status_in_extract", "tenure",
         "source_system", "vulnerability_type", "ombudsman_outcome", "severity", "check", "final_stage",
         "property_type", "band", "first_follow_up"}
# What explains a row comes first, before where and when: the clock, whether it was met, the deadline, how
# far over, and whether the household is vulnerable (a wide table's right edge is off screen).
REASON_FIRST = ("meets", "clock", "clocks_breached", "due_by", "response_due_on", "ack_due_on", "target_at",
                "days_over_deadline", "days_overdue", "days_late", "first_breached_due_by",
                "is_vulnerable_household", "current_stage", "hazard_level", "priority")
WRAPPED = {"detail", "message", "reasons", "examples", "event", "learning_action"}  # long text: wrapped in Excel

UK_DATE = "dd/mm/yyyy"
UK_DATE_TIME = "dd/mm/yyyy hh:mm"
CSV_DECIMALS = 2


@dataclass(frozen=True)
class Context:
    """Whose table it is, for the lines above it: the landlord, the week, the scope and when it was made."""

    title: str  # what the table is: "Open damp and mould cases"
    landlord: str
    week: str  # words.week_text(as_of), or what the table is as of ("as the extract stands, …")
    scope: str  # words.scope_text
    made_at: datetime
    made_for: str | None = None  # the user it was made for
    notes: tuple[str, ...] = ()
    team_names: Mapping[str, str] = field(default_factory=dict)
    contractor_names: Mapping[str, str] = field(default_factory=dict)


def label(col: str) -> str:
    """A column's heading in words: 'days_to_resolve' -> 'Days to resolve', a KPI id -> its title."""
    if col in LABELS:
        return LABELS[col]
    kpi_id, _, part = col.partition(":")
    if kpi_id in KPIS:
        return KPIS[kpi_id].title + {"numerator": ": counted", "denominator": ": out of"}.get(part, "")
    text = col.removeprefix("is_").removeprefix("has_").replace("_gbp", "").replace("_pct", " %")
    text = text.replace("_at", "").replace("_on", "") if col.endswith(("_at", "_on")) else text
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text.replace("_", " "))
    return text[:1].upper() + text[1:]


def is_days(col: str, dtype: pl.DataType) -> bool:
    """A duration in days (days_open, days_overdue, days_to_resolve …)."""
    return dtype.is_numeric() and (col.startswith("days_") or col.endswith("_days"))


def names_and_words(frame: pl.DataFrame, team_names: Mapping[str, str] | None = None,
                    contractor_names: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The same rows in the same order with names for ids and words for codes (the app's tables and
    the Excel file): team and contractor names, clock titles, enum codes as words. An id column that
    only repeats another (a complaint's id, a contractor's) is dropped; no other column is added or lost."""
    out = frame
    if "team_id" in out.columns:
        if "team_name" in out.columns:
            out = out.drop("team_id")
        elif team_names:
            out = out.with_columns(pl.col("team_id").replace_strict(dict(team_names), default=pl.col("team_id")))
    if "contractor_id" in out.columns:
        if "contractor_name" in out.columns:
            if "id" in out.columns and out["id"].equals(out["contractor_id"]):
                out = out.drop("id")
            out = out.drop("contractor_id")
        elif contractor_names:
            out = out.with_columns(pl.col("contractor_id").replace_strict(dict(contractor_names),
                                                                          default=pl.col("contractor_id")))
    if "complaint_id" in out.columns and "id" in out.columns and out["complaint_id"].equals(out["id"]):
        out = out.drop("complaint_id")
    exprs = []
    for name, dtype in out.schema.items():
        if name == "clock" and dtype == pl.Utf8:
            exprs.append(pl.col(name).map_elements(clocks.title, return_dtype=pl.Utf8))
        elif name == "clocks_breached" and dtype == pl.Utf8:
            exprs.append(pl.col(name).map_elements(clocks.short_names, return_dtype=pl.Utf8))
        elif name in ENUMS and dtype == pl.Utf8:
            words = pl.col(name).str.replace_all("_", " ")
            exprs.append(words.str.slice(0, 1).str.to_uppercase() + words.str.slice(1))
    return out.with_columns(exprs) if exprs else out


def reason_first(frame: pl.DataFrame) -> pl.DataFrame:
    """The same columns with the id and then what explains each row (REASON_FIRST) first."""
    lead = [c for c in ("id", *REASON_FIRST) if c in frame.columns]
    return frame.select(lead + [c for c in frame.columns if c not in lead])


def _joined_lists(frame: pl.DataFrame) -> pl.DataFrame:
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    return frame.with_columns(pl.col(c).cast(pl.List(pl.Utf8)).list.join("; ") for c in lists) if lists else frame


def to_csv(frame: pl.DataFrame) -> bytes:
    """The rows as they are (ids, codes, ISO timestamps), lists joined with '; ', and fractional days,
    percentages and pounds to 2 decimal places."""
    out = _joined_lists(frame)
    rounded = [c for c, t in out.schema.items() if t.is_float()
               and (is_days(c, t) or c.endswith(("_pct", "_gbp")))]
    if rounded:
        out = out.with_columns(pl.col(c).round(CSV_DECIMALS) for c in rounded)
    return out.write_csv().encode()


def for_people(frame: pl.DataFrame, team_names: Mapping[str, str] | None = None,
               contractor_names: Mapping[str, str] | None = None) -> pl.DataFrame:
    """The rows as the Excel file shows them: names and words, the reason first (as in the app's lists),
    Yes/No, whole days (days completed, so a case open 101 days and 7 hours shows 101), times to the
    minute, lists joined; the week column goes (the heading says it)."""
    out = reason_first(names_and_words(frame.drop("as_of", strict=False), team_names, contractor_names))
    out = _joined_lists(out)
    exprs = []
    for name, dtype in out.schema.items():
        if dtype == pl.Boolean:
            exprs.append(pl.when(pl.col(name)).then(pl.lit("Yes")).when(~pl.col(name)).then(pl.lit("No"))
                         .otherwise(None).alias(name))
        elif is_days(name, dtype):
            exprs.append(pl.col(name).floor().cast(pl.Int64) if dtype.is_float() else pl.col(name).cast(pl.Int64))
        elif isinstance(dtype, pl.Datetime):  # a deadline kept as 23:59:59.999999 would round up to the next day
            exprs.append(pl.col(name).dt.truncate("1m"))
    return out.with_columns(exprs) if exprs else out


def _number_format(col: str, dtype: pl.DataType) -> str | None:
    if col in MONEY:
        return "£#,##0.00"
    if col == "score":
        return "0.0%"
    if col.endswith("_pct"):
        return '0.0"%"'
    kpi_id = col.partition(":")[0]
    if dtype.is_float():
        return "#,##0" if kpi_id in KPIS and KPIS[kpi_id].kind == "count" else "#,##0.0"
    if dtype.is_integer():
        return "0" if "year" in col else "#,##0"
    return None


def _width(col: str, heading: str, values: pl.Series) -> int:
    """A column's width in characters: its heading or its longest value in the first rows, within reason."""
    if col in WRAPPED:
        return 60
    sample = values.head(500)
    if sample.dtype == pl.Datetime or isinstance(sample.dtype, pl.Datetime):
        longest = len("00/00/0000 00:00")
    elif sample.dtype == pl.Date:
        longest = len("00/00/0000")
    else:
        longest = int(sample.cast(pl.Utf8).str.len_chars().max() or 0)
    return max(6, min(45, max(len(heading), longest) + 2))


def _unique_headings(columns: list[str]) -> dict[str, str]:
    seen: dict[str, int] = {}
    out = {}
    for c in columns:
        heading = label(c)
        n = seen.get(heading, 0)
        seen[heading] = n + 1
        out[c] = heading if n == 0 else f"{heading} ({n + 1})"
    return out


def header_lines(context: Context, rows: int) -> list[str]:
    """The lines above the table: what it is, whose, which week and scope, when and for whom it was made."""
    made = context.made_at.strftime("%d/%m/%Y %H:%M") + (f" for {context.made_for}" if context.made_for else "")
    return [context.title, f"Landlord: {context.landlord}", f"Week: {context.week}", f"Scope: {context.scope}",
            f"Made: {made}, from the housing assurance dashboard", f"Rows: {rows:,}", *context.notes]


def to_xlsx(frame: pl.DataFrame, context: Context) -> bytes:
    """One worksheet: the header lines, then the rows as a filtered Excel table with its heading row frozen."""
    from xlsxwriter import Workbook

    shown = for_people(frame, context.team_names, context.contractor_names)
    headings = _unique_headings(shown.columns)
    lines = header_lines(context, shown.height)
    top = len(lines) + 1  # a blank row between the lines and the table
    buffer = io.BytesIO()
    # strings_to_formulas off: a value from the extract such as =HYPERLINK(…) stays the text it is, never a
    # live formula in the reader's Excel
    with Workbook(buffer, {"in_memory": True, "strings_to_formulas": False}) as book:
        sheet = book.add_worksheet(re.sub(r"[\[\]:*?/\\]", " ", context.title)[:31] or "Rows")
        title = book.add_format({"bold": True, "font_size": 14})
        plain = book.add_format({"font_color": "#333333"})
        for i, line in enumerate(lines):
            sheet.write_string(i, 0, line, title if i == 0 else plain)
        formats: dict[str, str | dict] = {}
        for col, dtype in shown.schema.items():
            fmt = _number_format(col, dtype)
            if col in WRAPPED:
                formats[col] = {"text_wrap": True, "valign": "top"}
            elif fmt:
                formats[col] = fmt
        renamed = shown.rename(headings)
        widths = {headings[c]: 7 * _width(c, headings[c], shown[c]) + 12 for c in shown.columns}
        if renamed.width:
            renamed.write_excel(
                book, sheet, position=(top, 0), table_style="Table Style Light 9",
                column_formats={headings[c]: f for c, f in formats.items()},
                dtype_formats={pl.Date: UK_DATE, pl.Datetime: UK_DATE_TIME},
                header_format={"bold": True, "text_wrap": True, "valign": "top"},
                column_widths=widths, autofilter=True, freeze_panes=(top + 1, 0))
    return buffer.getvalue()
