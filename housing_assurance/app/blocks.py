"""The blocks pages are made of: KPI tiles, trends, breakdowns, the cases behind a figure, exception
tables, and the comparisons of the contractor and vulnerability pages. Every figure comes from the KPI
functions (through the figure store, which equals kpis.compute), every list of cases from kpis.cases,
every chart from charts.py, every word from words.py.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import polars as pl
import streamlit as st

from housing_assurance import charts, due, routes
from housing_assurance.access import visible_rows
from housing_assurance.app import data
from housing_assurance.app.markup import MESSAGE, plain
from housing_assurance.app.shell import audit_once, current_user, scope_words, sees_details
from housing_assurance.app.state import WIDGET, View, page_param, refuse, write_url
from housing_assurance.app.tables import MONEY, MONEY_FORMAT, NAV, case_table, column_config, downloads, grid
from housing_assurance.breakdowns import NONE_KEY, cases_behind_bar, dimensions_for, offers_per_homes
from housing_assurance.contractors import SCORECARD_COLUMNS
from housing_assurance.kpis import KPIS, QUERY_SCOPES, Kpi
from housing_assurance.scorecard import HEADLINE, headline_text
from housing_assurance.targets import status, targets
from housing_assurance.words import (
    NO_DATA,
    change,
    comparison_text,
    date_text,
    definition,
    goal_text,
    ratio_text,
    rows_noun,
    value_text,
    week_text,
)

if TYPE_CHECKING:
    from streamlit.delta_generator import DeltaGenerator


# A red or amber figure's line of why while the cases behind it are read (why_later, fill_why).
WHY_PENDING = "Finding the cases behind it…"


def page_url(page: str, view: View, **params: str | None) -> str:
    """A page of this app with this view, as a relative URL (for links inside tables)."""
    return f"{routes.href(page)}?{urlencode(view.params(**params))}"


def figure_rows(k: Kpi, fig: dict) -> int | None:
    """How many rows the figure's drill-down lists (None when the figure does not say)."""
    if k.kind == "pct":
        return fig["denominator"]
    if k.kind == "per_1000_homes":
        return fig["numerator"]
    if k.kind == "count":
        return int(fig["value"] or 0)
    return None


def see_rows(k: Kpi, n: int | None) -> str:
    """The tile's link: 'See the 12 cases', 'No jobs to list'."""
    if n is None:
        return f"See the {rows_noun(k)}"
    if n == 0:
        return f"No {rows_noun(k)} to list"
    return f"See the {n:,} {rows_noun(k, n)}"


def kpi_tiles(view: View, kpi_ids: list[str] | tuple[str, ...], page: str, per_row: int = 4,
              by_domain: bool = False, headline: bool = False) -> None:
    """A tile per KPI: value, RAG with word and symbol, why when red or amber, target, change since last
    week, comparisons, a 13-week sparkline and a link to the cases behind the figure (grouped under
    domain headings if asked; with the overview's headline line above them if asked). The tiles are drawn
    from the store's figures first; each line of why follows (fill_why)."""
    card = data.scorecard(view, kpi_ids)
    elsewhere = data.outside_remit(view.key, view.scope.teams, tuple(kpi_ids))
    ours = card.filter(~pl.col("kpi_id").is_in(list(elsewhere)))  # the figures that are the scope's work
    if headline:
        st.markdown(f"**{plain(headline_text(ours), MESSAGE)}**")
    groups = card.partition_by("domain", maintain_order=True) if by_domain else [card]
    why_slots: dict[str, DeltaGenerator] = {}
    with st.container(key="kpi-tiles"):  # two tiles a row on a phone (shell.STYLE)
        for group in groups:
            why_slots |= _tile_rows(view, group, page, per_row, elsewhere, by_domain)
    fill_why(view, ours.to_dicts(), why_slots, _why_html, allow_html=True)


def _why_html(text: str) -> str:
    return f'<div class="kpi-why">{html.escape(text)}</div>'


