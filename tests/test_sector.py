"""Sector figures from the regulator's published TSM workbooks: the reader on both real files,
quartiles and percentile positions against hand-worked examples, peers, broken files, the CLI.

Values marked "published" were read off the sheet `TSMyy_Management_Info` of the file named, at the
cell given (row numbers as Excel shows them). Broken and altered workbooks are built in tmp_path
from the real files.
"""

from __future__ import annotations

import json
import math
import subprocess
import zipfile
from pathlib import Path

import fastexcel
import openpyxl
import polars as pl
import pytest
from conftest import command

from housing_assurance import sector
from housing_assurance.settings import PROJECT_ROOT

TSM = PROJECT_ROOT.parent / "shared" / "data" / "tsm"
FILE_2024 = TSM / "2024_TSM_Full_Data_v1.1_FINAL.xlsx"  # reporting year 2023-24
FILE_2025 = TSM / "2025_TSM_Full_Data_v1.0_FINAL.xlsx"  # reporting year 2024-25
SCALE = {"%": 100, "per 1,000 homes": 1000}


@pytest.fixture(autouse=True)
def _published_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOUSING_ASSURANCE_TSM", raising=False)


@pytest.fixture(scope="module")
def y2024() -> sector.SectorYear:
    return sector.read_tsm_file(FILE_2024)


@pytest.fixture(scope="module")
def y2025() -> sector.SectorYear:
    return sector.read_tsm_file(FILE_2025)


def landlord(data: sector.SectorYear, code: str) -> dict:
    rows = data.landlords.filter(pl.col("landlord_code") == code).to_dicts()
    assert len(rows) == 1
    return rows[0]


# --- altered copies of the published workbooks ------------------------------------------------


