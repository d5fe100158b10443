"""The app's building blocks: sidebar, KPI tiles, case lists, trends, breakdowns, the case story.

Pages in pages/ only lay these out. Every figure comes from the KPI functions (through the figure
store, which equals kpis.compute), every list of cases from kpis.cases, every chart from charts.py.
Conventions kept everywhere: UK dates (23 Nov 2026), £, percentages to one decimal place, "—" for
no data, red/amber/green always with a word and a symbol, and never a resident's vulnerability type
outside the Vulnerability and records page.
"""

from __future__ import annotations

import html
import re
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import streamlit as st

from housing_assurance import app_support as app
from housing_assurance import audit, charts, signin
from housing_assurance.access import VULNERABILITY_DETAIL_COLUMNS, User, no_team_words, user_scope
from housing_assurance.breakdowns import CLOCK_NAMES, CLOCK_SHORT_NAMES, cases_behind_bar, dimensions_for, humanise
from housing_assurance.formatting import NO_DATA, format_date, format_kpi_value
from housing_assurance.kpis import KPIS, WHOLE_LANDLORD, Kpi, week_period
from housing_assurance.scorecard import DOMAINS, RAG_LABELS
from housing_assurance.settings import targets
from housing_assurance.timeline import case_in_scope

PAGE_FILES = {
    "overview": "pages/overview.py",
    "dm": "pages/damp_mould.py",
    "rp": "pages/repairs.py",
    "cx": "pages/complaints.py",
    "ct": "pages/contractors.py",
    "vu": "pages/vulnerability.py",
    "dq": "pages/vulnerability.py",
    "case": "pages/case.py",
    "about": "pages/about.py",
}
CASE_URL_PATH = "case"  # the Case page's url_path in app.py (links in tables are relative URLs)
PAGE_KEYS = ("trend", "breakdown", "by", "whole_home")
RAG_BADGE = {"green": "green", "amber": "orange", "red": "red", None: "gray"}
_NAV = "_nav_count"  # bumped whenever a table or chart selection navigates, to forget that selection

# ---------------------------------------------------------------------------------------- start-up

STYLE = """<style>
.kpi-title {font-weight: 600; font-size: 0.9rem; line-height: 1.3; min-height: 2.6em; color: #1F2933;}
[data-testid="stMetricValue"] {font-size: 2rem;}
.spark {margin: 0.1rem 0 0.6rem 0; line-height: 0;}
</style>"""


def sign_in() -> User:
    """Before anything else: who is asking, and that the extract exists (the demo on first start).

    Outside demo mode nobody is let past sign-in before the extract is looked at, so an anonymous
    visitor cannot start the demo's generation. Demo mode reads its users from the demo's own access
    file, which is written with the demo, so there the extract comes first.
    """
    folder = app.data_folder()
    if signin.demo_mode():
        _ensure_extract(folder)
    user = signin.current_user()
    _ensure_extract(folder)
    st.session_state["_user"] = user
    return user


def _ensure_extract(folder: Path) -> None:
    if app.needs_demo(folder):
        with st.spinner(f"Generating the demo landlord's extract in {folder} (first start only, about "
                        "20 seconds)…"):
            app.make_demo(folder)
    if not (folder / "manifest.json").exists() and not folder.is_dir():
        st.error(f"No extract found in {folder}. Set HOUSING_ASSURANCE_DATA to an extract folder.")
        st.stop()


def start() -> app.View:
    """Open the extract, read the URL, draw the sidebar for the signed-in user's scope."""
    st.session_state["_activity"] = app.ACTIVITY.begin()
    _run.in_app = True
    key = app.data_key(app.data_folder())
    with st.spinner("Opening the extract…"):
        extract = app.load_extract(key)
        weeks = app.selectable_weeks(extract)
    app.adopt_url(PAGE_KEYS)
    st.markdown(STYLE, unsafe_allow_html=True)
    user = current_user()
    allowed = user_scope(extract, user)
    if allowed.teams == ():  # a manager no team names: say so rather than show empty figures
        st.warning(no_team_words(user))
        st.stop()
    view = sidebar(key, weeks, allowed)
    st.session_state["_view"] = view
    return view


def finish(view: app.View | None) -> None:
    """After the page is drawn: warm every week's figures in the background (once per extract)."""
    _run.in_app = False
    app.ACTIVITY.end(st.session_state.pop("_activity", 0))
    if view is not None:
        app.start_warm_up(view.key)


_run = threading.local()  # whether app.py is running this script run (it sets the view up)


def current_view() -> app.View:
    """The view app.py set up for this run.

    Streamlit runs a file of pages/ on its own when it has not yet seen st.navigation in this
    process (its older pages-folder convention: the server's first request for such a page, and
    every AppTest run after switch_page). Then the app is rerun through app.py, which lists the
    pages and draws the sidebar, as st.navigation would have arranged.
    """
    if not getattr(_run, "in_app", False):
        from streamlit.runtime.pages_manager import PagesManager

        PagesManager.uses_pages_directory = False
        st.rerun()
    return st.session_state["_view"]


def _week_label(iso: str) -> str:
    d = date.fromisoformat(iso)
    return f"Week ending {d:%a} {format_date(d)}"


def _step_week(weeks: list[str], step: int) -> None:
    current = st.session_state.get(app.WIDGET + "as_of", weeks[0])
    i = weeks.index(current) if current in weeks else 0
    st.session_state[app.WIDGET + "as_of"] = weeks[min(max(i + step, 0), len(weeks) - 1)]


def current_user() -> User:
    """The signed-in user of this session (set by start())."""
    return st.session_state["_user"]


def sees_details(page: str) -> bool:
    """Vulnerability types appear only on the Vulnerability page, and only to roles allowed to see them."""
    return page == "vu" and current_user().role.sees_vulnerability_details


def audit_once(view: app.View, action: str, target: str) -> None:
    """Record what the user opened, once per session and view (a rerun is not a new look)."""
    seen = st.session_state.setdefault("_audited", set())
    key = (action, target, view.as_of, view.scope_args)
    if key not in seen:
        seen.add(key)
        audit.record(current_user().email, action, view.scope, target, view.as_of.isoformat())


def _audit_export(view: app.View, what: str) -> None:
    audit.record(current_user().email, "export", view.scope, what, view.as_of.isoformat())


