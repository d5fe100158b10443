"""How we compare: our own TSM figures (tsm.py) beside the regulator's published ones (sector.py), as
plain data and Plotly charts, for the "How we compare" page and a section of the PDF pack. No Streamlit.
The sentences both say are here too, so that the page and the pack word them once.

What is set beside what:
- our year to date (the reporting year holding the extract's latest complete week) beside the latest
  published year: not the same year, so its position is where it would sit, never called a ranking;
- each of our whole years that the regulator has published, beside its own published year: a like-for-
  like position;
- our last whole year while the regulator has not published it: our figures alone, and a note saying so.
A year the extract cannot give (tsm.TsmError), or gives only in part (tsm.coverage_gap: it began before
the extract's records), is a note.

Each position is among all landlords and among peers: the landlords of our size band, from our homes in
stock at D (sector.size_band). Peers by predominant region are not offered: the regulator's predominant
region (North, Midlands, South, London, Mixed) comes from its own records of where a landlord's homes
are, and the extract has no such field; its regions are the landlord's own operating areas, which need
not be the regulator's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

import plotly.graph_objects as go
import polars as pl

from housing_assurance import charts, sector, tsm
from housing_assurance.db import Extract
from housing_assurance.weeks import ReportingYear
from housing_assurance.words import date_text

NO_REGION = ("Peers by predominant region are not shown: the regulator's predominant region is not in the "
             "extract, whose regions are our own operating areas.")
INTRO = ("The six management-information Tenant Satisfaction Measures we report to the Regulator of Social "
         "Housing, worked out from the extract for each reporting year (1 April to 31 March), beside every large "
         "landlord's published figures. A position is the share of landlords with a lower figure (ties counted "
         "half): high is good for repairs and complaints answered on time; for complaints per 1,000 homes it is "
         "not a verdict on its own.")


def no_figures_text(exc: tsm.TsmError) -> str:
    """Why there is nothing of ours to compare, in one line."""
    return f"Our TSM figures cannot be worked out from this extract: {exc}."


def no_sector_text(exc: sector.SectorError) -> str:
    """Why there is nothing to compare with, in one line."""
    return f"The regulator's published TSM figures cannot be read, so there is nothing to compare with: {exc}."


@dataclass(frozen=True)
class Placing:
    """One of our figures, and where it stands among a published year's landlords (sector_year None:
    not published yet, so no position)."""

    period: str  # "2024-25", or "2026-27 to 22 Nov 2026" for a year to date
    as_of: date
    year_to_date: bool
    value: float | None
    numerator: int
    denominator: int
    sector_year: str | None
    like_for_like: bool  # the same whole year: a true position; otherwise never called a ranking
    size_band: str  # ours at D
    sector: sector.Quartiles | None  # all landlords
    position: float | None  # percentile position among all landlords (sector.percentile_position)
    peers: sector.Quartiles | None  # landlords of our size band
    peer_position: float | None

    @property
    def label(self) -> str:
        """Our figure as the chart's legend names it."""
        return f"Ours, {self.period}" if self.like_for_like or self.sector_year is None else \
            f"Ours, {self.period} (not the same year)"

    @property
    def compared_with(self) -> str:
        """The published year it is set beside, and whether that is the same year."""
        if self.sector_year is None:
            return "Not yet published"
        return f"{self.sector_year}, {'same year' if self.like_for_like else 'not the same year'}"

    @property
    def not_a_ranking(self) -> str | None:
        """For a year to date set beside the latest published year: why its positions are no ranking."""
        if self.sector_year is None or self.like_for_like:
            return None
        return (f"{self.period} is set beside {self.sector_year}, the latest published year: not the same year, so "
                "its positions show where it would sit, never a ranking.")