def copy_with_sheet_renamed(source: Path, out: Path, old: str, new: str) -> Path:
    """The published file with one tab renamed, everything else byte for byte."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/workbook.xml":
                assert f'name="{old}"'.encode() in data
                data = data.replace(f'name="{old}"'.encode(), f'name="{new}"'.encode())
            zout.writestr(item, data)
    return out


def rebuilt_copy(source: Path, out: Path, yy: int, drop: tuple[str, ...] = (),
                 drop_from_dictionary: bool = False) -> Path:
    """The Data Dictionary and management-information sheets of a published file, rewritten with
    openpyxl as reporting year `yy`, leaving out columns whose heading starts with one of `drop`
    (and their dictionary entries too when `drop_from_dictionary`)."""
    reader = fastexcel.read_excel(source)
    old = next(n for n in reader.sheet_names if n.endswith("_Management_Info"))
    new = f"TSM{yy}_Management_Info"
    book = openpyxl.Workbook(write_only=True)

    def dropped(text: object) -> bool:
        return isinstance(text, str) and text.startswith(drop) if drop else False

    for name, title in (("Data Dictionary", "Data Dictionary"), (old, new)):
        text = reader.load_sheet_by_name(name, header_row=None, dtypes="string").to_polars()
        numbers = reader.load_sheet_by_name(name, header_row=None, dtypes="float").to_polars()
        header = next(i for i, row in enumerate(text.iter_rows()) if "Landlord code" in row or "Table" in row)
        keep = [j for j, h in enumerate(text.row(header)) if not (title == new and dropped(h))]
        sheet = book.create_sheet(title)
        for i, (t_row, n_row) in enumerate(zip(text.iter_rows(), numbers.iter_rows(), strict=True)):
            if title == "Data Dictionary" and i > header:
                if t_row[0] == old:
                    t_row = (new, *t_row[1:])
                if drop_from_dictionary and t_row[0] == new and dropped(t_row[1]):
                    continue
            sheet.append([n_row[j] if n_row[j] is not None and i > header else t_row[j] for j in keep])
    book.save(out)
    return out


# --- years and files ---------------------------------------------------------------------------


def test_default_folder_is_shared_beside_the_project_unless_named(monkeypatch, tmp_path):
    assert sector.tsm_folder() == PROJECT_ROOT.parent / "shared" / "data" / "tsm"
    monkeypatch.setenv("HOUSING_ASSURANCE_TSM", str(tmp_path))
    assert sector.tsm_folder() == tmp_path


def test_years_come_from_the_workbooks():
    assert sector.available_years() == {"2023-24": FILE_2024, "2024-25": FILE_2025}
    assert [sector.reporting_year(yy) for yy in (24, 25, 30)] == ["2023-24", "2024-25", "2029-30"]


def test_a_later_year_dropped_into_the_folder_is_picked_up(tmp_path):
    rebuilt_copy(FILE_2025, tmp_path / "2026_TSM_Full_Data_v1.0.xlsx", yy=26)
    (tmp_path / "~$2026_TSM_Full_Data_v1.0.xlsx").write_bytes(b"Excel's lock file while the workbook is open")
    (tmp_path / "README.md").write_text("not a workbook, not an .xlsx: ignored")
    years = sector.available_years(tmp_path)
    assert list(years) == ["2025-26"]
    later = sector.load_year("2025-26", tmp_path)
    assert later.year == "2025-26"
    assert later.landlords.height == 359
    # the same published numbers as the 2024-25 file it was rebuilt from
    assert landlord(later, "L4240")["RP02_emergency_pct"] == 85.3


def test_two_files_for_one_year_are_refused(tmp_path):
    for name in ("2025_TSM_Full_Data_v1.0_FINAL.xlsx", "2025_TSM_Full_Data_v1.1_FINAL.xlsx"):
        (tmp_path / name).write_bytes(FILE_2025.read_bytes())
    with pytest.raises(sector.SectorError, match=r"v1\.0_FINAL\.xlsx and .*v1\.1_FINAL\.xlsx both hold 2024-25"):
        sector.available_years(tmp_path)


def test_unknown_year_names_the_years_available():
    with pytest.raises(sector.SectorError) as err:
        sector.load_year("2019-20")
    assert str(err.value) == f"no TSM file for 2019-20 in {TSM}; years available: 2023-24, 2024-25"


# --- the reader on the published files ---------------------------------------------------------


def test_every_landlord_row_is_read_and_no_note_is(y2024, y2025):
    # 2023-24: header on row 3, landlords on rows 4-361, then a blank row and six rows of notes.
    # 2024-25: nine rows of notes, header on row 10, landlords on rows 11-369.
    assert y2024.landlords.height == 358
    assert y2025.landlords.height == 359
    assert y2024.landlords["landlord_code"].n_unique() == 358
    assert not y2024.landlords["landlord_name"].str.starts_with("Notes").any()
    assert (y2024.year, y2025.year) == ("2023-24", "2024-25")


def test_published_values_2024_25(y2025):
    a2dominion = landlord(y2025, "L4240")  # row 11
    assert a2dominion["landlord_name"] == "A2Dominion Housing Group Limited"
    assert (a2dominion["size_band"], a2dominion["region"]) == ("5,000-40,000", "South")  # E11, F11
    assert a2dominion["RP02_emergency_pct"] == 85.3  # Z11
    assert a2dominion["RP02_non_emergency_pct"] == 73.9  # X11
    assert a2dominion["CH01_stage1_per_1000"] == 199.9  # AG11
    assert a2dominion["CH02_stage1_pct"] == 70.2  # AH11
    assert a2dominion["CH01_stage2_per_1000"] == 47.1  # AI11
    assert a2dominion["CH02_stage2_pct"] == 73.7  # AJ11
    assert (a2dominion["CH01_stage1_per_1000_numerator"], a2dominion["CH01_stage1_per_1000_denominator"]) == (
        4281, 21417)  # BQ11, BR11

    fareham = landlord(y2025, "24UE")  # row 110
    assert (fareham["size_band"], fareham["region"]) == ("<5,000", "South")
    assert fareham["CH01_stage2_per_1000"] == 5.1  # AI110
    assert fareham["CH02_stage2_pct"] == 100  # AJ110: 12 of 12 (BY110, BZ110)

    islington = landlord(y2025, "00AU")  # row 187: CH02 part 1 excluded by the regulator
    assert islington["CH02_stage1_pct"] is None  # AH187 "[E]"
    assert islington["CH02_stage1_pct_marker"] == "[E]"
    assert islington["CH02_stage2_pct"] == 98.4  # AJ187
    assert islington["rsh_note"].startswith("Management information metric CH02_1")

    octavia = landlord(y2025, "L0717")  # row 238: RP02 removed by the regulator
    assert octavia["RP02_emergency_pct"] is None and octavia["RP02_emergency_pct_marker"] == "[E]"  # Z238
    assert octavia["RP02_non_emergency_pct_marker"] == "[E]"  # X238
    assert octavia["CH01_stage1_per_1000"] == 137.6  # AG238


def test_published_values_2023_24_full_precision_and_no_made_up_zeros(y2024):
    a2dominion = landlord(y2024, "L4240")  # row 4: the 2023-24 file keeps every digit
    assert a2dominion["RP02_non_emergency_pct"] == 68.797130635464285  # Q4
    assert a2dominion["RP02_emergency_pct"] == 66.577611541544215  # R4
    assert a2dominion["CH01_stage1_per_1000"] == 151.82659067551154  # AA4
    assert a2dominion["CH02_stage1_pct"] == 43.53846153846154  # AB4
    assert a2dominion["CH01_stage2_per_1000"] == 21.909744931327666  # AC4
    assert a2dominion["CH02_stage2_pct"] == 63.113006396588489  # AD4

    assert a2dominion["rsh_note"] is None  # H4 "[X]": no note from the regulator

    north_yorkshire = landlord(y2024, "5179")  # row 217
    assert north_yorkshire["RP02_emergency_pct_marker"] == "[E]"  # R217
    assert north_yorkshire["rsh_note"].startswith("Management information metrics RP01, RP02 and BS03")  # H217
    assert north_yorkshire["CH02_stage2_pct"] == 0  # AD217: a real 0, none of 5 (BQ217, BR217) on time

    leicester = landlord(y2024, "00FN")  # row 155: AB155 shows 0, but BM155 (numerator) is "[X]"
    assert leicester["CH02_stage1_pct"] is None and leicester["CH02_stage1_pct_marker"] == "[X]"
    assert leicester["CH01_stage1_per_1000"] == 35.378576593327132  # AA155

    fareham = landlord(y2024, "24UE")  # row 100: AD100 shows 0, from 0 of 0 (BQ100, BR100)
    assert fareham["CH02_stage2_pct"] is None and fareham["CH02_stage2_pct_marker"] == "[U]"
    assert fareham["CH02_stage1_pct"] == 83.333333333333329  # AB100


def test_published_values_agree_with_their_numerators_and_denominators(y2024, y2025):
    """Proves each key reads the intended column (not the LCHO or combined one): for every landlord the
    value is its own numerator over denominator, to the file's rounding (1 decimal place in 2024-25)."""
    for data, tolerance in ((y2024, 1e-6), (y2025, 0.05 + 1e-9)):
        for m in sector.MEASURES:
            rows = data.landlords.filter(pl.col(m.key).is_not_null())
            assert rows.height > 340
            worked = rows[f"{m.key}_numerator"] / rows[f"{m.key}_denominator"] * SCALE[m.unit]
            assert ((worked - rows[m.key]).abs() <= tolerance).all(), (data.year, m.key)