def sidebar(key: str, weeks: list[date], allowed=None) -> app.View:
    """Reporting week (with previous/next), region and team; returns the view they define."""
    extract = app.load_extract(key)
    regions, teams = app.regions_and_teams(key)
    if allowed is not None and allowed.teams is not None:  # a manager picks among their own teams
        teams = teams.filter(pl.col("team_id").is_in(list(allowed.teams)))
        regions = [r for r in regions if r in set(teams["region"].to_list())]
    iso_weeks = [w.isoformat() for w in weeks]
    notes = []
    as_of_key, region_key, team_key = (app.WIDGET + n for n in app.GLOBAL_PARAMS)
    chosen, note = app.parse_week(st.session_state.get(as_of_key), weeks)
    if note:
        notes.append(note)
    st.session_state[as_of_key] = chosen.isoformat()
    region = st.session_state.get(region_key) or ""
    if region and region not in regions:
        notes.append(f"There is no region “{region}” in this extract; showing the whole landlord.")
        region = ""
    st.session_state[region_key] = region
    team_ids = teams.filter(pl.col("region") == region) if region else teams
    team = st.session_state.get(team_key) or ""
    if team and team not in teams["team_id"].to_list():
        notes.append(f"There is no team “{team}” in this extract.")
        team = ""
    elif team and team not in team_ids["team_id"].to_list():
        team = ""  # the team is not in the region just chosen
    st.session_state[team_key] = team
    names = dict(zip(teams["team_id"].to_list(), teams["team_name"].to_list(), strict=True))

    with st.sidebar:
        st.markdown(f"**{extract.landlord}**")
        st.selectbox("Reporting week", iso_weeks, key=as_of_key, format_func=_week_label,
                     help="Monday to Sunday. The latest is the last complete week before the extract was taken.")
        left, right = st.columns(2)
        i = iso_weeks.index(st.session_state[as_of_key])
        left.button("◀ Previous", on_click=_step_week, args=(iso_weeks, 1), disabled=i == len(iso_weeks) - 1,
                    width="stretch", key="prev_week")
        right.button("Next ▶", on_click=_step_week, args=(iso_weeks, -1), disabled=i == 0, width="stretch",
                     key="next_week")
        st.selectbox("Region", [""] + regions, key=region_key,
                     format_func=lambda r: r or "All regions")
        st.selectbox("Team", [""] + team_ids["team_id"].to_list(), key=team_key,
                     format_func=lambda t: names.get(t, t) if t else "All teams")
        for n in notes:
            st.warning(n)
        extracted = extract.extracted_at
        st.caption(f"Data extracted {format_date(extracted)}." if extracted else "Extract date unknown.")
    view = app.View(key=key, as_of=date.fromisoformat(st.session_state[as_of_key]),
                    region=st.session_state[region_key] or None, team=st.session_state[team_key] or None,
                    allowed=allowed if allowed is not None else WHOLE_LANDLORD, weeks=tuple(weeks))
    with st.sidebar:
        pack_button(view)
    return view


def _ask_for_pack(wanted: tuple) -> None:
    st.session_state["_pack_asked"] = wanted


def pack_button(view: app.View) -> None:
    """The weekly PDF pack for this week and scope: built on request (it takes seconds), then offered."""
    ready = st.session_state.get("_pack")
    wanted = (view.key, view.as_of, view.scope_args)
    if ready is not None and ready[0] == wanted:
        st.download_button("Download the PDF pack", ready[1], file_name=ready[2], mime="application/pdf",
                           icon=":material/picture_as_pdf:", width="stretch", key="pack_download",
                           on_click=_audit_export, args=(view, ready[2]))
        return
    # The request is kept by a callback, not read from the button's value: a rerun that starts before
    # this line is reached (the app's own, on a first visit) would otherwise lose the click.
    st.button("Prepare the PDF pack", icon=":material/picture_as_pdf:", width="stretch", key="pack_build",
              help="The weekly pack for this week and scope, as the scheduler produces it.",
              on_click=_ask_for_pack, args=(wanted,))
    if st.session_state.pop("_pack_asked", None) == wanted:
        from housing_assurance.pack import PackError, build_pack

        bar = st.progress(0.0, text="Preparing the pack…")
        try:
            user = current_user()
            pdf = build_pack(app.load_extract(view.key), view.as_of, view.scope,
                             progress=lambda stage, f: bar.progress(min(max(f, 0.0), 1.0), text=stage),
                             prepared_for=f"{user.email} ({user.role.name})",
                             risk_scores=app.risk_scores(view.key, view.as_of))
        except PackError as exc:
            bar.empty()
            st.error(str(exc))
            return
        bar.empty()
        name = f"assurance_pack_{view.as_of}{'_' + view.region if view.region else ''}" \
               f"{'_' + view.team if view.team else ''}.pdf"
        st.session_state["_pack"] = (wanted, pdf, name)
        st.rerun()


# ---------------------------------------------------------------------------------------- text


def scope_words(view: app.View) -> str:
    regions, teams = app.regions_and_teams(view.key)
    names = dict(zip(teams["team_id"].to_list(), teams["team_name"].to_list(), strict=True))
    parts = []
    if view.region:
        parts.append(f"{view.region} region")
    if view.team:
        parts.append(names.get(view.team, view.team))
    return " · ".join(parts) or "Whole landlord"


def week_words(as_of: date) -> str:
    start, end = week_period(as_of)
    return f"week ending {end:%A} {format_date(end)} ({start:%-d %b} to {format_date(end)})"


def header(title: str, view: app.View, intro: str | None = None, scorecard: bool = True) -> None:
    """A page's title, scope and week, and (for pages of KPI tiles) how to read a tile."""
    st.title(title)
    st.markdown(f"**{scope_words(view)}** · {week_words(view.as_of)}")
    if intro:
        st.caption(intro)
    if scorecard:
        st.caption("Each figure shows its change since the previous week (green: better, vermillion: worse, grey: a "
                   "volume with no better direction), its status against target in words, and its last 13 weeks.")


def kpi_value(k: Kpi, value: float | None) -> str:
    text = format_kpi_value(k, value)
    return f"{text} days" if k.unit == "days" and value is not None else text


def change_text(k: Kpi, change: float | None) -> str | None:
    if change is None:
        return None
    if k.kind == "pct":
        return f"{change:+.1f} points"
    if k.kind == "sum_gbp":
        return f"{'+' if change >= 0 else '-'}£{abs(change):,.2f}"
    if k.kind in ("count", "sum"):
        return f"{change:+,.0f}"
    return f"{change:+,.1f}"


def target_text(k: Kpi, target: float | None, higher: bool | None) -> str:
    if target is None or higher is None:
        return "A volume: no target"
    sign = "≥" if higher else "≤"
    return f"Target {sign} {format_kpi_value(k, target)}"


def rows_behind(k: Kpi, fig: dict) -> int | None:
    """How many rows the figure's drill-down lists (None when the figure does not say)."""
    if k.kind == "pct":
        return fig["denominator"]
    if k.kind == "per_1000_homes":
        return fig["numerator"]
    if k.kind == "count":
        return int(fig["value"] or 0)
    return None


def cases_word(k: Kpi, n: int | None) -> str:
    noun = {"rp_appointments": "appointments", "rp_job_surveys": "answers", "vu_households": "households",
            "vu_vulnerability_records": "vulnerability records", "validation": "findings",
            "cx_acknowledgements_due": "acknowledgements"}.get(k.query)
    if noun is None:
        noun = "jobs" if k.query.startswith("rp_") else "complaints" if k.query.startswith("cx_") else "cases"
    if n is None:
        return f"See the {noun}"
    if n == 0:
        return f"No {noun} to list"
    if n == 1:
        noun = noun.removesuffix("s").replace("answer", "answer")
    return f"See the {n:,} {noun}"


# ---------------------------------------------------------------------------------------- KPI tiles


def kpi_tiles(view: app.View, kpi_ids: list[str] | tuple[str, ...], page: str, per_row: int = 4,
              by_domain: bool = False) -> None:
    """A tile per KPI: value, RAG with word and symbol, target, change since last week, 13-week
    sparkline and a link to the cases behind the figure (grouped under domain headings if asked)."""
    card = app.scorecard(view, kpi_ids)
    groups = card.partition_by("domain", maintain_order=True) if by_domain else [card]
    for group in groups:
        if by_domain:
            st.markdown(f"##### {group['domain'][0]}")
        rows = list(group.iter_rows(named=True))
        for start in range(0, len(rows), per_row):
            cols = st.columns(per_row)
            for col, r in zip(cols, rows[start:start + per_row], strict=False):
                with col, st.container(border=True):
                    _tile(view, r, page)


