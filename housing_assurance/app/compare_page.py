"""How we compare: our Tenant Satisfaction Measures beside every large landlord's published figures.

The figures come from compare.py (ours from tsm.py, the sector's from sector.py); this module keeps
them for every user (process-wide, only ever read; a server's warm-up fills them before anyone looks:
warm_up.py): our figures by the store's key and the reporting year, the comparison also by the names, sizes
and times of the regulator's files (which compare.py keeps read), so a new week's store or a new year's
file is read again. The figures are the whole landlord's, so the page is for users who see the whole
landlord.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from housing_assurance import compare, sector, tsm
from housing_assurance.app import data
from housing_assurance.app.markup import MESSAGE, plain
from housing_assurance.app.state import View, write_url
from housing_assurance.app.tables import grid
from housing_assurance.words import NO_DATA, percentile_text, ratio_text, value_text


@lru_cache(maxsize=16)
def our_year(key: str, year: str) -> tsm.OurReturn | str:
    """Our figures for one reporting year, or the one line saying why the extract cannot give them."""
    return compare.our_years(data.load_extract(key), [year])[year]


@lru_cache(maxsize=4)
def comparison(key: str, folder: str, files: tuple) -> compare.HowWeCompare:
    extract = data.load_extract(key)
    found = compare.published_years(Path(folder))
    wanted = compare.years_wanted(tsm.latest_week(extract), found)
    return compare.build(extract.landlord, {year: our_year(key, year) for year in wanted}, found)


@lru_cache(maxsize=4)
def position_charts(key: str, folder: str, files: tuple) -> dict[str, go.Figure]:
    """Each measure's chart, drawn once per comparison and shared by every session: six figures of a
    thousand landlords' dots took 0.3-0.4 s of every view. Only read afterwards (st.plotly_chart copies
    a figure into its message), so one object serves every user of the page."""
    return {m.key: m.chart.figure() for m in comparison(key, folder, files).measures}


def compare_page(view: View) -> None:
    st.title("How we compare")
    st.markdown("**Whole landlord** · Tenant Satisfaction Measures by reporting year")
    st.caption(compare.INTRO)
    if not view.allowed.is_whole_landlord:
        st.info("These are the whole landlord's figures, and your access covers your own teams, so they are not "
                "shown to you.")
        write_url(view)
        return
    folder = sector.tsm_folder()
    try:
        with st.spinner("Working out our figures for each reporting year and reading the regulator's files…"):
            result = comparison(view.key, str(folder), compare.published_files(folder))
            charts = position_charts(view.key, str(folder), compare.published_files(folder))
    except tsm.TsmError as exc:
        st.warning(plain(compare.no_figures_text(exc), MESSAGE))
    except sector.SectorError as exc:
        st.warning(plain(compare.no_sector_text(exc), MESSAGE))
        ours_alone(view)
    else:
        notes(result)
        for m in result.measures:
            measure_section(m, charts[m.key])
        st.caption(plain(result.attribution, MESSAGE))
    write_url(view)


def measure_section(m: compare.MeasureComparison, chart: go.Figure) -> None:
    """One measure: our figures and where each stands (a table), and the landlords' spread (a chart)."""
    k = tsm.MEASURES[m.key]
    st.subheader(m.title)
    rows = []
    for p in m.placings:
        q = p.sector
        rows.append({
            "Our figure": p.period, "Value": value_text(k, p.value), "Cases": ratio_text(k, p.numerator, p.denominator),
            "Compared with": p.compared_with,
            "Sector quartiles": " · ".join(value_text(k, v) for v in (q.lower_quartile, q.median, q.upper_quartile))
            if q else NO_DATA,
            "Among all landlords": percentile_text(p.position), "Among peers": percentile_text(p.peer_position),
        })
    grid(pl.DataFrame(rows), hide_index=True, width="stretch", key=f"compare:{m.key}", column_config={
        "Cases": st.column_config.TextColumn(
            help="Numerator of denominator" if m.unit == "%" else
            "Complaints in the rented homes in stock at the year's end (or on the date, for a year to date)"),
        "Sector quartiles": st.column_config.TextColumn(
            help="Lower quartile · median · upper quartile of every landlord with a published figure"),
        "Among peers": st.column_config.TextColumn(help="Among the landlords of our size band")})
    for p in m.placings:
        if p.not_a_ranking:
            st.caption(p.not_a_ranking)
    if m.peers_text:
        st.caption(m.peers_text)
    st.plotly_chart(chart, config={"displayModeBar": False}, key=f"compare-chart:{m.key}")


def notes(result: compare.HowWeCompare) -> None:
    if result.size_text:
        st.caption(result.size_text)
    for note in result.notes:
        st.caption(plain(note, MESSAGE))


def ours_alone(view: View) -> None:
    """Our own figures for the year to date and the last whole year, when there is nothing to compare with."""
    extract = data.load_extract(view.key)
    try:
        wanted = compare.years_wanted(tsm.latest_week(extract), ())
    except tsm.TsmError:
        return
    titles = {m.key: m.title for m in sector.MEASURES}
    for year in wanted:
        ours = our_year(view.key, year)
        if isinstance(ours, str):
            st.caption(plain(f"{ours[:1].upper()}{ours[1:]}.", MESSAGE))
            continue
        st.subheader(f"Our figures, {ours.period}")
        grid(pl.DataFrame([{"Measure": titles[key], "Value": value_text(tsm.MEASURES[key], f.value),
                            "Numerator": f.numerator, "Denominator": f.denominator}
                           for key, f in ours.figures.items()]), hide_index=True, width="stretch",
             key=f"ours:{year}")