def test_every_missing_value_says_why(y2024, y2025):
    for data in (y2024, y2025):
        for key in sector.MEASURE_KEYS:
            missing = data.landlords.filter(pl.col(key).is_null())
            assert missing[f"{key}_marker"].is_in(list(sector.MARKERS)).all(), (data.year, key)
            assert data.landlords.filter(pl.col(key).is_not_null())[f"{key}_marker"].null_count() == \
                data.landlords.height - missing.height


def test_size_bands_and_regions(y2024, y2025):
    for data in (y2024, y2025):
        assert data.size_bands() == list(sector.SIZE_BANDS)
        assert data.regions() == ["London", "Midlands", "Mixed", "North", "South"]
        assert data.has_region
    # the 2023-24 file writes ">40000" (Birmingham City Council, E27, and 16 more), 2024-25 ">40,000"
    assert landlord(y2024, "00CN")["size_band"] == ">40,000"
    assert y2024.landlords.filter(pl.col("size_band") == ">40,000").height == 17
    assert landlord(y2025, "L4172")["size_band"] == ">40,000"  # Abri Group, E12
    # two 2023-24 landlords have no size band or region (rows 274 and 276, E and F empty)
    unbanded = y2024.landlords.filter(pl.col("size_band").is_null())
    assert sorted(unbanded["landlord_code"]) == ["L4513", "LH0050"]
    assert unbanded["region"].null_count() == 2