def _tile(view: app.View, r: dict, page: str) -> None:
    k = KPIS[r["kpi_id"]]
    st.markdown(f'<div class="kpi-title">{html.escape(k.title)}</div>', unsafe_allow_html=True)
    change = r["change"]
    if change is not None and abs(change) < 1e-9:
        delta, colour, arrow = "no change", "off", "off"
    else:
        delta = change_text(k, change)
        colour = {True: "normal", False: "inverse"}.get(r["higher_is_better"], "off")
        arrow = "auto"
    st.metric(k.title, kpi_value(k, r["value"]), delta=delta, delta_color=colour, delta_arrow=arrow,
              help=f"KPI id: {k.id}", label_visibility="collapsed")
    word, symbol = RAG_LABELS[r["rag"]]
    if r["value"] is None:
        status, colour_name = "· No data this week", "gray"
    else:
        status, colour_name = f"{symbol} {word}", RAG_BADGE[r["rag"]]
    st.badge(status, color=colour_name)
    detail = target_text(k, r["target"], r["higher_is_better"])
    if k.kind == "pct" and r["denominator"]:
        detail += f" · {r['numerator']:,} of {r['denominator']:,}"
    elif k.kind == "per_1000_homes" and r["denominator"]:
        detail += f" · {r['numerator']:,} over {r['denominator']:,} homes"
    st.caption(detail)
    dates = r["history_as_of"]
    words = f"{k.title}, weekly, {format_date(dates[0])} to {format_date(dates[-1])}" if dates else k.title
    st.markdown(f'<div class="spark">{charts.sparkline_svg(r["history"], label=words)}</div>',
                unsafe_allow_html=True)
    st.page_link(PAGE_FILES[page], label=cases_word(k, rows_behind(k, r)) + " →", query_params=view.params(kpi=k.id))


# ---------------------------------------------------------------------------------------- tables of cases


def _case_ref(k: Kpi) -> tuple[str, str] | None:
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


MONEY = {"compensation_offered_gbp", "compensation_paid_gbp", "cost_gbp", "avg_cost_gbp"}
LABELS = {"id": "Id", "meets": "Meets", "team_id": "Team", "contractor_id": "Contractor id", "as_of": "Week ending",
          "is_in_house": "In-house", "days_open": "Days open", "category": "Category"}


def _label(col: str) -> str:
    if col in LABELS:
        return LABELS[col]
    text = col.removeprefix("is_").removeprefix("has_").replace("_gbp", "").replace("_pct", " %")
    text = text.replace("_at", "").replace("_on", "") if col.endswith(("_at", "_on")) else text
    text = re.sub(r"([a-z])(\d)", r"\1 \2", text.replace("_", " "))
    return text[:1].upper() + text[1:]


def _grid(data, **kwargs):
    """st.dataframe with the house style: "—" where nothing is recorded, full width."""
    kwargs.setdefault("placeholder", NO_DATA)
    return st.dataframe(data, **kwargs)


def column_config(frame: pl.DataFrame) -> dict:
    cfg: dict = {}
    for name, dtype in frame.schema.items():
        label = _label(name)
        if dtype == pl.Date:
            cfg[name] = st.column_config.DateColumn(label, format="D MMM YYYY")
        elif isinstance(dtype, pl.Datetime):
            cfg[name] = st.column_config.DatetimeColumn(label, format="D MMM YYYY, HH:mm")
        elif name in MONEY:
            cfg[name] = st.column_config.NumberColumn(label, format="£%.2f")
        elif name.endswith("_pct"):
            cfg[name] = st.column_config.NumberColumn(label, format="%.1f%%")
        elif dtype == pl.Float64:
            cfg[name] = st.column_config.NumberColumn(label, format="%.1f")
        elif dtype.is_integer():
            cfg[name] = st.column_config.NumberColumn(label, format="localized")
        else:
            cfg[name] = st.column_config.Column(label)
    return cfg


def _for_csv(frame: pl.DataFrame) -> bytes:
    lists = [c for c, t in frame.schema.items() if isinstance(t, pl.List)]
    frame = frame.with_columns(pl.col(c).list.join("; ") for c in lists) if lists else frame
    return frame.write_csv().encode()


def visible_rows(rows: pl.DataFrame, sensitive_allowed: bool) -> pl.DataFrame:
    """The rows as a reader may see them: a vulnerability's nature only on the Vulnerability page."""
    if sensitive_allowed:
        return rows
    return rows.drop([c for c in VULNERABILITY_DETAIL_COLUMNS if c in rows.columns])


ENUMS = {"hazard_level", "root_cause", "source", "category", "priority", "outcome", "status_in_extract", "tenure",
         "source_system", "vulnerability_type", "ombudsman_outcome", "severity", "check", "final_stage"}
SHORT_CLOCKS = {"emergency_made_safe_24h": "24-hour emergency", "investigated_10wd": "10-day investigation",
                "summary_3wd": "3-day summary", "safety_work_5wd": "5-day safety work",
                "further_work_12wk": "12-week further work"}


def display_frame(view: app.View, rows: pl.DataFrame) -> pl.DataFrame:
    """The rows as people read them: team names, words for codes, "—" for nothing recorded.
    The same rows in the same order; only how values are written changes (the CSV keeps the codes)."""
    _, teams = app.regions_and_teams(view.key)
    names = dict(zip(teams["team_id"].to_list(), teams["team_name"].to_list(), strict=True))
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
            exprs.append(pl.col(name).replace_strict(CLOCK_NAMES, default=pl.col(name)))
        elif name == "clocks_breached":
            expr = pl.col(name)
            for code, words in SHORT_CLOCKS.items():
                expr = expr.str.replace_all(code, words, literal=True)
            exprs.append(expr.fill_null(NO_DATA))
        elif name in ENUMS and dtype == pl.Utf8:
            words = pl.col(name).str.replace_all("_", " ")
            exprs.append((words.str.slice(0, 1).str.to_uppercase() + words.str.slice(1)).fill_null(NO_DATA))
        elif dtype == pl.Utf8:
            exprs.append(pl.col(name).fill_null(NO_DATA))
    return out.with_columns(exprs) if exprs else out


def case_table(view: app.View, rows: pl.DataFrame, k: Kpi | None, name: str, file_stub: str,
               sensitive_allowed: bool = False, height: int | str = "auto") -> None:
    """A list of cases: each row opens the Case page (link, or select the row), with a CSV download."""
    rows = visible_rows(rows, sensitive_allowed)
    ref = _case_ref(k) if k else None
    shown = display_frame(view, rows.drop("as_of") if "as_of" in rows.columns else rows)
    if ref is not None and ref[0] not in shown.columns and ref[0] == "complaint_id":
        ref = ("id", ref[1])  # the complaint id is the row id (dropped above as a duplicate)
    cfg = column_config(shown)
    if ref is not None and ref[0] in shown.columns:
        col, kind = ref
        link_col = "id" if col == "id" else "Open case"
        urls = [view.url(CASE_URL_PATH, case=v, kind=kind) if v not in (None, NO_DATA) else None
                for v in shown[col].to_list()]
        shown = shown.with_columns(pl.Series(link_col, urls, dtype=pl.Utf8))
        if link_col != "id":
            shown = shown.select([link_col] + [c for c in shown.columns if c != link_col])
        cfg[link_col] = st.column_config.LinkColumn(
            "Id" if link_col == "id" else "Case", display_text=r"case=([^&]*)",
            help="Opens the case's whole story in a new tab; or select the row to open it here")
    nav = st.session_state.get(_NAV, 0)
    event = _grid(shown, hide_index=True, column_config=cfg, key=f"rows:{name}:{nav}", height=height,
                         on_select="rerun" if ref else "ignore", selection_mode="single-row")
    st.download_button("Download these rows (CSV)", _for_csv(rows), file_name=f"{file_stub}.csv", mime="text/csv",
                       key=f"csv:{name}", icon=":material/download:", on_click=_audit_export,
                       args=(view, f"{file_stub}.csv"))
    if ref is not None and event is not None and getattr(event, "selection", None) and event.selection.rows:
        i = event.selection.rows[0]
        source = ref[0] if ref[0] in rows.columns else "id"
        value = rows[source][i]
        if value is not None:
            st.session_state[_NAV] = nav + 1
            st.switch_page(PAGE_FILES["case"], query_params=view.params(case=value, kind=ref[1]))


