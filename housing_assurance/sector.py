"""How do we compare? The regulator's published Tenant Satisfaction Measures for every large landlord.

Reads the Regulator of Social Housing's `YYYY_TSM_Full_Data_*.xlsx` workbooks exactly as published
(folder `HOUSING_ASSURANCE_TSM`, default `<project>/../shared/data/tsm`) and gives, per TSM reporting
year, the sector's quartiles for the six management-information measures the `tsm` command computes
for our own landlord, for all landlords or for peers of one size band or predominant region.
docs/sector.md explains the choices and the limits.

Reading a workbook. The sheet `TSMyy_Management_Info` (one row per landlord) names the reporting
year: TSM25 covers 1 April 2024 to 31 March 2025, "2024-25". Its header row comes after notes (2024-25)
or before notes (2023-24), so it is found by its headings, and columns are found by their code in
the `Data Dictionary` sheet (`RP02_2_Calculated_Value` → its column heading), never by position.
Headings in the sheet carry footnote digits ("(RP02 1)5") that the dictionary does not, so both are
compared without them. `[X]` left blank, `[Z]` not required, `[E]` excluded by the regulator and `[U]`
denominator 0 are missing values; the marker is kept beside the value.

A published value counts only when its numerator and denominator are published and the denominator
is above 0: the 2023-24 file prints 0, not `[U]`, where a landlord had no complaints to time or left
the parts blank, and those made-up zeros would drag the quartiles down.

Region: both published years (2023-24 and 2024-25) have "Landlord predominant region" (North,
Midlands, South, London, Mixed). A later year whose Data Dictionary lists no predominant region has
`has_region` False, and peers by region are then unavailable for it (`SectorError`).
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import numpy as np
import polars as pl

from housing_assurance.settings import PROJECT_ROOT

ATTRIBUTION = ("Contains public sector information licensed under the Open Government Licence v3.0 "
               "(Regulator of Social Housing, Tenant Satisfaction Measures dataset)")

MARKERS = {
    "[X]": "left blank by the landlord",
    "[Z]": "not required",
    "[E]": "excluded by the regulator",
    "[U]": "denominator 0",
}

# The regulator's size bands (homes owned, low-cost rental and low-cost home ownership combined).
SIZE_BANDS = ("<5,000", "5,000-40,000", ">40,000")


@dataclass(frozen=True)
class Measure:
    """One sector figure and the Data Dictionary fields it is read from."""

    key: str
    title: str
    value_field: str  # the regulator's calculated value
    numerator_field: str
    denominator_field: str
    unit: str  # "%" or "per 1,000 homes"


MEASURES = (
    Measure("RP02_emergency_pct", "Emergency repairs completed within target (RP02 part 2)",
            "RP02_2_Calculated_Value", "RP02_2_Numerator", "RP02_2_Denominator", "%"),
    Measure("RP02_non_emergency_pct", "Non-emergency repairs completed within target (RP02 part 1)",
            "RP02_1_Calculated_Value", "RP02_1_Numerator", "RP02_1_Denominator", "%"),
    Measure("CH01_stage1_per_1000", "Stage 1 complaints, rented homes (CH01 part 1)",
            "CH01_1_Calculated_Value_LCRA", "CH01_1_Numerator_LCRA", "CH01_1_Denominator_LCRA", "per 1,000 homes"),
    Measure("CH01_stage2_per_1000", "Stage 2 complaints, rented homes (CH01 part 2)",
            "CH01_2_Calculated_Value_LCRA", "CH01_2_Numerator_LCRA", "CH01_2_Denominator_LCRA", "per 1,000 homes"),
    Measure("CH02_stage1_pct", "Stage 1 complaints answered within the Code's timescales, rented homes (CH02 part 1)",
            "CH02_1_Calculated_Value_LCRA", "CH02_1_Numerator_LCRA", "CH02_1_Denominator_LCRA", "%"),
    Measure("CH02_stage2_pct", "Stage 2 complaints answered within the Code's timescales, rented homes (CH02 part 2)",
            "CH02_2_Calculated_Value_LCRA", "CH02_2_Numerator_LCRA", "CH02_2_Denominator_LCRA", "%"),
)
MEASURE_KEYS = tuple(m.key for m in MEASURES)

# Landlord details have no field code in the Data Dictionary ("System Property"): found by heading.
DETAIL_HEADINGS = {
    "landlord_code": "landlord code",
    "landlord_name": "landlord name",
    "size_band": "landlord group size",
    "region": "landlord predominant region",
    "rsh_note": "any additional notes from rsh",
}
OPTIONAL_DETAILS = ("region", "rsh_note")

_SHEET = re.compile(r"TSM(\d{2})_Management_Info")
_DICTIONARY_SHEET = "Data Dictionary"
_HEADER_SEARCH_ROWS = 50
_BAND = re.compile(r"([<>]?)(\d[\d,]*)(?:-(\d[\d,]*))?")


class SectorError(ValueError):
    """A TSM file that cannot be read as published, or a year, band or region it does not have: one line."""


@dataclass(frozen=True)
class SectorYear:
    """One reporting year's landlords: a row each with details and, per measure key, the value,
    its marker (`[X]`, `[Z]`, `[E]`, `[U]` or null), numerator and denominator."""

    year: str
    source: Path
    landlords: pl.DataFrame
    has_region: bool

    def values(self, key: str, size_band: str | None = None) -> list[float]:
        """The landlords' published values of a measure (of one size band, when given: peers by size),
        missing ones left out."""
        rows = self.landlords if size_band is None else self.landlords.filter(pl.col("size_band") == size_band)
        return rows[key].drop_nulls().to_list()

    def size_bands(self) -> list[str]:
        present = set(self.landlords["size_band"].drop_nulls())
        return [b for b in SIZE_BANDS if b in present] + sorted(present - set(SIZE_BANDS))

    def regions(self) -> list[str]:
        return sorted(self.landlords["region"].drop_nulls().unique()) if self.has_region else []


@dataclass(frozen=True)
class Quartiles:
    """Unweighted across landlords: every landlord counts once, whatever its size."""

    landlords: int
    lower_quartile: float | None
    median: float | None
    upper_quartile: float | None

    def as_dict(self) -> dict:
        return {"landlords": self.landlords, "lower_quartile": self.lower_quartile, "median": self.median,
                "upper_quartile": self.upper_quartile}


def tsm_folder() -> Path:
    """Where the regulator's files live: `HOUSING_ASSURANCE_TSM`, else `shared/data/tsm` beside the project."""
    return Path(os.environ.get("HOUSING_ASSURANCE_TSM", PROJECT_ROOT.parent / "shared" / "data" / "tsm"))