def why_later(pending: str, allow_html: bool = False) -> DeltaGenerator:
    """The place of a red or amber figure's line of why, showing `pending` until `fill_why` (markdown; HTML
    only when asked, for markup whose every value the caller has escaped)."""
    slot = st.empty()
    slot.markdown(pending, unsafe_allow_html=allow_html)
    return slot


def fill_why(view: View, figures: list[dict], slots: dict[str, DeltaGenerator], line: Callable[[str], str],
             allow_html: bool = False) -> None:
    """Each figure's line of why (data.reasons: why.py over the cases behind it) in the place kept for it,
    written by `line`, or nothing where the figure has none. Called once the page's figures are drawn: a
    week or scope not seen before runs the queries behind its red figures, half a second at 120,000 homes."""
    try:
        why = data.reasons(view, figures)
    except Exception:  # the page says what went wrong (app.py): no line is left saying it is on its way
        for slot in slots.values():
            slot.empty()
        raise
    for kpi_id, slot in slots.items():
        if kpi_id in why:
            slot.markdown(line(why[kpi_id]), unsafe_allow_html=allow_html)
        else:
            slot.empty()


def _tile_rows(view: View, group: pl.DataFrame, page: str, per_row: int, elsewhere: dict[str, str],
               by_domain: bool) -> dict[str, DeltaGenerator]:
    """The tiles of one group, a row at a time; returns the place of each line of why still to come."""
    if by_domain:
        st.markdown(f"##### {plain(group['domain'][0])}")
    rows = list(group.iter_rows(named=True))
    why_slots = {}
    for start in range(0, len(rows), per_row):
        cols = st.columns(per_row)
        for col, r in zip(cols, rows[start:start + per_row], strict=False):
            with col, st.container(border=True):
                slot = _tile(view, r, page, elsewhere.get(r["kpi_id"]))
                if slot is not None:
                    why_slots[r["kpi_id"]] = slot
    return why_slots


def _tile(view: View, r: dict, page: str, not_our_work: str | None) -> DeltaGenerator | None:
    """One tile; for a red or amber figure, returns the place its line of why goes (shown as pending)."""
    k = KPIS[r["kpi_id"]]
    goal = targets().get(k.id)
    st.markdown(f'<div class="kpi-title">{html.escape(k.title)}</div>', unsafe_allow_html=True)
    about = "  \n".join(definition(k, goal)) + f"  \nKPI id: {k.id}"
    if not_our_work:  # a team scope's tile for work the teams never do: not a ✓
        st.metric(k.title, NO_DATA, help=about, label_visibility="collapsed")
        st.badge("· Not this team's work", color="gray")
        st.caption(f"No {not_our_work} are recorded against {plain(scope_words(view))} in this extract.")
        return None
    # st.metric colours its arrow from an ASCII sign, so the change is worded with "-" here.
    moved = change(k, r["change"], r["higher_is_better"], minus="-", arrow=False)
    if moved.direction == "same":
        delta, colour, arrow = moved.text, "off", "off"
    else:
        delta = None if r["change"] is None else moved.text
        colour = {True: "normal", False: "inverse"}.get(r["higher_is_better"], "off")
        arrow = "auto"
    st.metric(k.title, value_text(k, r["value"]), delta=delta, delta_color=colour, delta_arrow=arrow,
              help=about, label_visibility="collapsed")
    shown = status(r["rag"], r["value"])
    st.badge(f"{shown.symbol} {shown.word}" + (" this week" if r["value"] is None else ""), color=shown.badge)
    slot = None
    if r["rag"] in ("red", "amber"):
        slot = why_later(f'<div class="kpi-why kpi-why-pending">{WHY_PENDING}</div>', allow_html=True)
    ratio = ratio_text(k, r["numerator"], r["denominator"])
    st.caption(goal_text(k, goal) + (f" · {ratio}" if ratio and r["denominator"] else ""))
    compared = comparison_text(k, r)
    if compared:
        st.caption(compared)
    dates = r["history_as_of"]
    words = f"{k.title}, weekly, {date_text(dates[0])} to {date_text(dates[-1])}" if dates else k.title
    labels = [f"Week ending {date_text(d)}: {value_text(k, v)}" for d, v in zip(dates, r["history"], strict=True)]
    line = charts.sparkline_svg(r["history"], label=words, point_labels=labels,
                                target=goal.target if goal else None)
    st.markdown(f'<div class="spark">{line}</div>', unsafe_allow_html=True)
    st.page_link(routes.PAGE[page].file, label=see_rows(k, figure_rows(k, r)) + " →",
                 query_params=view.params(kpi=k.id))
    return slot