def drilldown(view: app.View, page: str) -> None:
    """The cases behind one figure (or one bar of a breakdown): exactly kpis.cases for the week and scope."""
    kpi_id = app.page_param("kpi")
    k = KPIS[kpi_id]
    by, value = app.page_param("by"), app.page_param("value")
    sensitive = sees_details(page)
    back = {"breakdown": kpi_id, "by": by} if by and value is not None else {}
    st.page_link(PAGE_FILES[page], label=f"← Back to {'the overview' if page == 'overview' else DOMAINS[page]}",
                 query_params=view.params(**back))
    st.title(k.title)
    st.markdown(f"**{scope_words(view)}** · {week_words(view.as_of)}")
    fig = app.figures(view, [kpi_id]).row(0, named=True)
    rows = app.cases(view.key, view.as_of, kpi_id, *view.scope_args)
    statement = _figure_statement(k, fig, len(rows))
    if by and value is not None:
        if by not in rows.columns or (by == "vulnerability_type" and not sensitive):
            st.error(f"These cases cannot be split by “{by}”.")
            return
        label = _bar_label(view, kpi_id, by, value)
        total = len(rows)
        rows = cases_behind_bar(rows, by, value)
        dim = dimensions_for(app.store(view.key), kpi_id, True)[by].lower()
        noun = cases_word(k, None).removeprefix("See the ")
        statement = (f"Only the {noun} whose {dim} is **{label}**: **{len(rows):,}** of the {total:,} behind "
                     f"the figure ({kpi_value(k, fig['value'])} for {scope_words(view).lower()}).")
        if k.kind == "pct" and len(rows):
            met = int(rows["meets"].sum())
            statement += f" {met:,} of them meet it: {100 * met / len(rows):.1f}%."
    st.markdown(statement)
    audit_once(view, "drill_down", kpi_id + (f" by {by} = {value}" if by and value is not None else ""))
    case_table(view, rows, k, name=f"drill:{kpi_id}", file_stub=f"{kpi_id}_{view.as_of}", sensitive_allowed=sensitive,
               height=min(40 + 35 * max(len(rows), 1), 700))
    app.write_url(view, kpi=kpi_id, by=by, value=value)


def _bar_label(view: app.View, kpi_id: str, by: str, key: str) -> str:
    frame = app.breakdown(view, kpi_id, by).filter(pl.col("key") == key)
    return frame["label"][0] if len(frame) else key


def _figure_statement(k: Kpi, fig: dict, n: int) -> str:
    value = kpi_value(k, fig["value"])
    noun = cases_word(k, None).removeprefix("See the ")
    if k.kind == "pct":
        if not fig["denominator"]:
            return f"**{value}**: no {noun} this week, so there is no percentage."
        misses = fig["denominator"] - fig["numerator"]
        return (f"**{value}**: {fig['numerator']:,} of {fig['denominator']:,} {noun} meet it (*Meets* ticked); "
                f"{misses:,} do not. All **{n:,}** are listed.")
    if k.kind == "per_1000_homes":
        return (f"**{value}** per 1,000 homes: {fig['numerator']:,} {noun} over {fig['denominator']:,} homes in "
                f"stock. The **{n:,}** {noun} are listed.")
    if k.kind == "median":
        return f"**{value}**: the median over the **{n:,}** {noun} listed."
    if k.kind == "mean":
        return f"**{value}**: the average over the **{n:,}** {noun} listed."
    if k.kind in ("sum", "sum_gbp"):
        return f"**{value}**: the total over the **{n:,}** rows listed."
    return f"**{value}** {k.title[:1].lower() + k.title[1:]}. All **{n:,}** are listed, oldest or most overdue first."


def exception_table(view: app.View, kpi_id: str, title: str, page: str, limit: int | None = None) -> None:
    """A KPI's case list shown on its page (breaches, overdue work), oldest or most overdue first."""
    k = KPIS[kpi_id]
    rows = app.cases(view.key, view.as_of, kpi_id, *view.scope_args)
    st.subheader(f"{title} ({len(rows):,})")
    if rows.is_empty():
        st.caption("None this week.")
        return
    shown = rows.head(limit) if limit else rows
    if limit and len(rows) > limit:
        st.caption(f"The {limit} oldest or most overdue are shown; the full list is one click away.")
    case_table(view, shown, k, name=f"exc:{kpi_id}", file_stub=f"{kpi_id}_{view.as_of}",
               sensitive_allowed=page == "vu", height=min(38 + 35 * len(shown), 420))
    if limit and len(rows) > limit:
        st.page_link(PAGE_FILES[page], label=f"All {len(rows):,} →", query_params=view.params(kpi=kpi_id))


# ---------------------------------------------------------------------------------------- trends, breakdowns


def _choice(name: str, options: list[str], default: str) -> str:
    """Keep a URL-backed widget's state valid before the widget is drawn."""
    key = app.WIDGET + name
    if st.session_state.get(key) not in options:
        st.session_state[key] = default if default in options else options[0]
    return key


def trends(view: app.View, kpi_ids: list[str], default: str) -> str:
    """13- and 52-week trends of one KPI (chosen), target as a dashed line. Returns the KPI shown."""
    st.subheader("Trends")
    key = _choice("trend", kpi_ids, default)
    kpi_id = st.selectbox("Trend of", kpi_ids, key=key, format_func=lambda i: KPIS[i].title)
    k = KPIS[kpi_id]
    series = app.figures(view, [kpi_id], weeks=app.TREND_WEEKS).sort("as_of")
    goal = targets().get(kpi_id)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.trend_chart(series.tail(13), k, goal, title="Last 13 weeks"),
                        config={"displayModeBar": False}, key=f"trend13:{kpi_id}")
    with right:
        st.plotly_chart(charts.trend_chart(series, k, goal, title="Last 52 weeks"),
                        config={"displayModeBar": False}, key=f"trend52:{kpi_id}")
    return kpi_id


