"""The pack's "How we compare" section: compare.how_we_compare's figures in the words of the app's page
(its sentences are compare.py's, its numbers words.py's), with each measure's chart drawn as SVG. No
Streamlit, and nothing computed here.

It runs beside the rest of the pack: `start` works it out in a thread, so that reading the regulator's
files and our reporting years overlaps the week's figures, and sends each chart to the renderer as soon as
it exists; `finish` gives templates/compare.html.j2 a placeholder for each drawing.

TSM figures are the whole landlord's (the return to the regulator is the landlord's, never a region's or a
team's), and the app's page shows them only to users who see the whole landlord: a region or team pack
leaves the section out and says so in its contents.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from housing_assurance import compare, sector, tsm
from housing_assurance.db import Extract
from housing_assurance.pack.charts import ChartRenderer
from housing_assurance.scope import Scope
from housing_assurance.words import NO_DATA, number, percentile_text, ratio_text, value_text

# CSS pixels, shown at the page's width (about 690): drawn wider, so that it is shown smaller (its text
# about 7 points) and a measure's table, notes and chart fit on half a page.
CHART_WIDTH = 900
LEGEND_SAVED = 38  # pixels: the legend's four lines in two
ROW_SAVED = 10  # pixels a row of boxes: closer than on the app's page, so that two measures fit on a page

LEFT_OUT = ("How we compare is in the whole-landlord pack only: Tenant Satisfaction Measures are returned to the "
            "regulator for the whole landlord, so they are not a region's or a team's figures.")


@dataclass(frozen=True)
class PlacingRow:
    """One of our figures and where it stands, worded: a row of a measure's table."""

    period: str
    value: str
    cases: str
    compared_with: str
    sector: tuple[str, str, str, str]  # lower quartile, median, upper quartile, landlords
    position: str  # among all landlords
    peer_position: str


@dataclass
class MeasureSection:
    title: str
    unit: str
    rows: list[PlacingRow]
    notes: list[str]  # why a year to date is no ranking; how many landlords the peers are
    pending: Future  # the chart being drawn
    chart: str | None = None  # its placeholder URL (ChartRenderer.placeholder), once sent


@dataclass
class CompareSection:
    """The section, or one line in its place: `problem` (no figures to show) or `left_out` (a scoped pack)."""

    measures: list[MeasureSection] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problem: str | None = None
    left_out: str | None = None
    intro: str = compare.INTRO
    attribution: str = sector.ATTRIBUTION


def start(extract: Extract, scope: Scope, renderer: ChartRenderer) -> Future | None:
    """Work the section out in a thread (None for a region or team pack, which leaves it out)."""
    if not scope.is_whole_landlord:
        return None
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pack-compare")
    pending = pool.submit(_section, extract, renderer)
    pool.shutdown(wait=False)
    return pending


def finish(pending: Future | None, renderer: ChartRenderer) -> CompareSection:
    """The section for the template, its charts placeholders that their drawings replace when the pack is printed."""
    if pending is None:
        return CompareSection(left_out=LEFT_OUT)
    section: CompareSection = pending.result()
    for m in section.measures:
        m.chart = renderer.placeholder(m.pending)
    return section


def _section(extract: Extract, renderer: ChartRenderer) -> CompareSection:
    try:
        result = compare.how_we_compare(extract)
    except tsm.TsmError as exc:
        return CompareSection(problem=compare.no_figures_text(exc))
    except sector.SectorError as exc:
        return CompareSection(problem=compare.no_sector_text(exc))
    notes = [result.size_text] if result.size_text else []
    return CompareSection([_measure(m, renderer) for m in result.measures], notes + list(result.notes))


def _measure(m: compare.MeasureComparison, renderer: ChartRenderer) -> MeasureSection:
    """A measure's table rows and notes, worded as the app's page words them; its chart sent to be drawn."""
    k = tsm.MEASURES[m.key]
    rows = []
    for p in m.placings:
        q = p.sector
        rows.append(PlacingRow(
            p.period, value_text(k, p.value), ratio_text(k, p.numerator, p.denominator), p.compared_with,
            (value_text(k, q.lower_quartile), value_text(k, q.median), value_text(k, q.upper_quartile),
             number(q.landlords)) if q else (NO_DATA,) * 4,
            percentile_text(p.position), percentile_text(p.peer_position)))
    notes = [p.not_a_ranking for p in m.placings if p.not_a_ranking]
    if m.peers_text:
        notes.append(m.peers_text)
    fig = m.chart.figure(each_landlord=False)
    # At the page's fixed width the legend fits two to a row (the app's page, as narrow as a phone, keeps one).
    fig.update_layout(legend=dict(entrywidth=0.5, entrywidthmode="fraction"),
                      height=int(fig.layout.height) - LEGEND_SAVED - ROW_SAVED * len(m.chart.groups))
    pending = renderer.submit(fig, CHART_WIDTH, int(fig.layout.height))
    return MeasureSection(m.title, m.unit, rows, notes, pending)