def test_size_band_of_a_landlord_from_its_homes():
    assert [sector.size_band(n) for n in (1_200, 4_999, 5_000, 40_000, 40_001)] == [
        "<5,000", "<5,000", "5,000-40,000", "5,000-40,000", ">40,000"]


# --- statistics --------------------------------------------------------------------------------


def test_quartiles_hand_worked():
    # 5 values sorted 2, 4, 7, 10, 16: rank positions (n-1)p = 1, 2, 3 fall on values 4, 7 and 10.
    assert sector.quartiles([10, 2, None, 16, 4, 7]) == sector.Quartiles(5, 4.0, 7.0, 10.0)
    # 6 values 1, 3, 4, 8, 9, 15: positions 1.25, 2.5, 3.75 (0-based)
    #   lower quartile 3 + 0.25 × (4 - 3) = 3.25; median 4 + 0.5 × (8 - 4) = 6; upper 8 + 0.75 × (9 - 8) = 8.75
    assert sector.quartiles([15, 9, 8, 4, 3, 1]) == sector.Quartiles(6, 3.25, 6.0, 8.75)
    assert sector.quartiles([42.5]) == sector.Quartiles(1, 42.5, 42.5, 42.5)
    assert sector.quartiles([None]) == sector.Quartiles(0, None, None, None)


def percentile_inc(values: list[float], p: float) -> float:
    """Excel's PERCENTILE.INC written out, to check the module's numpy call on the real files."""
    s = sorted(values)
    h = (len(s) - 1) * p
    low = math.floor(h)
    return s[low] + (h - low) * (s[min(low + 1, len(s) - 1)] - s[low])


def test_sector_figures_are_percentile_inc_over_landlords_with_a_value(y2024, y2025):
    for data in (y2024, y2025):
        figures = sector.sector_figures(data)
        assert list(figures) == list(sector.MEASURE_KEYS)
        for key, q in figures.items():
            values = data.values(key)
            assert q.landlords == len(values) == data.landlords[f"{key}_marker"].null_count()
            for got, p in ((q.lower_quartile, 0.25), (q.median, 0.5), (q.upper_quartile, 0.75)):
                assert got == pytest.approx(percentile_inc(values, p), abs=1e-9)


def test_percentile_position_counts_ties_half():
    values = [10, 20, 20, 30, None]
    assert sector.percentile_position(5, values) == 0
    assert sector.percentile_position(10, values) == 12.5  # (0 below + 1 tie / 2) / 4
    assert sector.percentile_position(20, values) == 50  # (1 below + 2 ties / 2) / 4
    assert sector.percentile_position(25, values) == 75  # 3 below
    assert sector.percentile_position(30, values) == 87.5
    assert sector.percentile_position(31, values) == 100
    assert sector.percentile_position(1, []) is None