def breakdown_section(view: app.View, kpi_ids: list[str], page: str, default: str,
                      default_by: str | None = None) -> tuple[str, str | None]:
    """One KPI this week split by region, team, contractor, category …; each bar opens its cases."""
    st.subheader("Breakdown")
    sensitive = sees_details(page)
    left, right = st.columns(2)
    kpi_key = _choice("breakdown", kpi_ids, default)
    kpi_id = left.selectbox("Break down", kpi_ids, key=kpi_key, format_func=lambda i: KPIS[i].title)
    dims = dimensions_for(app.store(view.key), kpi_id, sensitive_allowed=sensitive)
    if not dims:
        st.caption("This figure is not split.")
        return kpi_id, None
    fixed = {"region"} if view.region else set()
    fixed |= {"region", "team_id"} if view.team else set()  # a single bar says nothing
    preferred = [d for d in ([default_by] if default_by else []) + list(dims) if d in dims and d not in fixed]
    by_key = _choice("by", list(dims), preferred[0] if preferred else next(iter(dims)))
    by = right.selectbox("By", list(dims), key=by_key, format_func=lambda d: dims[d])
    k = KPIS[kpi_id]
    frame = app.breakdown(view, kpi_id, by)
    if frame.is_empty():
        st.caption("No rows behind this figure this week.")
        return kpi_id, by
    suffix = "%" if k.kind == "pct" else ""
    what = "cases" if k.kind == "per_1000_homes" else k.title.lower()
    title = f"{k.title} by {dims[by].lower()}" + (" (count of cases)" if k.kind == "per_1000_homes" else "")
    if k.kind in ("count", "per_1000_homes", "sum"):
        fig = charts.count_breakdown_bar(frame, "label", "value", title)
    else:
        fig = charts.breakdown_bar(frame, "label", "value", title, value_suffix=suffix)
    nav = st.session_state.get(_NAV, 0)
    chosen = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key=f"bars:{kpi_id}:{by}:{nav}",
                             config={"displayModeBar": False})
    points = (chosen.selection.points if chosen is not None and getattr(chosen, "selection", None) else []) or []
    if points:
        label = points[0].get("customdata") or points[0].get("y") or points[0].get("x")
        keys = dict(zip(frame["label"].to_list(), frame["key"].to_list(), strict=True))
        if label in keys:
            st.session_state[_NAV] = nav + 1
            st.switch_page(PAGE_FILES[page], query_params=view.params(kpi=kpi_id, by=by, value=keys[label]))
    table = frame.with_columns(
        pl.Series("open", [f"{_self_url(page)}?{_query(view, kpi=kpi_id, by=by, value=key)}"
                           for key in frame["key"].to_list()]))
    counted = k.kind in ("count", "per_1000_homes")  # the figure of a bar is its number of rows
    shown = table.select(
        pl.col("label").alias(dims[by]),
        *([] if counted else [pl.col("value").alias(what.capitalize() if k.kind != "pct" else "Figure %")]),
        pl.col("cases").alias("Rows"), pl.col("open"))
    _grid(shown, hide_index=True, key=f"bartable:{kpi_id}:{by}", column_config={
        "open": st.column_config.LinkColumn("Cases", display_text="Open the rows"),
        shown.columns[1]: st.column_config.NumberColumn(
            format="%.1f%%" if suffix else "localized" if k.kind in ("count", "per_1000_homes", "sum") else "%.1f")
        if not counted else st.column_config.NumberColumn(format="localized"),
        "Rows": st.column_config.NumberColumn(format="localized"),
    })
    st.caption("Select a bar, or open its rows from the table: each lists exactly the rows that make the bar.")
    return kpi_id, by


def _self_url(page: str) -> str:
    return {"overview": ".", "dm": "damp-and-mould", "rp": "repairs", "cx": "complaints", "ct": "contractors",
            "vu": "vulnerability", "dq": "vulnerability"}[page]


def _query(view: app.View, **page: str | None) -> str:
    from urllib.parse import urlencode

    return urlencode(view.params(**page))


def domain_kpis(domain: str) -> list[str]:
    return [k.id for k in KPIS.values() if DOMAINS[k.domain] == DOMAINS[domain]]


# ---------------------------------------------------------------------------------------- overview


def freshness(view: app.View) -> None:
    """How fresh the data is, and whether the extract passed validation (with a link to the details).

    Validation runs in the background after the first page; until it has, this line checks again
    every two seconds and then redraws the page once."""
    ready = app.findings_ready(view.key) or not app.prefetching()
    if ready:
        _freshness_line(view)
        return

    @st.fragment(run_every=2)
    def waiting() -> None:
        if app.findings_ready(view.key):
            st.rerun(scope="app")
        _freshness_line(view)

    waiting()


def _freshness_line(view: app.View) -> None:
    extract = app.load_extract(view.key)
    when = format_date(extract.extracted_at) if extract.extracted_at else "at an unknown time"
    text = f"Data extracted {when}."
    if app.findings_ready(view.key) or not app.prefetching():
        f = app.findings(view.key)
        errors = f.filter(pl.col("severity") == "error")
        warnings = f.filter(pl.col("severity") == "warning")
        text += (f" Validation: {len(errors):,} error{'s' if len(errors) != 1 else ''}, "
                 f"{len(warnings):,} warning{'s' if len(warnings) != 1 else ''} "
                 f"({int(warnings['rows'].sum() or 0):,} rows).")
        if len(errors):
            text = "✕ " + text + " Some tables could not be used: figures that need them are missing."
    else:
        text += " Checking the extract against the contract…"
    cols = st.columns([5, 1])
    cols[0].caption(text)
    with cols[1]:
        st.page_link(PAGE_FILES["about"], label="About the data →", query_params=view.params())


# ---------------------------------------------------------------------------------------- contractors


def in_house_beside_external(view: app.View) -> None:
    """The ct.* pairs as bars: in-house beside external contractors, this week."""
    pairs = [("On time", "ct.in_house_on_time_pct", "ct.external_on_time_pct"),
             ("Fixed first time", "ct.in_house_first_time_fix_pct", "ct.external_first_time_fix_pct"),
             ("Residents satisfied", "ct.in_house_satisfaction_pct", "ct.external_satisfaction_pct")]
    figs = app.figures(view, [i for _, a, b in pairs for i in (a, b)])
    values = dict(zip(figs["kpi_id"].to_list(), figs["value"].to_list(), strict=True))
    rows = [{"measure": m, "group": g, "value": values[i]} for m, a, b in pairs
            for g, i in (("In-house", a), ("External contractors", b))]
    st.plotly_chart(charts.paired_bars(pl.DataFrame(rows), "measure", "group", "value",
                                       "In-house beside external contractors, this week"),
                    config={"displayModeBar": False}, key="paired")


def contractor_table(view: app.View) -> None:
    st.subheader("Each contractor over the 13 weeks")
    card = app.contractor_scorecard(view.key, view.as_of, *view.scope_args)
    if card is None:
        st.info("The per-contractor scorecard is not available in this version.")
        return
    from housing_assurance.contractors import SCORECARD_COLUMNS

    start = view.as_of - timedelta(days=90)
    st.caption(f"{format_date(start)} to {format_date(view.as_of)}: responsive jobs completed, appointments and "
               "surveys of each contractor's jobs in scope. In-house first, then external contractors, "
               "worst on time first.")
    shown = card.sort(["is_in_house", "on_time_pct"], descending=[True, False], nulls_last=True)
    shown = shown.with_columns(pl.when(pl.col("is_in_house")).then(pl.lit("In-house"))
                               .otherwise(pl.lit("External")).alias("is_in_house"))
    cols = [c for c in SCORECARD_COLUMNS if c in shown.columns]
    shown = shown.select(cols)
    cfg = column_config(shown)
    for c, label in SCORECARD_COLUMNS.items():
        if c in cfg:
            cfg[c] = st.column_config.NumberColumn(label, format="£%.2f" if c in MONEY else
                                                   "%.1f%%" if c.endswith("_pct") else "%d") \
                if c not in ("contractor_name", "is_in_house") else st.column_config.Column(label)
    _grid(shown, hide_index=True, column_config=cfg, key="contractor_scorecard")
    st.download_button("Download the scorecard (CSV)", _for_csv(card), file_name=f"contractors_{view.as_of}.csv",
                       mime="text/csv", key="csv:contractors", icon=":material/download:",
                       on_click=_audit_export, args=(view, f"contractors_{view.as_of}.csv"))


# ---------------------------------------------------------------------------------------- vulnerability


RECORD_KEEPING = ["rp.unverified_completion_pct", "rp.offline_record_pct", "dq.dm_open_without_job",
                  "vu.census_coverage_pct"]