@dataclass(frozen=True)
class MeasureComparison:
    key: str  # as in sector.MEASURE_KEYS and the `tsm` command
    title: str
    unit: str  # "%" or "per 1,000 homes"
    placings: tuple[Placing, ...]  # newest of ours first
    chart: PositionChart  # .figure(): charts.sector_position_chart

    @property
    def peers_text(self) -> str | None:
        """How many landlords each position among peers is among: 'Peers: the 122 landlords with …'."""
        peers = {(p.size_band, p.sector_year): p.peers.landlords for p in self.placings if p.peers is not None}
        if not peers:
            return None
        return "Peers: " + "; ".join(f"the {n:,} landlords with {band} homes in {year}"
                                     for (band, year), n in peers.items()) + "."


@dataclass(frozen=True)
class HowWeCompare:
    """The section: our figures year by year, the six measures placed among landlords, and what could
    not be compared (one line each)."""

    landlord: str
    published_years: tuple[str, ...]  # newest first
    ours: tuple[tsm.OurReturn, ...]  # newest first
    measures: tuple[MeasureComparison, ...]
    notes: tuple[str, ...]
    attribution: str = sector.ATTRIBUTION

    @property
    def size_text(self) -> str | None:
        """Which size band our peers are, and the homes that put us in it."""
        if not self.ours:
            return None
        newest = self.ours[0]
        return (f"Peers are the landlords of our size band as the regulator groups them: we had {newest.homes:,} "
                f"homes (rented and shared ownership) in stock on {date_text(newest.as_of)}.")


def years_wanted(latest_week: date, published: Iterable[str]) -> list[str]:
    """Our reporting years the comparison needs, newest first: the one holding the latest complete week,
    the one before it, and every published year."""
    current = ReportingYear.containing(latest_week)
    return sorted({current.label, current.before().label, *published}, reverse=True)


def our_years(extract: Extract, years: Iterable[str]) -> dict[str, tsm.OurReturn | str]:
    """Each year's figures, or the one line saying why the extract cannot give them."""
    out: dict[str, tsm.OurReturn | str] = {}
    for year in years:
        try:
            out[year] = tsm.coverage_gap(extract, tsm.reporting_year(year)) or tsm.our_figures(extract, year)
        except tsm.TsmError as exc:
            out[year] = str(exc)
    return out


def published_files(folder: Path) -> tuple:
    """What changes when the regulator's folder changes (names, sizes and times; nothing is read)."""
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()
                        if p.suffix.lower() == ".xlsx"))


def published_years(folder: Path | None = None) -> dict[str, sector.SectorYear]:
    """Every published year in the regulator's folder, or a SectorError (missing, empty or unreadable).

    Read once per version of the folder's files in a process (a second or so for two years' workbooks): the
    app's page and every pack ask again. A new or replaced file is read afresh; an error is never kept, so a
    fixed file is read at the next asking."""
    folder = folder or sector.tsm_folder()
    return dict(_published_years(folder, published_files(folder)))


@lru_cache(maxsize=2)
def _published_years(folder: Path, files: tuple) -> dict[str, sector.SectorYear]:
    found = {year: sector.read_tsm_file(path) for year, path in sector.available_years(folder).items()}
    if not found:
        raise sector.SectorError(f"no TSM files in {folder}")
    return found


def _placing(ours: tsm.OurReturn, key: str, data: sector.SectorYear | None) -> Placing:
    fig = ours.figures[key]
    band = sector.size_band(ours.homes)
    like = data is not None and data.year == ours.year and not ours.year_to_date
    everyone = data.values(key) if data is not None else []
    peers = data.values(key, band) if data is not None else []
    known = data is not None and fig.value is not None
    return Placing(
        ours.period, ours.as_of, ours.year_to_date, fig.value, fig.numerator, fig.denominator,
        data.year if data is not None else None, like, band,
        sector.quartiles(everyone) if data is not None else None,
        sector.percentile_position(fig.value, everyone) if known else None,
        sector.quartiles(peers) if data is not None else None,
        sector.percentile_position(fig.value, peers) if known else None)