def test_percentile_position_on_published_values(y2025):
    values = y2025.values("CH02_stage2_pct")
    at_100 = sum(v == 100 for v in values)
    assert at_100 > 80  # a quarter of landlords answered every stage 2 complaint in time
    assert sector.percentile_position(100, values) == pytest.approx(100 * (len(values) - at_100 / 2) / len(values))


# --- peers -------------------------------------------------------------------------------------


def test_peers_by_size_split_the_sector(y2024, y2025):
    for data in (y2024, y2025):
        whole = sector.sector_figures(data)
        bands = {band: sector.peers_by_size(data, band) for band in sector.SIZE_BANDS}
        for key in sector.MEASURE_KEYS:
            banded = data.landlords.filter(pl.col(key).is_not_null() & pl.col("size_band").is_not_null()).height
            assert sum(b[key].landlords for b in bands.values()) == banded <= whole[key].landlords
            big = data.landlords.filter(pl.col("size_band") == ">40,000")[key].to_list()
            assert bands[">40,000"][key] == sector.quartiles(big)
    # commas optional: the 2023-24 file's own spelling finds the same peers
    assert sector.peers_by_size(y2024, ">40000") == sector.peers_by_size(y2024, ">40,000")
    assert sector.peers_by_size(y2025, ">40,000")["RP02_emergency_pct"].landlords == 19
    with pytest.raises(sector.SectorError, match=r"no size band '1,000-2,000' in 2024-25; bands: <5,000, "):
        sector.peers_by_size(y2025, "1,000-2,000")


def test_peers_by_region(y2025):
    london = sector.peers_by_region(y2025, "london")
    assert london == sector.peers_by_region(y2025, "London")
    values = y2025.landlords.filter(pl.col("region") == "London")["CH01_stage1_per_1000"].to_list()
    assert london["CH01_stage1_per_1000"] == sector.quartiles(values)
    assert london["CH01_stage1_per_1000"].landlords == 53 - sum(v is None for v in values)
    total = sum(sector.peers_by_region(y2025, r)["RP02_emergency_pct"].landlords for r in y2025.regions())
    assert total == sector.sector_figures(y2025)["RP02_emergency_pct"].landlords
    with pytest.raises(sector.SectorError, match="no predominant region 'Wales' in 2024-25; regions: London, "):
        sector.peers_by_region(y2025, "Wales")


def test_a_year_without_a_region_has_no_peers_by_region(tmp_path):
    path = rebuilt_copy(FILE_2025, tmp_path / "2026_TSM.xlsx", yy=26, drop=("Landlord predominant region",),
                        drop_from_dictionary=True)
    data = sector.read_tsm_file(path)
    assert not data.has_region and data.regions() == []
    assert data.landlords["region"].null_count() == 359
    assert sector.peers_by_size(data, "<5,000") == sector.peers_by_size(sector.read_tsm_file(FILE_2025), "<5,000")
    with pytest.raises(sector.SectorError, match="gives no predominant region: no peers by region for that year"):
        sector.peers_by_region(data, "North")


# --- files that are not the published workbooks ------------------------------------------------