def visible(view: View, k: Kpi, rows: pl.DataFrame, page: str) -> pl.DataFrame:
    """The rows as this user may see them (access.visible_rows), saying how many are counted but not listed."""
    shown, withheld = visible_rows(data.load_extract(view.key), QUERY_SCOPES[k.query], rows, current_user(),
                                   view.allowed, details_here=sees_details(page))
    if withheld:
        st.caption(f"{withheld:,} of the {rows.height:,} {rows_noun(k)} counted in this figure are of households "
                   "your teams do not serve: they are counted but not listed.")
    return shown


def drilldown(view: View, page: str) -> None:
    """The cases behind one figure (or one bar of a breakdown): exactly kpis.cases for the week and scope."""
    kpi_id = page_param("kpi")
    k = KPIS[kpi_id]
    sensitive = sees_details(page)
    by, value = page_param("by"), page_param("value")
    dims = dimensions_for(data.store(view.key), kpi_id, sensitive)
    if by is not None and by not in dims:
        refuse("The split", by, "is not one these cases can be split by; showing them all.")
        by = value = None
    if by is not None and value is None:
        by = None
    bars = data.breakdown(view, kpi_id, by) if by is not None else None
    if bars is not None and value not in bars["key"].to_list():
        refuse("The bar", value, "is not a bar of this breakdown this week; showing every case.")
        by = value = None
    back = {"breakdown": kpi_id, "by": by, "measure": page_param("measure")} if by else {}
    back_to = "the overview" if page == "overview" else routes.PAGE[page].title
    st.page_link(routes.PAGE[page].file, label=f"← Back to {back_to}", query_params=view.params(**back))
    st.title(k.title)
    st.markdown(f"**{plain(scope_words(view))}** · {week_text(view.as_of)}")
    fig = data.figures(view, [kpi_id]).row(0, named=True)
    rows = data.cases(view.key, view.as_of, kpi_id, *view.scope_args)
    statement = _figure_statement(k, fig, len(rows))
    if by is not None:
        label = bars.filter(pl.col("key") == value)["label"][0]
        total = len(rows)
        rows = cases_behind_bar(rows, by, value)
        statement = (f"Only the {rows_noun(k)} whose {dims[by].lower()} is **{plain(label)}**: **{len(rows):,}** of "
                     f"the {total:,} behind the figure ({value_text(k, fig['value'])} for "
                     f"{plain(scope_words(view).lower())}).")
        if k.kind == "pct" and len(rows):
            met = int(rows["meets"].sum())
            statement += f" {met:,} of them meet it: {100 * met / len(rows):.1f}%."
    st.markdown(statement)
    audit_once(view, "drill_down", kpi_id + (f" by {by} = {value}" if by else ""))
    rows = visible(view, k, rows, page)
    case_table(view, rows, k, name=f"drill:{kpi_id}", file_stub=f"{kpi_id}_{view.as_of}",
               height=min(40 + 35 * max(len(rows), 1), 700),
               back={"from": page, "kpi": kpi_id, "by": by, "value": value,
                     "measure": page_param("measure") if by else None})
    write_url(view, kpi=kpi_id, by=by, value=value, measure=page_param("measure") if by else None)


def _figure_statement(k: Kpi, fig: dict, n: int) -> str:
    value = value_text(k, fig["value"])
    noun = rows_noun(k)
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
        return f"**{value}**: the total over the **{n:,}** {noun} listed."
    return f"**{value}** {k.title[:1].lower() + k.title[1:]}. All **{n:,}** are listed, oldest or most overdue first."