def reporting_year(yy: int) -> str:
    """The TSM year a `TSMyy` sheet covers: TSM25 is 1 April 2024 to 31 March 2025, "2024-25"."""
    start = 2000 + yy - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _open(path: Path) -> tuple[fastexcel.ExcelReader, str, str]:
    """The workbook, its management-information sheet and reporting year, or a one-line SectorError."""
    try:
        reader = fastexcel.read_excel(path)
    except fastexcel.FastExcelError:
        if not path.is_file():
            raise SectorError(f"{path}: no such file") from None
        with path.open("rb") as f:
            zipped = f.read(4) == b"PK\x03\x04"  # an .xlsx is a zip archive
        what = "is damaged or truncated (the .xlsx cannot be opened)" if zipped else "is not an Excel .xlsx workbook"
        raise SectorError(f"{path}: {what}") from None
    found = [(name, m) for name in reader.sheet_names if (m := _SHEET.fullmatch(name))]
    if len(found) != 1:
        raise SectorError(f"{path}: expected one sheet named TSMyy_Management_Info, found "
                          f"{', '.join(reader.sheet_names) or 'no sheets'}")
    if _DICTIONARY_SHEET not in reader.sheet_names:
        raise SectorError(f"{path}: no '{_DICTIONARY_SHEET}' sheet to say what the columns are")
    name, match = found[0]
    return reader, name, reporting_year(int(match.group(1)))


def available_years(folder: Path | None = None) -> dict[str, Path]:
    """Every reporting year in the folder and its file, earliest first: each .xlsx is opened for its year."""
    folder = folder or tsm_folder()
    if not folder.is_dir():
        raise SectorError(f"no TSM folder at {folder} (HOUSING_ASSURANCE_TSM names another)")
    years: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() != ".xlsx" or path.name.startswith("~$"):  # ~$…: Excel's lock file
            continue
        _, _, year = _open(path)
        if year in years:
            raise SectorError(f"{years[year].name} and {path.name} both hold {year} in {folder}: keep one")
        years[year] = path
    return dict(sorted(years.items()))