def team_record_keeping(view: app.View) -> None:
    """Each team's record keeping beside the others, the selected team highlighted."""
    st.subheader("Record keeping, team by team")
    st.caption("Each team's own figures this week. Census coverage is the team's region's. "
               "Pick a team in the sidebar to highlight it.")
    frame = app.team_comparison(view, RECORD_KEEPING)
    names = dict(zip(frame["team_id"].to_list(), frame["team_name"].to_list(), strict=True))
    highlight = names.get(view.team) if view.team else None
    cols = st.columns(2)
    for i, kpi_id in enumerate(RECORD_KEEPING):
        k = KPIS[kpi_id]
        den = f"{kpi_id}:denominator"
        label, mark = "team_name", highlight
        if kpi_id == "vu.census_coverage_pct":  # a household figure: the same for every team of a region
            part = frame.filter(pl.col(den) > 0).unique("region", keep="first", maintain_order=True)
            mine = frame.filter(pl.col("team_id") == view.team)["region"].to_list() if view.team else []
            label, mark = "region", mine[0] if mine else None
        elif k.kind == "pct":
            part = frame.filter(pl.col(den) > 0)
        else:
            part = frame.filter(pl.col("team_id").is_in(_teams_with_function(view, ("damp_mould",))))
        with cols[i % 2]:
            if part.is_empty():
                st.caption(f"{k.title}: no team has rows this week.")
                continue
            title = k.title + (" (by region)" if label == "region" else "")
            st.plotly_chart(charts.team_comparison_chart(part, label, kpi_id, title, mark,
                                                         "%" if k.kind == "pct" else ""),
                            config={"displayModeBar": False}, key=f"teams:{kpi_id}")
    table = frame.select(
        pl.when(pl.col("team_id") == (view.team or "")).then(pl.lit("◆ ")).otherwise(pl.lit("")).alias("mark")
        + pl.col("team_name"), "region",
        *[pl.col(i) for i in RECORD_KEEPING])
    table = table.rename({"mark": "Team", "region": "Region"} | {i: KPIS[i].title for i in RECORD_KEEPING})
    cfg = {KPIS[i].title: st.column_config.NumberColumn(format="%.1f%%" if KPIS[i].kind == "pct" else "%d")
           for i in RECORD_KEEPING}
    order = ["Team", "Region"]
    for i in RECORD_KEEPING:  # each team's figure opens that team's rows, on the KPI's own page
        has_rows = (frame[f"{i}:denominator"] > 0 if KPIS[i].kind == "pct" else frame[i] > 0).fill_null(False)
        links = [f"{_self_url(HOME_PAGE[KPIS[i].domain])}?{_query(_team_view(view, t), kpi=i)}" if ok else None
                 for t, ok in zip(frame["team_id"].to_list(), has_rows.to_list(), strict=True)]
        table = table.with_columns(pl.Series(f"open:{i}", links))
        cfg[f"open:{i}"] = st.column_config.LinkColumn("", display_text="rows", width="small",
                                                       help=f"Each team's rows behind “{KPIS[i].title}”")
        order += [KPIS[i].title, f"open:{i}"]
    _grid(table, hide_index=True, column_config=cfg, column_order=order, key="team_table")
    st.download_button("Download the comparison (CSV)", _for_csv(frame), file_name=f"record_keeping_{view.as_of}.csv",
                       mime="text/csv", key="csv:teams", icon=":material/download:",
                       on_click=_audit_export, args=(view, f"record_keeping_{view.as_of}.csv"))


def _team_view(view: app.View, team: str) -> app.View:
    """The same week for one team alone (the team comparison's links)."""
    return app.View(key=view.key, as_of=view.as_of, team=team, allowed=view.allowed)


def _teams_with_function(view: app.View, functions: tuple[str, ...]) -> list[str]:
    extract = app.load_extract(view.key)
    teams = extract.sql("select team_id, function from teams")
    return teams.filter(pl.col("function").is_in(list(functions)))["team_id"].to_list()


# ---------------------------------------------------------------------------------------- case page


STATUS_WORDS = {"met": "✓ Met", "missed (done late)": "✕ Missed (done late)",
                "missed (not done)": "✕ Missed (not done)", "running": "… Running", "cancelled": "· Cancelled"}


def case_search(view: app.View) -> None:
    st.title("Case")
    st.markdown("Open a damp and mould case, a repair job or a complaint by its id, or follow a link from any "
                "list of cases.")
    with st.form("find_case"):
        text = st.text_input("Case, job or complaint id", placeholder="e.g. DM000253, J00003134 or CMP002979")
        if st.form_submit_button("Open") and text.strip():
            st.query_params.from_dict(view.params(case=text.strip()))
            st.session_state.pop(app._LAST_URL, None)
            st.rerun()
    app.write_url(view)


def case_page(view: app.View) -> None:
    case_id, kind = app.page_param("case"), app.page_param("kind")
    if not case_id:
        case_search(view)
        return
    story = app.case_story(view.key, case_id, kind, *view.scope_args, view.allowed.region, view.allowed.teams)
    if story is None:
        st.title("Case")
        st.warning(f"No damp and mould case, repair job or complaint in this extract has the id “{case_id}”.")
        app.write_url(view, case=case_id, kind=kind)
        return
    if not case_in_scope(story.place, view.allowed):
        st.title("Case")
        st.warning("This case is not in your scope: it belongs to a team you do not manage.")
        audit_once(view, "refused_case", case_id)
        return
    if not story.in_scope:
        st.title(story.title)
        st.warning(f"This case belongs to {story.place.get('team_name') or 'another team'} in "
                   f"{story.place.get('region') or 'no region'}, outside {scope_words(view)}.")
        st.page_link(PAGE_FILES["case"], label="Open it for the whole landlord",
                     query_params={"as_of": view.as_of.isoformat(), "case": story.id, "kind": story.kind})
        app.write_url(view, case=case_id, kind=kind)
        return
    audit_once(view, "open_case", story.id)
    _case_header(story)
    _case_facts(story)
    _case_clocks(story)
    _case_timeline(view, story)
    _case_other_reports(view, story)
    app.write_url(view, case=story.id, kind=story.kind, whole_home="1" if st.session_state.get(
        app.WIDGET + "whole_home") else None)


def _case_header(story) -> None:
    st.title(story.title)
    rec, place = story.record, story.place
    badges = []
    if story.kind == "dm":
        status = "Closed" if rec["closed_at"] else "Resolved, not closed" if rec["resolved_at"] else "Open"
        badges.append((status, "blue"))
        badges.append((f"Hazard: {humanise(rec['hazard_level']).lower()}"
                       if rec["hazard_level"] else "Hazard not yet assessed", "gray"))
    elif story.kind == "job":
        state = ("Completed" if rec["completed_at"] else "Cancelled" if rec["cancelled_at"] else "Open")
        badges.append((f"{state} · {humanise(rec['priority'])} {humanise(rec['category']).lower()}", "blue"))
    else:
        stage = 2 if rec["stage2_requested_at"] else 1
        done = rec["stage2_responded_at"] if stage == 2 else rec["stage1_responded_at"]
        badges.append((f"Stage {stage} · {'responded' if done else 'open'}", "blue"))
    if place.get("vulnerable_household"):
        badges.append(("⚑ Vulnerable household", "violet"))
    st.markdown(" ".join(f":{colour}-badge[{_badge_text(text)}]" for text, colour in badges))


def _status_note(status: str | None, ended_at: object) -> str:
    """The status column as the extract has it, flagged when its timestamps say otherwise (the
    figures always follow the timestamps)."""
    text = humanise(status)
    if status not in (None, "open") and ended_at is None:
        text += " (but no time recorded for it: counted as open)"
    elif status == "open" and ended_at is not None:
        text += " (but a closing time is recorded: counted by that time)"
    return text


def _badge_text(text: str) -> str:
    """Text safe inside a markdown badge (square brackets would end it)."""
    return text.replace("[", "(").replace("]", ")")


def _fact(label: str, value: object) -> str:
    if isinstance(value, datetime | date):
        value = format_date(value)
    return f"**{label}:** {value if value not in (None, '') else NO_DATA}"