def exception_table(view: View, kpi_id: str, title: str, page: str, limit: int | None = None) -> None:
    """A KPI's case list shown on its page (breaches, overdue work), oldest or most overdue first."""
    k = KPIS[kpi_id]
    rows = data.cases(view.key, view.as_of, kpi_id, *view.scope_args)
    st.subheader(f"{title} ({len(rows):,})")
    if rows.is_empty():
        st.caption("None this week.")
        return
    shown = rows.head(limit) if limit else rows
    if limit and len(rows) > limit:
        st.caption(f"The {limit} oldest or most overdue are shown; the full list is one click away.")
    shown = visible(view, k, shown, page)
    case_table(view, shown, k, name=f"exc:{kpi_id}", file_stub=f"{kpi_id}_{view.as_of}",
               height=min(38 + 35 * len(shown), 420), back={"from": page})
    if limit and len(rows) > limit:
        st.page_link(routes.PAGE[page].file, label=f"All {len(rows):,} →", query_params=view.params(kpi=kpi_id))


DUE_SOON_TITLES = {due.DAMP_MOULD: "damp and mould deadlines", due.COMPLAINT: "complaint deadlines"}


def due_soon_table(view: View, kind: str, page: str) -> None:
    """What falls due next (kpis.md "Due soon"): the open clocks not yet met or breached, due by the end of
    the fifth working day after the week, soonest first, with the owning team."""
    rows = data.due_soon(view.key, view.as_of, *view.scope_args, kind)
    last = due.window_last_day(view.as_of)
    window = (f"Open deadlines not yet met, falling due from the end of the week to the end of "
              f"{last:%A} {date_text(last)} (5 working days), soonest first.")
    st.subheader(f"Due soon ({len(rows):,})")
    st.caption(window)
    if rows.is_empty():
        st.caption("Nothing falls due in the next 5 working days.")
        return
    shown = rows.select("id", "clock", "due_by", "team_id", "is_vulnerable_household", "region", "area",
                        "started_at")
    case_table(view, shown, None, name=f"due:{kind}", file_stub=f"due_soon_{kind}_{view.as_of}",
               height=min(38 + 35 * len(shown), 420), back={"from": page},
               ref=("id", "dm" if kind == due.DAMP_MOULD else "complaint"),
               title=f"Due soon: {DUE_SOON_TITLES[kind]}", notes=(window,))


def _choice(name: str, options: list[str], default: str) -> str:
    """Keep a URL-backed widget's state valid before the widget is drawn (saying so when a URL asked
    for something the widget does not offer)."""
    key = WIDGET + name
    asked = st.session_state.get(key)
    if asked not in options:
        if asked is not None:
            refuse(f"The {'split' if name == 'by' else name}", asked, "is not offered here; showing the usual one.")
        st.session_state[key] = default if default in options else options[0]
    return key


def trends(view: View, kpi_ids: list[str], default: str) -> str:
    """13- and 52-week trends of one KPI (chosen), target as a dashed line. Returns the KPI shown."""
    st.subheader("Trends")
    key = _choice("trend", kpi_ids, default)
    kpi_id = st.selectbox("Trend of", kpi_ids, key=key, format_func=lambda i: KPIS[i].title)
    k = KPIS[kpi_id]
    series = data.long_trend(view, kpi_id)
    goal = targets().get(kpi_id)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(charts.trend_chart(series.tail(13), k, goal, title="Last 13 weeks"),
                        config={"displayModeBar": False}, key=f"trend13:{kpi_id}")
    with right:
        st.plotly_chart(charts.trend_chart(series, k, goal, title="Last 52 weeks"),
                        config={"displayModeBar": False}, key=f"trend52:{kpi_id}")
    return kpi_id


PER_HOMES = "per_1000_homes"  # the breakdown's measure (URL measure=…) that puts a count per 1,000 homes
MEASURES = ("count", PER_HOMES)
PER_HOMES_WORDS = "Per 1,000 homes"