def load_year(year: str, folder: Path | None = None) -> SectorYear:
    """The landlords of one reporting year ("2024-25") from the folder's files."""
    years = available_years(folder)
    if year not in years:
        raise SectorError(f"no TSM file for {year} in {folder or tsm_folder()}; years available: "
                          f"{', '.join(years) or 'none'}")
    return read_tsm_file(years[year])


def _clean(text: object) -> str:
    """A heading as compared: no footnote digits, hard or zero-width spaces, or case."""
    s = unicodedata.normalize("NFKC", str(text)).replace("\u200b", "")
    s = " ".join(s.split())
    return re.sub(r"(?<=[)A-Za-z?])\d+$", "", s).casefold()


def _sheet(reader: fastexcel.ExcelReader, path: Path, name: str, dtype: str = "string") -> pl.DataFrame:
    """Every cell of a sheet as text, or as numbers (text cells then null): numbers are read as such
    because the text of a number cell is rounded to 9 decimal places."""
    try:
        return reader.load_sheet_by_name(name, header_row=None, dtypes=dtype).to_polars()
    except fastexcel.FastExcelError:
        raise SectorError(f"{path}: sheet {name} is damaged and cannot be read") from None


def _header_row(table: pl.DataFrame, wanted: set[str]) -> int | None:
    """The first row (within the notes' reach) holding all the wanted headings."""
    for i, row in enumerate(table.head(_HEADER_SEARCH_ROWS).iter_rows()):
        if wanted <= {_clean(v) for v in row if v is not None}:
            return i
    return None


def _dictionary(reader: fastexcel.ExcelReader, path: Path, sheet: str) -> list[tuple[str, str]]:
    """(Data Field Name, Column Heading) of every dictionary row describing the sheet."""
    table = _sheet(reader, path, _DICTIONARY_SHEET)
    columns = ("table", "column heading", "data field name")
    at = _header_row(table, set(columns))
    if at is None:
        raise SectorError(f"{path}: the {_DICTIONARY_SHEET} sheet has no 'Table', 'Column Heading' and "
                          f"'Data Field Name' headings")
    index = {_clean(v): j for j, v in enumerate(table.row(at)) if v is not None}
    t, h, f = (index[c] for c in columns)
    return [("".join((row[f] or "").split()), row[h]) for row in table.slice(at + 1).iter_rows()
            if row[t] is not None and row[t].strip() == sheet and row[h] is not None]