def _case_facts(story) -> None:
    rec, place = story.record, story.place
    home = ", ".join(str(x) for x in (place.get("address"), place.get("postcode")) if x)
    left = [_fact("Home", f"{home} ({place.get('property_id')})"),
            _fact("Region and area", " · ".join(str(x) for x in (place.get("region"), place.get("area")) if x)),
            _fact("Team", place.get("team_name") or place.get("team_id")),
            _fact("Home type", f"{humanise(place.get('property_type'))}, built "
                  f"{place.get('build_year') or 'year unknown'}, EPC {place.get('epc_rating') or NO_DATA}")]
    if story.kind == "dm":
        right = [_fact("Reported", rec["reported_at"]), _fact("Reported by", humanise(rec["source"])),
                 _fact("Severity (0–4)", rec["severity_category"]), _fact("Root cause", humanise(rec["root_cause"])
                                                                           if rec["root_cause"] else None),
                 _fact("Further work needed", humanise(rec["further_work_required"])
                       if rec["further_work_required"] is not None else None),
                 _fact("Repair jobs linked", rec["jobs_linked"]),
                 _fact("Status in the extract", _status_note(rec["status"], rec["closed_at"] or rec["resolved_at"]))]
        if rec["reopened_from_case_id"]:
            right.append(_fact("Reopens", rec["reopened_from_case_id"]))
    elif story.kind == "job":
        right = [_fact("Reported", rec["reported_at"]), _fact("Target", rec["target_at"]),
                 _fact("Completed", rec["completed_at"]), _fact("Contractor", rec["contractor_name"]),
                 _fact("Completion verified", humanise(rec["completion_verified"])
                       if rec["completion_verified"] is not None else "Not recorded"),
                 _fact("Recorded in", humanise(rec["source_system"])),
                 _fact("Cost", f"£{rec['cost_gbp']:,.2f}" if rec["cost_gbp"] is not None else None),
                 _fact("Follow-on jobs", rec["follow_on_jobs"]), _fact("Chases", rec["chases"]),
                 _fact("Status in the extract", _status_note(rec["status"], rec["completed_at"] or
                                                             rec["cancelled_at"]))]
        if rec["dm_case_id"]:
            right.append(_fact("Damp and mould case", rec["dm_case_id"]))
    else:
        right = [_fact("Received", rec["received_at"]), _fact("About", humanise(rec["category"])),
                 _fact("Outcome", humanise(rec["outcome"]) if rec["outcome"] else "Not yet decided"),
                 _fact("Compensation offered", f"£{rec['compensation_offered_gbp']:,.2f}"
                       if rec["compensation_offered_gbp"] is not None else None),
                 _fact("Ombudsman", humanise(rec["ombudsman_outcome"]) if rec["ombudsman_outcome"]
                       else "Referred" if rec["ombudsman_referred_at"] else "Not referred"),
                 _fact("Learning", rec["learning_action"])]
    a, b = st.columns(2)
    a.markdown("  \n".join(left))
    b.markdown("  \n".join(right))