def breakdown_section(view: View, kpi_ids: list[str], page: str, default: str,
                      default_by: str | None = None) -> dict[str, str | None]:
    """One KPI this week split by region, team, contractor, category …; each bar opens its cases. A count split
    by a place can be shown per 1,000 homes of that place. Returns the section's URL parameters."""
    st.subheader("Breakdown")
    sensitive = sees_details(page)
    left, right = st.columns(2)
    kpi_key = _choice("breakdown", kpi_ids, default)
    kpi_id = left.selectbox("Break down", kpi_ids, key=kpi_key, format_func=lambda i: KPIS[i].title)
    dims = dimensions_for(data.store(view.key), kpi_id, sensitive_allowed=sensitive)
    if not dims:
        st.caption("This figure is not split.")
        return {"breakdown": kpi_id}
    fixed = {"region"} if view.region else set()
    fixed |= {"region", "team_id"} if view.team else set()  # a single bar says nothing
    preferred = [d for d in ([default_by] if default_by else []) + list(dims) if d in dims and d not in fixed]
    by_key = _choice("by", list(dims), preferred[0] if preferred else next(iter(dims)))
    by = right.selectbox("By", list(dims), key=by_key, format_func=lambda d: dims[d])
    k = KPIS[kpi_id]
    noun = rows_noun(k)
    measure = None
    if offers_per_homes(k, by):
        measure_key = _choice("measure", list(MEASURES), PER_HOMES if k.kind == "per_1000_homes" else "count")
        measure = st.radio("Show", MEASURES, key=measure_key, horizontal=True,
                           format_func=lambda m: PER_HOMES_WORDS if m == PER_HOMES else f"Number of {noun}",
                           help=f"Per 1,000 homes: each bar's {noun} for every 1,000 homes in stock there on the "
                                "week's last day (leasehold homes not counted; a team's homes are its region's).")
    params = {"breakdown": kpi_id, "by": by, "measure": measure}
    per_homes = measure == PER_HOMES
    frame = data.breakdown_per_homes(view, kpi_id, by) if per_homes else data.breakdown(view, kpi_id, by)
    if frame.is_empty():
        st.caption(f"No {noun} behind this figure this week.")
        return params
    suffix = "%" if k.kind == "pct" else ""
    if per_homes:
        title = k.title.removesuffix(" per 1,000 homes") + f" per 1,000 homes, by {dims[by].lower()}"
        fig = charts.breakdown_bar(frame, "label", "value", title)
    elif k.kind in ("count", "per_1000_homes", "sum"):
        title = f"{k.title} by {dims[by].lower()}" + (f" (number of {noun})" if k.kind == "per_1000_homes" else "")
        fig = charts.count_breakdown_bar(frame, "label", "value", title)
    else:
        title = f"{k.title} by {dims[by].lower()}"
        fig = charts.breakdown_bar(frame, "label", "value", title, value_suffix=suffix)
    nav = st.session_state.get(NAV, 0)
    chosen = st.plotly_chart(fig, on_select="rerun", selection_mode="points",
                             key=f"bars:{kpi_id}:{by}:{measure}:{nav}", config={"displayModeBar": False})
    points = (chosen.selection.points if chosen is not None and getattr(chosen, "selection", None) else []) or []
    if points:
        label = points[0].get("customdata") or points[0].get("y") or points[0].get("x")
        keys = dict(zip(map(charts.shown, frame["label"].to_list()), frame["key"].to_list(), strict=True))
        if label in keys:
            st.session_state[NAV] = nav + 1
            st.switch_page(routes.PAGE[page].file,
                           query_params=view.params(kpi=kpi_id, by=by, value=keys[label], measure=measure))
    table = frame.with_columns(pl.Series("open", [page_url(page, view, kpi=kpi_id, by=by, value=key, measure=measure)
                                                  for key in frame["key"].to_list()]))
    count = noun.capitalize()
    number = st.column_config.NumberColumn(format="localized")
    if per_homes:
        shown = table.select(pl.col("label").alias(dims[by]), pl.col("homes").alias("Homes"),
                             pl.col("cases").alias(count), pl.col("value").alias(PER_HOMES_WORDS),
                             pl.col("open"))
        config = {"Homes": number, count: number, PER_HOMES_WORDS: st.column_config.NumberColumn(format="%.1f")}
    elif k.kind in ("count", "per_1000_homes"):  # the figure of a bar is its number of rows
        shown = table.select(pl.col("label").alias(dims[by]), pl.col("cases").alias(count), pl.col("open"))
        config = {count: number}
    else:  # the figure as words write it: 87.5%, £1,234.00, 12.3 days
        figure = "Figure" if k.kind == "pct" else k.title
        shown = table.select(pl.col("label").alias(dims[by]),
                             pl.col("value").map_elements(lambda v: value_text(k, v), return_dtype=pl.Utf8,
                                                          skip_nulls=False).alias(figure),
                             pl.col("cases").alias(count), pl.col("open"))
        config = {figure: st.column_config.TextColumn(alignment="right"), count: number}
    grid(shown, hide_index=True, key=f"bartable:{kpi_id}:{by}:{measure}", column_config={
        "open": st.column_config.LinkColumn("List", display_text=f"Open these {noun}"), **config})
    figures = [pl.col("value").alias(kpi_id)] + ([pl.col("numerator").alias(f"{kpi_id}:numerator"),
                                                 pl.col("denominator").alias(f"{kpi_id}:denominator")]
                                                if k.kind == "pct" and not per_homes else [])
    extra = ["homes"] if per_homes else []
    raw = frame.select(pl.col("key").replace(NONE_KEY, None).alias(by), *figures, *extra, "cases")
    downloads(view, raw, f"{kpi_id}_by_{by}{'_per_1000_homes' if per_homes else ''}_{view.as_of}", title,
              key=f"bars:{kpi_id}:{by}" + (":per_1000_homes" if per_homes else ""),
              readable=raw.with_columns(frame["label"].alias(by)).rename({by: dims[by]}))
    st.caption(f"Select a bar, or open its {noun} from the table: each lists exactly the {noun} that make the bar.")
    return params