def read_tsm_file(path: Path) -> SectorYear:
    """One published workbook: a row per landlord with its details and the six measures."""
    path = Path(path)
    reader, sheet, year = _open(path)
    entries = _dictionary(reader, path, sheet)
    if not entries:
        raise SectorError(f"{path}: the {_DICTIONARY_SHEET} sheet describes no columns of {sheet}")

    def by_heading(start: str) -> str | None:
        return next((h for _, h in entries if _clean(h).startswith(start)), None)

    def by_field(field: str) -> str:
        heading = next((h for f, h in entries if f == field), None)
        if heading is None:
            raise SectorError(f"{path}: the {_DICTIONARY_SHEET} sheet has no field {field} for {sheet}")
        return heading

    headings = {name: by_heading(start) for name, start in DETAIL_HEADINGS.items()}
    for name, heading in headings.items():
        if heading is None and name not in OPTIONAL_DETAILS:
            raise SectorError(f"{path}: the {_DICTIONARY_SHEET} sheet has no '{DETAIL_HEADINGS[name]}' "
                              f"column for {sheet}")
    for m in MEASURES:
        for part, field in (("", m.value_field), ("_numerator", m.numerator_field),
                            ("_denominator", m.denominator_field)):
            headings[m.key + part] = by_field(field)

    table = _sheet(reader, path, sheet)
    at = _header_row(table, {_clean(headings["landlord_code"]), _clean(headings["landlord_name"])})
    if at is None:
        raise SectorError(f"{path}: sheet {sheet} has no header row with '{headings['landlord_code']}' "
                          f"in its first {_HEADER_SEARCH_ROWS} rows")
    in_sheet = {_clean(v): j for j, v in reversed(list(enumerate(table.row(at)))) if v is not None}
    picked = {}
    for name, heading in headings.items():
        if heading is None:
            continue
        if _clean(heading) not in in_sheet:
            raise SectorError(f"{path}: sheet {sheet} has no column '{' '.join(heading.split())}'")
        picked[name] = table.columns[in_sheet[_clean(heading)]]
    numbers = _sheet(reader, path, sheet, "float")
    rows = pl.concat([
        table.select(pl.col(col).str.strip_chars().replace("", None).alias(name) for name, col in picked.items()),
        numbers.select(pl.col(picked[name]).alias(f"{name} number") for name in picked if name not in DETAIL_HEADINGS),
    ], how="horizontal").slice(at + 1).filter(pl.col("landlord_code").is_not_null())
    if rows.is_empty():
        raise SectorError(f"{path}: sheet {sheet} has no landlord rows under its header")

    landlords = rows.select(
        "landlord_code", "landlord_name",
        _size_band_column(rows, path, sheet),
        pl.col("region") if "region" in rows.columns else pl.lit(None, pl.String).alias("region"),
        (pl.col("rsh_note") if "rsh_note" in rows.columns else pl.lit(None, pl.String))
        .replace("[X]", None).alias("rsh_note"),
        *[expr for m in MEASURES for expr in _measure_columns(rows, m, path, sheet, headings)],
    )
    return SectorYear(year, path, landlords, has_region="region" in rows.columns)


def _size_band_column(rows: pl.DataFrame, path: Path, sheet: str) -> pl.Series:
    bands = {}
    for text in rows["size_band"].drop_nulls().unique():
        bands[text] = _size_band_text(text)
        if bands[text] is None:
            raise SectorError(f"{path}: sheet {sheet} has a size band '{text}' that is not like "
                              f"{', '.join(SIZE_BANDS)}")
    return rows["size_band"].replace_strict(bands, default=None, return_dtype=pl.String)


def _size_band_text(text: str) -> str | None:
    """A band as the regulator writes it in 2024-25 (">40,000"), whatever its commas, spaces or dashes."""
    s = re.sub(r"\s", "", unicodedata.normalize("NFKC", text)).replace("–", "-").replace("—", "-")
    m = _BAND.fullmatch(s)
    if m is None or (m.group(1) and m.group(3)):
        return None
    low = f"{int(m.group(2).replace(',', '')):,}"
    return f"{m.group(1)}{low}" if m.group(3) is None else f"{low}-{int(m.group(3).replace(',', '')):,}"


def _numbers(rows: pl.DataFrame, name: str, path: Path, sheet: str, heading: str) -> tuple[pl.Series, pl.Series]:
    """A published column as (numbers, markers); any other text is a file we do not understand."""
    raw = rows[name]
    markers = raw.replace_strict({m: m for m in MARKERS}, default=None, return_dtype=pl.String)
    numbers = rows[f"{name} number"].fill_null(raw.cast(pl.Float64, strict=False))  # or a number typed as text
    bad = rows.filter(raw.is_not_null() & markers.is_null() & numbers.is_null())
    if not bad.is_empty():
        raise SectorError(f"{path}: sheet {sheet}, column '{' '.join(heading.split())}', landlord "
                          f"{bad['landlord_code'][0]}: '{bad[name][0]}' is neither a number nor one of "
                          f"{', '.join(MARKERS)}")
    return numbers, markers


def _measure_columns(rows: pl.DataFrame, m: Measure, path: Path, sheet: str,
                     headings: dict[str, str | None]) -> list[pl.Series]:
    """The value (only where its numerator and denominator are published and the denominator is above 0),
    why it is missing, its numerator and its denominator."""
    (value, v_marker), (num, n_marker), (den, d_marker) = (
        _numbers(rows, m.key + part, path, sheet, headings[m.key + part])
        for part in ("", "_numerator", "_denominator"))
    frame = pl.DataFrame({"v": value, "vm": v_marker, "n": num, "nm": n_marker, "d": den, "dm": d_marker})
    counts = pl.col("n").is_not_null() & (pl.col("d") > 0).fill_null(False)
    out = frame.select(
        pl.when(counts).then(pl.col("v")).alias(m.key),
        pl.when(~counts | pl.col("v").is_null())
        .then(pl.coalesce("vm", "nm", "dm", pl.when(pl.col("d") == 0).then(pl.lit("[U]"))))
        .alias(f"{m.key}_marker"),
        pl.col("n").alias(f"{m.key}_numerator"),
        pl.col("d").alias(f"{m.key}_denominator"),
    )
    return out.get_columns()