def build(landlord: str, ours: Mapping[str, tsm.OurReturn | str],
          published: Mapping[str, sector.SectorYear]) -> HowWeCompare:
    """The section from our years' figures (or why there are none) and the published years."""
    latest = max(published)
    returns = sorted((r for r in ours.values() if isinstance(r, tsm.OurReturn)), key=lambda r: r.year, reverse=True)
    notes = [f"{why[:1].upper()}{why[1:]}." for year, why in sorted(ours.items(), reverse=True) if isinstance(why, str)]
    against: list[tuple[tsm.OurReturn, sector.SectorYear | None]] = []
    for r in returns:
        if r.year_to_date:
            against.append((r, published[latest]))
        elif r.year in published:
            against.append((r, published[r.year]))
        else:
            against.append((r, None))
            notes.append(f"The regulator has not published {r.year} yet: our figures for it are shown alone.")
    notes.append(NO_REGION)
    measures = []
    for m in sector.MEASURES:
        placings = tuple(_placing(r, m.key, data) for r, data in against)
        measures.append(MeasureComparison(m.key, m.title, m.unit, placings, _chart(m, placings, published)))
    return HowWeCompare(landlord, tuple(sorted(published, reverse=True)), tuple(returns), tuple(measures),
                        tuple(notes))


@dataclass(frozen=True)
class PositionChart:
    """What a measure's chart shows (charts.sector_position_chart's frames), drawn on asking: the app's
    page with every landlord's value as a dot, the pack without them (a thousand dots a chart are a
    thousand SVG shapes to print, and a grey smear on paper; the boxes say the same)."""

    groups: pl.DataFrame
    landlords: pl.DataFrame
    ours: pl.DataFrame
    unit: str

    def figure(self, each_landlord: bool = True) -> go.Figure:
        return charts.sector_position_chart(self.groups, self.landlords if each_landlord else None, self.ours,
                                            self.unit)


def _chart(m: sector.Measure, placings: tuple[Placing, ...], published: Mapping[str, sector.SectorYear]) \
        -> PositionChart:
    """A row per published year (newest first) for all landlords and for each size band of ours."""
    bands = list(dict.fromkeys(p.size_band for p in placings))
    groups, landlords, marks = [], [], []
    for year in sorted(published, reverse=True):
        data = published[year]
        for band in [None, *bands]:
            row = len(groups)
            values = data.values(m.key, band)
            q = sector.quartiles(values)
            who = "all landlords" if band is None else f"{band} homes"
            groups.append({"row": row, "label": f"{year}: {who} ({q.landlords:,})", "lower_quartile": q.lower_quartile,
                           "median": q.median, "upper_quartile": q.upper_quartile})
            landlords += [{"row": row, "value": v} for v in values]
            marks += [{"row": row, "label": p.label, "value": p.value, "like_for_like": p.like_for_like}
                      for p in placings if p.sector_year == year and p.value is not None
                      and (band is None or p.size_band == band)]
    return PositionChart(
        pl.DataFrame(groups, schema={"row": pl.Int64, "label": pl.String, "lower_quartile": pl.Float64,
                                     "median": pl.Float64, "upper_quartile": pl.Float64}),
        pl.DataFrame(landlords, schema={"row": pl.Int64, "value": pl.Float64}),
        pl.DataFrame(marks, schema={"row": pl.Int64, "label": pl.String, "value": pl.Float64,
                                    "like_for_like": pl.Boolean}),
        m.unit)


def how_we_compare(extract: Extract, folder: Path | None = None) -> HowWeCompare:
    """The "How we compare" section for an extract: raises sector.SectorError when the regulator's files
    are missing or unreadable, tsm.TsmError when the extract has no complete week."""
    published = published_years(folder)
    wanted = years_wanted(tsm.latest_week(extract), published)
    return build(extract.landlord, our_years(extract, wanted), published)