def _case_clocks(story) -> None:
    clocks = story.clocks
    title = {"dm": "Awaab's Law clocks", "job": "Target", "complaint": "Complaint Handling Code deadlines"}
    st.subheader(title[story.kind])
    if clocks.is_empty():
        st.caption("No clock has started yet.")
        return
    if story.kind == "dm":
        shown = clocks.select(
            pl.col("clock").replace_strict(CLOCK_NAMES, default=pl.col("clock")).alias("Clock"),
            pl.col("started_at").alias("Started"), pl.col("due_by").alias("Deadline"),
            pl.col("action_at").alias("Done"), pl.col("days_taken").alias("Days taken"),
            pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("Met or missed"))
    elif story.kind == "job":
        shown = clocks.select(pl.col("clock").alias("Clock"), pl.col("started_at").alias("Started"),
                              pl.col("due_by").alias("Deadline"), pl.col("action_at").alias("Done"),
                              pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status"))
                              .alias("Met or missed"))
    else:
        shown = clocks.select(
            (pl.lit("Stage ") + pl.col("stage").cast(pl.Utf8) + pl.lit(": ") + pl.col("step").str.to_lowercase())
            .alias("Clock"),
            pl.col("started_at").alias("Started"), pl.col("due_on").alias("Deadline"),
            pl.col("done_at").alias("Done"),
            pl.col("status").replace_strict(STATUS_WORDS, default=pl.col("status")).alias("Met or missed"))
    cfg = {"Started": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
           "Deadline": (st.column_config.DateColumn(format="D MMM YYYY") if shown.schema["Deadline"] == pl.Date
                        else st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm")),
           "Done": st.column_config.DatetimeColumn(format="D MMM YYYY, HH:mm"),
           "Days taken": st.column_config.NumberColumn(format="%.1f")}
    _grid(shown, hide_index=True, column_config=cfg, key="clocks")
    st.caption("As the extract stands: a deadline is met when the action happened at or before it "
               "(any time on the deadline day for working-day clocks).")


def _case_timeline(view: app.View, story) -> None:
    st.subheader("Timeline")
    events = story.events
    key = app.WIDGET + "whole_home"
    if isinstance(st.session_state.get(key), str):  # from the URL (whole_home=1)
        st.session_state[key] = st.session_state[key].lower() in ("1", "true", "yes")
    whole = st.toggle("Everything that happened at this home", key=key,
                      help="Off: this case's own events and what else happened at the home while it was open.")
    if not whole:
        own = events.filter(pl.col("linked"))
        start = own["event_at"].min() if len(own) else story.place["started_at"]
        end = own["event_at"].max() if len(own) else start
        if isinstance(start, datetime) and isinstance(end, datetime):
            events = events.filter(pl.col("linked") | pl.col("event_at").is_between(start - timedelta(days=14),
                                                                                     end + timedelta(days=14)))
    deadlines = _deadline_marks(story)
    st.plotly_chart(charts.timeline_chart(events, deadlines), config={"displayModeBar": False}, key="timeline")
    table = events.select(
        "event_at", "lane", "event", "detail",
        pl.when(pl.col("linked")).then(pl.lit("This case")).otherwise(pl.lit("At the home")).alias("part"),
        pl.coalesce(
            pl.when(pl.col("lane") == "Damp and mould").then(pl.col("case_id")),
            pl.when(pl.col("job_id").is_not_null()).then(pl.col("job_id")),
            pl.col("complaint_id"), pl.col("case_id")).alias("ref"))
    kinds = {"Damp and mould": "dm", "Complaints": "complaint"}
    table = table.with_columns(pl.Series("link", [
        view.url(CASE_URL_PATH, case=r["ref"], kind=kinds.get(r["lane"], "job" if r["lane"] in (
            "Repair jobs", "Appointments") else None)) if r["ref"] else None
        for r in table.iter_rows(named=True)], dtype=pl.Utf8)).drop("ref")
    cfg = {"event_at": st.column_config.DatetimeColumn("When", format="D MMM YYYY, HH:mm"),
           "lane": st.column_config.Column("What"), "event": st.column_config.Column("Event"),
           "detail": st.column_config.Column("Detail"), "part": st.column_config.Column("Part of"),
           "link": st.column_config.LinkColumn("Case, job or complaint", display_text=r"case=([^&]*)")}
    _grid(table, hide_index=True, column_config=cfg, key="events")
    if story.withheld_events:
        st.caption(_not_shown(story.withheld_events, "event"))
    st.download_button("Download the timeline (CSV)", _for_csv(events.drop("linked")),
                       file_name=f"case_{story.id}.csv", mime="text/csv", key="csv:timeline",
                       icon=":material/download:", on_click=_audit_export, args=(view, f"case_{story.id}.csv"))


def _deadline_marks(story) -> pl.DataFrame | None:
    c = story.clocks
    if c.is_empty():
        return None
    if story.kind == "dm":
        return c.select(pl.col("clock").replace_strict(
            {k: v[:1].upper() + v[1:] for k, v in CLOCK_SHORT_NAMES.items()},
            default=pl.col("clock")).alias("label"), "due_by", "status")
    if story.kind == "job":
        return c.select(pl.lit("Target").alias("label"), "due_by", "status")
    return c.select((pl.lit("Stage ") + pl.col("stage").cast(pl.Utf8) + pl.lit(" ") + pl.col("step").str.to_lowercase())
                    .alias("label"), pl.col("due_on").cast(pl.Datetime("us")).dt.offset_by("1d").alias("due_by"),
                    "status")


def _not_shown(n: int, what: str) -> str:
    """The line that says how much of a home's story a team-scoped user does not see."""
    if n == 1:
        return f"1 {what} at this home belongs to a team outside your scope and is not shown."
    return f"{n:,} {what}s at this home belong to teams outside your scope and are not shown."


def _case_other_reports(view: app.View, story) -> None:
    other = story.other_reports
    st.subheader("Previously reported" if story.kind == "dm" else "Damp and mould reports at this home")
    if story.withheld_reports:
        st.caption(_not_shown(story.withheld_reports, "other report"))
    if other.is_empty():
        st.caption("No other damp and mould report at this home"
                   + (" from your teams." if story.withheld_reports else "."))
        return
    before = int(other["before_this_case"].sum())
    if story.kind == "dm":
        st.caption(f"{before} earlier report{'s' if before != 1 else ''} at this home, "
                   f"{len(other) - before} later.")
    shown = other.with_columns(pl.Series("id", [view.url(CASE_URL_PATH, case=i, kind="dm")
                                                for i in other["id"].to_list()]))
    cfg = column_config(shown)
    cfg["id"] = st.column_config.LinkColumn("Case", display_text=r"case=([^&]*)")
    cfg["before_this_case"] = st.column_config.CheckboxColumn("Before this case")
    _grid(shown, hide_index=True, column_config=cfg, key="other_reports")


# ---------------------------------------------------------------------------------------- about the data


def about_page(view: app.View) -> None:
    extract = app.load_extract(view.key)
    st.title("About the data")
    a, b = st.columns(2)
    a.markdown("  \n".join([
        _fact("Landlord", extract.landlord),
        _fact("Extract folder", f"`{extract.path}`"),
        _fact("Extracted", extract.extracted_at),
        _fact("Contract version", extract.manifest.get("contract_version")),
    ]))
    if extract.manifest_problem:
        a.error(extract.manifest_problem)
    weeks = view.weeks
    b.markdown("  \n".join([
        _fact("Weeks available", f"{len(weeks)}, ending {format_date(weeks[-1])} to {format_date(weeks[0])}"
              if weeks else None),
        _fact("Latest complete week", f"ending {format_date(weeks[0])}" if weeks else None),
    ]))
    st.subheader("Tables")
    counts = app.table_counts(view.key).with_columns(
        pl.when(pl.col("usable")).then(pl.lit("✓ Used")).otherwise(pl.lit("✕ Not used")).alias("usable"))
    _grid(counts, hide_index=True, key="tables", column_config={
        "table": "Table", "rows": st.column_config.NumberColumn("Rows", format="%d"), "usable": "Status",
        "problem": "Problem"})
    st.subheader("Validation")
    with st.spinner("Validating the extract…"):
        findings = app.findings(view.key)
    errors = findings.filter(pl.col("severity") == "error")
    warnings = findings.filter(pl.col("severity") == "warning")
    st.markdown(f"**{len(errors):,}** error{'s' if len(errors) != 1 else ''} (a table that cannot be used) · "
                f"**{len(warnings):,}** warning{'s' if len(warnings) != 1 else ''} "
                f"({int(warnings['rows'].sum() or 0):,} rows used but doubtful).")
    if findings.is_empty():
        st.success("✓ The extract meets the contract.")
    else:
        shown = findings.select(
            pl.when(pl.col("severity") == "error").then(pl.lit("✕ Error")).otherwise(pl.lit("! Warning"))
            .alias("Severity"), pl.col("table").alias("Table"), pl.col("column").alias("Column"),
            pl.col("check").alias("Check"), pl.col("rows").alias("Rows"),
            pl.col("examples").list.join(", ").alias("Examples"), pl.col("message").alias("What is wrong"))
        _grid(shown, hide_index=True, key="findings",
                     column_config={"Rows": st.column_config.NumberColumn(format="%d")})
        st.download_button("Download the findings (CSV)", _for_csv(findings), file_name="validation_findings.csv",
                           mime="text/csv", key="csv:findings", icon=":material/download:")
    st.subheader("How the figures are made")
    st.markdown(
        "Every figure is defined once in the KPI catalogue and computed from the rows its drill-down lists. "
        "Read more in the project's documentation: `README.md` (the extract contract and how figures are "
        "made), `docs/app.md` (this app), `docs/validation.md` (the checks above).")
    for title, path in (("This app (docs/app.md)", "docs/app.md"), ("Validation (docs/validation.md)",
                                                                     "docs/validation.md")):
        doc = app.PROJECT_ROOT / path
        if doc.exists():
            with st.expander(title):
                st.markdown(doc.read_text())
    with st.expander("Every KPI, its target and page"):
        goals = targets()
        glossary = pl.DataFrame([{
            "KPI": k.id, "Title": k.title, "Page": DOMAINS[k.domain],
            "Target": target_text(k, goals[k.id].target if k.id in goals else None,
                                  goals[k.id].higher_is_better if k.id in goals else None)}
            for k in KPIS.values()])
        _grid(glossary, hide_index=True, key="glossary")
    app.write_url(view)


# ---------------------------------------------------------------------------------------- page plumbing

HOME_PAGE = {"overview": "overview", "dm": "dm", "rp": "rp", "cx": "cx", "ct": "ct", "vu": "vu", "dq": "vu"}


def drilling(page: str) -> bool:
    """Whether the URL asks this page for the cases behind one of its figures (kpi=…)."""
    from housing_assurance.scorecard import HEADLINE

    kpi_id = app.page_param("kpi")
    if not kpi_id:
        return False
    if kpi_id not in KPIS:
        st.warning(f"“{kpi_id}” is not a KPI id; showing the page instead.")
        return False
    if page == "overview":
        return kpi_id in HEADLINE
    return HOME_PAGE[KPIS[kpi_id].domain] == page


def publish(view: app.View, **page: str | None) -> None:
    """Write this view (week, scope and the page's own choices) into the address bar."""
    app.write_url(view, **page)


def audit_page(view: app.View) -> None:
    """The append-only audit trail, read-only, newest first, with the hash chain checked."""
    if not current_user().role.reads_audit:
        st.warning("Only administrators can read the audit trail.")
        return
    st.title("Audit trail")
    entries = audit.read_entries()
    if not entries:
        st.info("Nothing has been recorded yet.")
        return
    broken = [e for e in entries if not e.get("chain_ok")]
    if broken:
        st.error(f"The audit file has been altered outside the app: {len(broken):,} entries from the first "
                 "break onwards cannot be trusted.")
    else:
        st.success(f"{len(entries):,} entries; the chain of hashes is intact (no entry removed or changed).",
                   icon=":material/verified:")
    frame = pl.DataFrame([{
        "At (UTC)": e.get("at"), "User": e.get("user"), "Action": e.get("action"), "What": e.get("target"),
        "Week ending": e.get("as_of"),
        "Scope": ", ".join(filter(None, [(e.get("scope") or {}).get("region")] +
                                  ((e.get("scope") or {}).get("teams") or []))) or "Whole landlord",
        "Chain intact": e.get("chain_ok"),
    } for e in reversed(entries)])
    st.dataframe(frame, hide_index=True, width="stretch")
