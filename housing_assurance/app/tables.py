"""Tables of cases as people read them: team names, words for codes, UK dates, "—" for nothing recorded;
every row opens the Case page; every table downloads."""

from __future__ import annotations

import re

import polars as pl
import streamlit as st

from housing_assurance import clocks, routes
from housing_assurance.app import data
from housing_assurance.app.shell import audit_export
from housing_assurance.app.state import View
from housing_assurance.kpis import Kpi
from housing_assurance.words import NO_DATA

NAV = "_nav_count"  # bumped whenever a table or chart selection navigates, to forget that selection
CASE_URL_PATH = routes.PAGE["case"].url_path  # links in tables are relative URLs

MONEY = {"compensation_offered_gbp", "compensation_paid_gbp", "cost_gbp", "avg_cost_gbp"}
MONEY_FORMAT = "accounting"  # pounds with thousands separated and pence: 1,234.50 (the heading says £)
LABELS = {"id": "Id", "meets": "Meets", "team_id": "Team", "contractor_id": "Contractor id", "as_of": "Week ending",
          "is_in_house": "In-house", "days_open": "Days open", "category": "Category",
          "is_vulnerable_household": "Vulnerable household", "days_over_deadline": "Days over deadline",
          "clocks_breached": "Deadlines missed", "first_breached_due_by": "First missed deadline",
          "due_by": "Deadline", "due_on": "Deadline date", "response_due_on": "Response deadline",
          "ack_due_on": "Acknowledgement deadline", "target_at": "Target"}
# What explains a row comes first, before where and when: the clock, whether it was met, the deadline, how
# far over, and whether the household is vulnerable (a wide table's right edge is off screen).
REASON_FIRST = ("meets", "clock", "clocks_breached", "due_by", "response_due_on", "ack_due_on", "target_at",
                "days_over_deadline", "days_overdue", "days_late", "first_breached_due_by",
                "is_vulnerable_household", "current_stage", "hazard_level", "priority")
ROW_HEIGHT = 35  # st.dataframe's row height in pixels, to tell when a table scrolls
ENUMS = {"hazard_level", "root_cause", "source", "category", "priority", "outcome", "status_in_extract", "tenure",
         "source_system", "vulnerability_type", "ombudsman_outcome", "severity", "check", "final_stage"}


def case_ref(k: Kpi) -> tuple[str, str] | None:
    """Which column of a KPI's rows names the case a row opens, and its kind."""
    q = k.query
    if q.startswith("dm_"):
        return "id", "dm"
    if q in ("rp_appointments", "rp_job_surveys"):
        return "job_id", "job"
    if q.startswith("rp_"):
        return "id", "job"
    if q.startswith("cx_"):
        return "complaint_id", "complaint"
    return None


def label(col: str) -> str:
    if col in LABELS:
        return LABELS[col]
    text = col.removeprefix("is_").removeprefix("has_").replace("_gbp", "").replace("_pct", " %")
    text = text.replace("_at", "").replace("_on", "") if col.endswith(("_at", "_on")) else text
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text.replace("_", " "))
    return text[:1].upper() + text[1:]


def grid(frame, **kwargs):
    """st.dataframe with the house style: "—" where nothing is recorded, full width."""
    kwargs.setdefault("placeholder", NO_DATA)
    return st.dataframe(frame, **kwargs)


def column_config(frame: pl.DataFrame) -> dict:
    cfg: dict = {}
    for name, dtype in frame.schema.items():
        heading = label(name)
        if dtype == pl.Date:
            cfg[name] = st.column_config.DateColumn(heading, format="D MMM YYYY")
        elif isinstance(dtype, pl.Datetime):
            cfg[name] = st.column_config.DatetimeColumn(heading, format="D MMM YYYY, HH:mm")
        elif name in MONEY:
            cfg[name] = st.column_config.NumberColumn(f"{heading} £", format=MONEY_FORMAT)
        elif name.endswith("_pct"):
            cfg[name] = st.column_config.NumberColumn(heading, format="%.1f%%")
        elif dtype.is_numeric():  # thousands separated (fractions rounded to one place in display_frame)
            cfg[name] = st.column_config.NumberColumn(heading, format="localized")
        else:
            cfg[name] = st.column_config.Column(heading)
    return cfg


def for_csv(frame: pl.DataFrame) -> bytes:
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    frame = frame.with_columns(pl.col(c).list.join("; ") for c in lists) if lists else frame
    return frame.write_csv().encode()