def size_band(homes: int) -> str:
    """The regulator's size band for a landlord owning this many social homes (rented and shared ownership)."""
    if homes < 5_000:
        return "<5,000"
    return "5,000-40,000" if homes <= 40_000 else ">40,000"


def quartiles(values: Iterable[float | None]) -> Quartiles:
    """Lower quartile, median and upper quartile by linear interpolation between closest ranks
    (numpy's default, Excel's PERCENTILE.INC); missing values are left out."""
    present = np.array([v for v in values if v is not None], dtype=float)
    if present.size == 0:
        return Quartiles(0, None, None, None)
    lq, med, uq = np.percentile(present, [25, 50, 75], method="linear")
    return Quartiles(int(present.size), float(lq), float(med), float(uq))


def _figures(landlords: pl.DataFrame) -> dict[str, Quartiles]:
    return {key: quartiles(landlords[key].drop_nulls().to_list()) for key in MEASURE_KEYS}


def sector_figures(data: SectorYear) -> dict[str, Quartiles]:
    """Every landlord in the year's file."""
    return _figures(data.landlords)


def peers_by_size(data: SectorYear, band: str) -> dict[str, Quartiles]:
    """Landlords of one size band (`<5,000`, `5,000-40,000`, `>40,000`; commas optional)."""
    wanted = _size_band_text(band)
    if wanted not in data.size_bands():
        raise SectorError(f"no size band {band!r} in {data.year}; bands: {', '.join(data.size_bands())}")
    return _figures(data.landlords.filter(pl.col("size_band") == wanted))


def peers_by_region(data: SectorYear, region: str) -> dict[str, Quartiles]:
    """Landlords whose predominant region is this one (as the regulator names it, e.g. "North")."""
    if not data.has_region:
        raise SectorError(f"the {data.year} file ({data.source.name}) gives no predominant region: "
                          f"no peers by region for that year")
    match = next((r for r in data.regions() if r.casefold() == region.strip().casefold()), None)
    if match is None:
        raise SectorError(f"no predominant region {region!r} in {data.year}; regions: {', '.join(data.regions())}")
    return _figures(data.landlords.filter(pl.col("region") == match))


def percentile_position(value: float, values: Iterable[float | None]) -> float | None:
    """Where a value stands among landlords, 0-100: the share with a lower value, ties counted half
    ((below + equal / 2) / n × 100). None when no landlord has a value. It says nothing of better or
    worse: a low position is good for complaints per 1,000 homes, bad for repairs on time."""
    present = np.array([v for v in values if v is not None], dtype=float)
    if present.size == 0:
        return None
    below = np.count_nonzero(present < value)
    equal = np.count_nonzero(present == value)
    return float(100 * (below + equal / 2) / present.size)


def format_figures(data: SectorYear, figures: dict[str, Quartiles], heading: str = "all landlords") -> str:
    """A plain-text table of the figures, with the attribution line the licence asks for."""

    def number(x: float | None) -> str:
        return "—" if x is None else f"{x:.1f}"

    width = max(len(m.title) for m in MEASURES)
    lines = [f"TSM reporting year {data.year}, {heading} ({data.source.name})",
             f"{'measure':<{width}} {'unit':<15} {'landlords':>9} {'lower q.':>9} {'median':>9} {'upper q.':>9}"]
    for m in MEASURES:
        q = figures[m.key]
        lines.append(f"{m.title:<{width}} {m.unit:<15} {q.landlords:>9} {number(q.lower_quartile):>9} "
                     f"{number(q.median):>9} {number(q.upper_quartile):>9}")
    lines.append(ATTRIBUTION)
    return "\n".join(lines)