def one_line_error(path: Path) -> str:
    with pytest.raises(sector.SectorError) as err:
        sector.read_tsm_file(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message


def test_truncated_file(tmp_path):
    path = tmp_path / "2025_TSM_Full_Data_v1.0_FINAL.xlsx"
    path.write_bytes(FILE_2025.read_bytes()[:300_000])
    assert one_line_error(path).endswith("is damaged or truncated (the .xlsx cannot be opened)")


def test_not_an_xlsx(tmp_path):
    path = tmp_path / "2025_TSM_Full_Data.xlsx"
    path.write_text("Landlord name,Landlord code\nA2Dominion Housing Group Limited,L4240\n")
    assert one_line_error(path).endswith("is not an Excel .xlsx workbook")


def test_renamed_sheet(tmp_path):
    path = copy_with_sheet_renamed(FILE_2025, tmp_path / "renamed.xlsx", "TSM25_Management_Info", "Management info")
    assert one_line_error(path) == (f"{path}: expected one sheet named TSMyy_Management_Info, found Introduction, "
                                    f"Contents, Data Dictionary, Table_Coverage, TSM25_LCRA_Perception, "
                                    f"TSM25_LCHO_Perception, TSM25_Combined_Perception, Management info, "
                                    f"TSM25_Perception_Not_Inc, TSM25_Man_Info_Not_Inc")


def test_missing_data_dictionary(tmp_path):
    path = copy_with_sheet_renamed(FILE_2024, tmp_path / "no_dictionary.xlsx", "Data Dictionary", "Glossary")
    assert one_line_error(path) == f"{path}: no 'Data Dictionary' sheet to say what the columns are"


def test_missing_column(tmp_path):
    path = rebuilt_copy(FILE_2024, tmp_path / "2024_TSM.xlsx", yy=24,
                        drop=("Proportion of emergency responsive repairs",))
    assert one_line_error(path) == (
        f"{path}: sheet TSM24_Management_Info has no column 'Proportion of emergency responsive repairs "
        f"completed within the landlord’s target timescale (RP02 2)'")


def test_missing_dictionary_field(tmp_path):
    path = rebuilt_copy(FILE_2025, tmp_path / "2025_TSM.xlsx", yy=25, drop=("LCRA - Number of stage two",),
                        drop_from_dictionary=True)
    assert one_line_error(path) == (f"{path}: the Data Dictionary sheet has no field CH01_2_Calculated_Value_LCRA "
                                    f"for TSM25_Management_Info")


# --- the command line --------------------------------------------------------------------------


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return command(*args, env={"HOUSING_ASSURANCE_TSM": None, **(env or {})})


@pytest.mark.parametrize("year, data", [("2023-24", FILE_2024), ("2024-25", FILE_2025)])
def test_cli_json(year, data):
    done = run_cli("sector", "--year", year, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert list(out) == ["RP02_emergency_pct", "RP02_non_emergency_pct", "CH01_stage1_per_1000",
                         "CH01_stage2_per_1000", "CH02_stage1_pct", "CH02_stage2_pct"]
    expected = sector.sector_figures(sector.read_tsm_file(data))
    for key, figures in out.items():
        assert list(figures) == ["landlords", "lower_quartile", "median", "upper_quartile"]
        assert isinstance(figures["landlords"], int) and figures["landlords"] > 340
        assert figures == expected[key].as_dict()
    assert sector.ATTRIBUTION in done.stderr


def test_cli_table_carries_the_attribution():
    done = run_cli("sector", "--year", "2024-25")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "TSM reporting year 2024-25, all landlords (2025_TSM_Full_Data_v1.0_FINAL.xlsx)"
    assert lines[-1] == sector.ATTRIBUTION
    emergency = next(line for line in lines if line.startswith("Emergency repairs"))
    assert emergency.split()[-4:] == ["355", "89.1", "94.9", "98.9"]


def test_cli_unknown_year_and_unreadable_file(tmp_path):
    done = run_cli("sector", "--year", "2019-20", "--json")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"error: no TSM file for 2019-20 in {TSM}; years available: 2023-24, 2024-25\n"

    (tmp_path / "2025_TSM_Full_Data_v1.0_FINAL.xlsx").write_bytes(FILE_2025.read_bytes()[:100_000])
    done = run_cli("sector", "--year", "2024-25", env={"HOUSING_ASSURANCE_TSM": str(tmp_path)})
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == (f"error: {tmp_path / '2025_TSM_Full_Data_v1.0_FINAL.xlsx'}: is damaged or truncated "
                           f"(the .xlsx cannot be opened)\n")

    done = run_cli("sector", "--year", "2024")
    assert done.returncode == 2 and "is not a TSM reporting year in the form YYYY-YY" in done.stderr