def display_frame(view: View, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows as people read them: team names, words for codes, "—" for nothing recorded.
    The same rows in the same order; only how values are written changes (the CSV keeps the codes)."""
    names = data.team_names(view.key)
    out = rows
    if "team_id" in out.columns:
        out = out.with_columns(pl.col("team_id").replace_strict(names, default=pl.col("team_id")))
    if "contractor_name" in out.columns and "contractor_id" in out.columns:
        out = out.drop("contractor_id")
    if "complaint_id" in out.columns and "id" in out.columns and out["complaint_id"].equals(out["id"]):
        out = out.drop("complaint_id")
    exprs = []
    for name, dtype in out.schema.items():
        if name == "clock":
            exprs.append(pl.col(name).map_elements(clocks.title, return_dtype=pl.Utf8))
        elif name == "clocks_breached":
            exprs.append(pl.col(name).map_elements(clocks.short_names, return_dtype=pl.Utf8).fill_null(NO_DATA))
        elif name in ENUMS and dtype == pl.Utf8:
            words = pl.col(name).str.replace_all("_", " ")
            exprs.append((words.str.slice(0, 1).str.to_uppercase() + words.str.slice(1)).fill_null(NO_DATA))
        elif dtype == pl.Utf8:
            exprs.append(pl.col(name).fill_null(NO_DATA))
        elif dtype == pl.Float64 and name not in MONEY:
            exprs.append(pl.col(name).round(1))
    return out.with_columns(exprs) if exprs else out


def case_table(view: View, rows: pl.DataFrame, k: Kpi | None, name: str, file_stub: str,
               height: int | str = "auto", back: dict[str, str | None] | None = None,
               ref: tuple[str, str] | None = None) -> None:
    """A list of cases (as the user may see them: blocks.visible), each row opening the Case page (link,
    or select the row), with a CSV download. `back` (from: the page, and the list's kpi, by, value) goes
    into each case's URL so the Case page can lead back to this list."""
    back = back or {}
    ref = ref or (case_ref(k) if k else None)
    shown = display_frame(view, rows.drop("as_of") if "as_of" in rows.columns else rows)
    if ref is not None and ref[0] not in shown.columns and ref[0] == "complaint_id":
        ref = ("id", ref[1])  # the complaint id is the row id (dropped above as a duplicate)
    lead = [c for c in ("id", *REASON_FIRST) if c in shown.columns]
    shown = shown.select(lead + [c for c in shown.columns if c not in lead])
    cfg = column_config(shown)
    if ref is not None and ref[0] in shown.columns:
        col, kind = ref
        link_col = "id" if col == "id" else "Open case"
        urls = [view.url(CASE_URL_PATH, case=v, kind=kind, **back) if v not in (None, NO_DATA) else None
                for v in shown[col].to_list()]
        shown = shown.with_columns(pl.Series(link_col, urls, dtype=pl.Utf8))
        if link_col != "id":
            shown = shown.select([link_col] + [c for c in shown.columns if c != link_col])
        cfg[link_col] = st.column_config.LinkColumn(
            "Id" if link_col == "id" else "Case", display_text=r"case=([^&]*)",
            help="Opens the case's whole story in a new tab; or select the row to open it here")
    if isinstance(height, int) and len(shown) > (height - 38) // ROW_HEIGHT:
        st.caption(f"Showing about {(height - 38) // ROW_HEIGHT} of {len(shown):,} at a time: scroll the table "
                   "for the rest, or download them all.")
    nav = st.session_state.get(NAV, 0)
    event = grid(shown, hide_index=True, column_config=cfg, key=f"rows:{name}:{nav}", height=height,
                 on_select="rerun" if ref else "ignore", selection_mode="single-row")
    st.download_button("Download these rows (CSV)", for_csv(rows), file_name=f"{file_stub}.csv", mime="text/csv",
                       key=f"csv:{name}", icon=":material/download:", on_click=audit_export,
                       args=(view, f"{file_stub}.csv"))
    if ref is not None and event is not None and getattr(event, "selection", None) and event.selection.rows:
        i = event.selection.rows[0]
        source = ref[0] if ref[0] in rows.columns else "id"
        value = rows[source][i]
        if value is not None:
            st.session_state[NAV] = nav + 1
            st.switch_page(routes.PAGE["case"].file, query_params=view.params(case=value, kind=ref[1], **back))
