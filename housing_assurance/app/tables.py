"""Tables of cases as people read them: team names, words for codes, UK dates, "—" for nothing recorded;
every row opens the Case page; every table downloads, as the raw CSV and as a formatted Excel file."""

from __future__ import annotations

from datetime import datetime

import polars as pl
import streamlit as st

from housing_assurance import exports, routes
from housing_assurance.app import data
from housing_assurance.app.shell import audit_export, current_user, scope_words
from housing_assurance.app.state import View, page_param
from housing_assurance.breakdowns import NONE_KEY
from housing_assurance.db import LONDON
from housing_assurance.exports import MONEY, label
from housing_assurance.kpis import Kpi
from housing_assurance.words import NO_DATA, date_text, week_text

NAV = "_nav_count"  # bumped whenever a table or chart selection navigates, to forget that selection
CASE_URL_PATH = routes.PAGE["case"].url_path  # links in tables are relative URLs
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "accounting"  # pounds with thousands separated and pence: 1,234.50 (the heading says £)
ROW_HEIGHT = 35  # st.dataframe's row height in pixels, to tell when a table scrolls


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


def display_frame(view: View, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows as people read them: team and contractor names, words for codes, "—" for nothing recorded.
    The same rows in the same order; only how values are written changes (the CSV keeps the codes)."""
    out = exports.names_and_words(rows, data.team_names(view.key), data.contractor_names(view.key))
    exprs = [pl.col(n).fill_null(NO_DATA) if t == pl.Utf8 else pl.col(n).round(1)
             for n, t in out.schema.items() if t == pl.Utf8 or (t == pl.Float64 and n not in MONEY)]
    return out.with_columns(exprs) if exprs else out


def export_context(view: View, title: str, week: str | None = None, notes: tuple[str, ...] = ()) -> exports.Context:
    """Whose table a download is: the landlord, the week (or what else it is as of), the scope, when and for whom."""
    extract = data.load_extract(view.key)
    return exports.Context(
        title=title, landlord=extract.landlord, week=week or week_text(view.as_of), scope=scope_words(view),
        made_at=datetime.now(LONDON).replace(tzinfo=None), made_for=current_user().email, notes=notes,
        team_names=data.team_names(view.key), contractor_names=data.contractor_names(view.key))


def as_extracted(view: View) -> str:
    """What a table not of one week is as of: the extract as it stands."""
    when = data.load_extract(view.key).extracted_at
    return f"as the extract stands (extracted {date_text(when)})" if when else "as the extract stands"


def downloads(view: View, frame: pl.DataFrame, stem: str, title: str, *, key: str, week: str | None = None,
              notes: tuple[str, ...] = (), readable: pl.DataFrame | None = None) -> None:
    """The table's two downloads side by side: the raw CSV and the formatted Excel file (exports.py), of
    `frame`, or for the Excel file of `readable` where the rows' names are not in `frame`.

    Both files are made only when their button is clicked (Streamlit calls the function then), so a
    page does not pay for files nobody asked for; each download is recorded in the audit trail.
    """
    context = export_context(view, title, week, notes)
    readable = frame if readable is None else readable
    with st.container(horizontal=True, gap="small"):
        st.download_button("Download (CSV)", lambda: exports.to_csv(frame), file_name=f"{stem}.csv",
                           mime="text/csv", key=f"csv:{key}", icon=":material/download:",
                           help="The rows as they are: ids, codes and ISO dates, for other systems.",
                           on_click=audit_export, args=(view, f"{stem}.csv"))
        st.download_button("Download (Excel)", lambda: exports.to_xlsx(readable, context), file_name=f"{stem}.xlsx",
                           mime=XLSX, key=f"xlsx:{key}", icon=":material/table_view:",
                           help="For reading: names, UK dates, whole days, and whose data it is.",
                           on_click=audit_export, args=(view, f"{stem}.xlsx"))


def case_table(view: View, rows: pl.DataFrame, k: Kpi | None, name: str, file_stub: str,
               height: int | str = "auto", back: dict[str, str | None] | None = None,
               ref: tuple[str, str] | None = None, title: str | None = None,
               notes: tuple[str, ...] = ()) -> None:
    """A list of cases (as the user may see them: blocks.visible), each row opening the Case page (link,
    or select the row), with its CSV and Excel downloads (headed `title`, the KPI's by default, and
    `notes`). `back` (from: the page, and the list's kpi, by, value) goes into each case's URL so the Case
    page can lead back to this list."""
    back = back or {}
    ref = ref or (case_ref(k) if k else None)
    shown = display_frame(view, rows.drop("as_of") if "as_of" in rows.columns else rows)
    if ref is not None and ref[0] not in shown.columns and ref[0] == "complaint_id":
        ref = ("id", ref[1])  # the complaint id is the row id (dropped above as a duplicate)
    shown = exports.reason_first(shown)
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
    downloads(view, rows, file_stub, title or (k.title if k else name), key=name,
              notes=_bar_note(view, name) + notes)
    if ref is not None and event is not None and getattr(event, "selection", None) and event.selection.rows:
        i = event.selection.rows[0]
        source = ref[0] if ref[0] in rows.columns else "id"
        value = rows[source][i]
        if value is not None:
            st.session_state[NAV] = nav + 1
            st.switch_page(routes.PAGE["case"].file, query_params=view.params(case=value, kind=ref[1], **back))


def _bar_note(view: View, name: str) -> tuple[str, ...]:
    """A drill-down to one bar of a breakdown lists only that bar's rows: the file says so."""
    by, value = page_param("by"), page_param("value")
    if not name.startswith("drill:") or not by or value is None:
        return ()
    shown = "not recorded" if value == NONE_KEY else exports.names_and_words(
        pl.DataFrame({by: [value]}), data.team_names(view.key), data.contractor_names(view.key))[by][0]
    return (f"Only the rows whose {label(by).lower()} is {shown}.",)