def freshness(view: View) -> None:
    """How fresh the data is, and whether the extract passed validation (with a link to the details)."""
    extract = data.load_extract(view.key)
    when = date_text(extract.extracted_at) if extract.extracted_at else "at an unknown time"
    f = data.findings(view.key)
    errors = f.filter(pl.col("severity") == "error")
    warnings = f.filter(pl.col("severity") == "warning")
    text = (f"Data extracted {when}. Validation: {len(errors):,} error{'s' if len(errors) != 1 else ''}, "
            f"{len(warnings):,} warning{'s' if len(warnings) != 1 else ''} "
            f"({int(warnings['rows'].sum() or 0):,} rows).")
    if len(errors):
        text = "✕ " + text + " Some tables could not be used: figures that need them are missing."
    cols = st.columns([5, 1])
    cols[0].caption(text)
    with cols[1]:
        st.page_link(routes.PAGE["about"].file, label="About the data →", query_params=view.params())


# ---------------------------------------------------------------------------------------- contractors


def in_house_beside_external(view: View) -> None:
    """The ct.* pairs as bars: in-house beside external contractors, this week."""
    pairs = [("On time", "ct.in_house_on_time_pct", "ct.external_on_time_pct"),
             ("Fixed first time", "ct.in_house_first_time_fix_pct", "ct.external_first_time_fix_pct"),
             ("Residents satisfied", "ct.in_house_satisfaction_pct", "ct.external_satisfaction_pct")]
    figs = data.figures(view, [i for _, a, b in pairs for i in (a, b)])
    values = dict(zip(figs["kpi_id"].to_list(), figs["value"].to_list(), strict=True))
    rows = [{"measure": m, "group": g, "value": values[i]} for m, a, b in pairs
            for g, i in (("In-house", a), ("External contractors", b))]
    st.plotly_chart(charts.paired_bars(pl.DataFrame(rows), "measure", "group", "value",
                                       "In-house beside external contractors, this week"),
                    config={"displayModeBar": False}, key="paired")


def start_contractor_table(view: View) -> None:
    """Start the contractor table's 13-week query, to run while the figures above the table are drawn."""
    data.start_contractor_scorecard(view.key, view.as_of, *view.scope_args)


def contractor_table(view: View) -> None:
    st.subheader("Each contractor over the 13 weeks")
    card = data.contractor_scorecard(view.key, view.as_of, *view.scope_args)
    start = view.as_of - timedelta(days=90)
    st.caption(f"{date_text(start)} to {date_text(view.as_of)}: responsive jobs completed, appointments and "
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
            cfg[c] = st.column_config.NumberColumn(label, format=MONEY_FORMAT if c in MONEY else
                                                   "%.1f%%" if c.endswith("_pct") else "localized") \
                if c not in ("contractor_name", "is_in_house") else st.column_config.Column(label)
    grid(shown, hide_index=True, column_config=cfg, key="contractor_scorecard")
    downloads(view, card, f"contractors_{view.as_of}", "Each contractor over the 13 weeks", key="contractors")


RECORD_KEEPING = ["rp.unverified_completion_pct", "rp.offline_record_pct", "dq.dm_open_without_job",
                  "vu.census_coverage_pct"]


def team_record_keeping(view: View) -> None:
    """Each team's record keeping beside the others, the selected team highlighted."""
    st.subheader("Record keeping, team by team")
    st.caption("Each team's own figures this week. Census coverage is the team's region's. "
               "Pick a team in the sidebar to highlight it.")
    frame = data.team_comparison(view, RECORD_KEEPING)
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
            damp_teams = data.teams(view.key).filter(pl.col("function") == "damp_mould")["team_id"].to_list()
            part = frame.filter(pl.col("team_id").is_in(damp_teams))
        with cols[i % 2]:
            if part.is_empty():
                st.caption(f"{k.title}: no team has {rows_noun(k)} this week.")
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
    cfg = {KPIS[i].title: st.column_config.NumberColumn(format="%.1f%%" if KPIS[i].kind == "pct" else "localized")
           for i in RECORD_KEEPING}
    order = ["Team", "Region"]
    for i in RECORD_KEEPING:  # each team's figure opens that team's rows, on the KPI's own page
        has_rows = (frame[f"{i}:denominator"] > 0 if KPIS[i].kind == "pct" else frame[i] > 0).fill_null(False)
        links = [page_url(routes.page_of(i).key, view.for_team(t), kpi=i) if ok else None
                 for t, ok in zip(frame["team_id"].to_list(), has_rows.to_list(), strict=True)]
        table = table.with_columns(pl.Series(f"open:{i}", links))
        noun = rows_noun(KPIS[i])
        cfg[f"open:{i}"] = st.column_config.LinkColumn("", display_text=noun, width="small",
                                                       help=f"Each team's {noun} behind “{KPIS[i].title}”")
        order += [KPIS[i].title, f"open:{i}"]
    grid(table, hide_index=True, column_config=cfg, column_order=order, key="team_table")
    downloads(view, frame, f"record_keeping_{view.as_of}", "Record keeping, team by team", key="teams")


def drilling(page: str) -> bool:
    """Whether the URL asks this page for the cases behind one of its figures (kpi=…)."""
    kpi_id = page_param("kpi")
    if not kpi_id:
        return False
    if kpi_id not in KPIS:
        refuse("The figure", kpi_id, "is not a KPI id; showing the page instead.")
        return False
    if (kpi_id in HEADLINE) if page == "overview" else routes.page_of(kpi_id).key == page:
        return True
    refuse("The figure", kpi_id, f"is not on this page; it is on {routes.page_of(kpi_id).title}.")
    return False




def publish(view: View, **page: str | None) -> None:
    """Write this view (week, scope and the page's own choices) into the address bar."""
    write_url(view, **page)
