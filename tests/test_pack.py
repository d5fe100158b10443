"""The weekly PDF pack: its figures are kpis.compute's, its cases are its scope's, its pages render,
its file is written atomically, and the `report` command exits 0/1/2 as interfaces.md says.

One small demo extract (1,500 homes, 2 years, ending Mon 23 Nov 2026, extracted 06:00 that day)
and three packs (whole landlord through the command line, one region, one team) are made once for
the module; everything else reads them.
"""

from __future__ import annotations

import functools
import gc
import io
import json
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import plotly.graph_objects as go
import polars as pl
import pytest
from conftest import PACK_MARGINS, command, no_error, open_app_at, pack_page_body, pdf_page_texts
from pypdf import PdfReader

from housing_assurance import cli, exports, pack, routes, why
from housing_assurance.db import open_extract
from housing_assurance.kpis import CATALOGUE, KPIS, cases, compute, trend
from housing_assurance.pack import content
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.scorecard import HEADLINE, headline_text, scorecard_from_history
from housing_assurance.targets import targets
from housing_assurance.weeks import TREND_WEEKS
from housing_assurance.words import value_text

pytestmark = pytest.mark.slow  # every test here reads packs built for the module (Chromium)

END = date(2026, 11, 23)
AS_OF = date(2026, 11, 22)  # the latest week complete when the extract was taken (23 Nov 06:00)
EXCEPTION_KPIS = ("dm.overdue_open_cases", "cx.open_overdue", "vu.open_overdue_jobs_vulnerable")
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def extract(demo_extract):
    return demo_extract


@pytest.fixture(scope="module")
def landlord_run(demo_landlord_pack) -> tuple[Path, Path]:
    """The whole-landlord pack, made as a scheduler would: the report command in a fresh process, which
    never imports Streamlit (exit code 0); made once for the run (conftest.demo_landlord_pack)."""
    return demo_landlord_pack


@pytest.fixture(scope="module")
def landlord_pdf(landlord_run) -> Path:
    return landlord_run[0]


@pytest.fixture(scope="module")
def busiest(extract) -> tuple[str, str]:
    """The region with most exception cases, and its repairs team (a region and team pack worth reading)."""
    rows = pl.concat([exception_cases(extract, k).select("region", "team_id") for k in EXCEPTION_KPIS])
    region = rows.group_by("region").len().sort(["len", "region"], descending=[True, False])["region"][0]
    team = (rows.filter(pl.col("region") == region, pl.col("team_id").str.starts_with("repairs"))
            .group_by("team_id").len().sort("len", descending=True)["team_id"][0])
    return region, team


@pytest.fixture(scope="module")
def region_pdf(extract, busiest, renderer, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("packs") / "region.pdf"
    return pack.write_pack(extract, AS_OF, Scope(region=busiest[0]), out, renderer=renderer)


@pytest.fixture(scope="module")
def team_pdf(extract, busiest, renderer, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("packs") / "team.pdf"
    return pack.write_pack(extract, AS_OF, Scope(teams=(busiest[1],)), out, renderer=renderer,
                           prepared_for=TEAM_PACK_USER)


TEAM_PACK_USER = "team.manager@example.org (manager)"
EXECUTIVE = "chief.executive@example.org"


@pytest.fixture(scope="module")
def app_pdf(demo_dir, tmp_path_factory) -> Path:
    """The whole-landlord pack made as a person makes it: the sidebar's button, in the app's own script
    (AppTest runs it in this process, where Streamlit has made its Plotly template the default)."""
    import plotly.io as pio

    from housing_assurance.app import data

    folder = tmp_path_factory.mktemp("packs")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(data.DATA_ENV, str(demo_dir))
        mp.setenv("HOUSING_ASSURANCE_ACCESS", str(demo_dir / "access.toml"))
        mp.setenv("HOUSING_ASSURANCE_DEMO_MODE", "1")
        mp.setenv("HOUSING_ASSURANCE_AUDIT", str(folder / "audit.jsonl"))
        at = open_app_at(None, EXECUTIVE, AS_OF, timeout=300)
        next(b for b in at.sidebar.button if b.key == "pack_build").click()
        at.run()
        assert no_error(at) and not at.error, [e.value for e in at.error]
    assert pio.templates.default == "streamlit"  # the trap the pack's charts must not fall into
    out = folder / "app.pdf"
    out.write_bytes(at.session_state["_pack"][1])
    return out


@pytest.fixture(scope="module")
def short_pdf(extract, renderer, tmp_path_factory) -> Path:
    """A whole-landlord pack whose exception sections show their 5 oldest cases (the demo's lists are
    shorter than 20), so that the appendix holds the rest."""
    out = tmp_path_factory.mktemp("packs") / "short.pdf"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(content, "TOP_EXCEPTIONS", 5)
        return pack.write_pack(extract, AS_OF, Scope(), out, renderer=renderer)


def test_cover_names_whom_a_scoped_pack_was_prepared_for(team_pdf, landlord_pdf):
    assert "Prepared for" in pdf_pages(team_pdf)[0] and TEAM_PACK_USER in pdf_pages(team_pdf)[0]
    assert "Prepared for" not in pdf_text(landlord_pdf)  # the scheduler's pack is nobody's in particular


def page_texts(path: Path) -> tuple[str, ...]:
    """Each page's whole text, read once per version of a file (many tests read the same packs)."""
    stat = path.stat()
    return _page_texts(path, stat.st_mtime_ns, stat.st_size)


@functools.cache
def _page_texts(path: Path, mtime_ns: int, size: int) -> tuple[str, ...]:
    return tuple(pdf_page_texts(path))


def pdf_pages(path: Path) -> tuple[str, ...]:
    """Each page's text below its header and above its footer."""
    return tuple(pack_page_body(text) for text in page_texts(path))


def pdf_text(path: Path) -> str:
    return "\n".join(pdf_pages(path))


def exceptions_text(path: Path) -> str:
    """The text from the Exceptions section on (the cover's contents list names it too: skip that)."""
    text = pdf_text(path)
    return text[text.index("\nExceptions\nWeek ending"):]


# ---------------------------------------------------------------------------------------------
# (a) every figure is kpis.compute's


def check_figures(path: Path, extract, scope: Scope) -> None:
    """Each KPI's id line in the PDF is followed by its value (and n of N) exactly as kpis.compute gives them."""
    text = pdf_text(path)
    figures = {r["kpi_id"]: r for r in compute(extract, [AS_OF], scope).iter_rows(named=True)}
    for k in CATALOGUE:
        found = re.findall(rf"^{re.escape(k.id)}\n(\S+)(?: |\n)(.*)$", text, re.M)
        assert found, f"{k.id} is not in the pack"
        assert len(found) >= (2 if k.id in HEADLINE else 1), f"{k.id}: on the scorecard and in its section"
        f = figures[k.id]
        for value, rest in found:
            expected = value_text(k, f["value"])  # "54.1 days" spans the value and the rest of its line
            assert f"{value} {rest}".startswith(expected) if " " in expected else value == expected, (k.id, value)
            if k.kind == "pct" and f["denominator"]:
                assert rest == f"{f['numerator']:,} of {f['denominator']:,}", (k.id, rest, f)
            if k.kind == "per_1000_homes" and f["denominator"]:
                assert rest == f"{f['numerator']:,} in {f['denominator']:,} homes", (k.id, rest, f)


def test_whole_landlord_figures_are_those_of_kpis_compute(landlord_pdf, extract):
    check_figures(landlord_pdf, extract, Scope())


def test_figures_match_the_kpis_command(landlord_pdf, demo_dir):
    """The same week and scope through `kpis --json`, the command a board secretary can rerun."""
    out = command("kpis", "--data", demo_dir, "--as-of", AS_OF.isoformat(), "--json")
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)["kpis"]
    text = pdf_text(landlord_pdf)
    for kpi_id in HEADLINE:
        shown = re.findall(rf"^{re.escape(kpi_id)}\n(\S+)", text, re.M)
        assert set(shown) == {value_text(KPIS[kpi_id], figures[kpi_id]["value"])}, kpi_id


def test_region_and_team_figures_are_those_of_kpis_compute(region_pdf, team_pdf, extract, busiest):
    check_figures(region_pdf, extract, Scope(region=busiest[0]))
    check_figures(team_pdf, extract, Scope(teams=(busiest[1],)))


def test_cover_says_what_when_and_for_whom(landlord_pdf, team_pdf, busiest, extract):
    cover = pdf_pages(landlord_pdf)[0]
    assert "Brookmere Housing (demo)" in cover
    assert "Week ending Sunday 22 November 2026" in cover
    assert "16 Nov 2026 to 22 Nov 2026" in cover
    assert "Whole landlord" in cover
    assert "midnight at the end of 22 Nov 2026" in cover
    assert "23 Nov 2026 06:00" in cover  # extract taken
    team_cover = pdf_pages(team_pdf)[0]
    name = extract.query("names").filter(pl.col("id") == busiest[1])["label"][0]
    assert f"Scope {name}" in team_cover and busiest[1] not in team_cover  # a team by its name, never its id


def test_every_page_is_marked_and_numbered(landlord_pdf):
    pages = page_texts(landlord_pdf)
    for number, text in enumerate(pages, start=1):
        margins = re.match(PACK_MARGINS, text)
        assert margins, number
        assert margins.groups() == (str(number), str(len(pages)),
                                    "Brookmere Housing (demo) · week ending 22 Nov 2026 · Whole landlord"), number


def test_the_contents_give_the_page_each_part_starts_on(landlord_pdf):
    """Chromium cannot number a link's target page itself: the numbers come from a first print, laid out
    while the charts were still being drawn (render.pdf_from_html). Each must be the page its part is on."""
    pages = pdf_pages(landlord_pdf)
    contents = pages[0][pages[0].index("Contents\n"):pages[0].index("How to read this pack")]
    listed = re.findall(r"^(.+) (\d+)$", contents, flags=re.MULTILINE)
    parts = ["What is off target, and why", "Executive scorecard", *(name for _, name in routes.sections()),
             "How we compare", "Exceptions (and homes at risk of damp and mould)"]
    assert [title for title, _ in listed][:len(parts)] == parts and len(listed) > len(parts)
    for title, number in listed:
        page = pages[int(number) - 1]
        if title.endswith(")") and not title.startswith("Exceptions"):  # a list of cases: "Overdue complaints (0)"
            name, count = re.fullmatch(r"(.+) \((\d+)\)", title).groups()
            assert f"\n{name}: {count}\n" in page or page.startswith(f"{name}: {count}\n"), title
        else:
            assert page.startswith(title.removesuffix(" (and homes at risk of damp and mould)") + "\n"), title


# ---------------------------------------------------------------------------------------------
# (b) the exception tables hold exactly the scope's cases, named by id and area only


def listed_ids(path: Path, universe: set[str]) -> set[str]:
    text = exceptions_text(path)
    return {token for token in re.findall(r"\b[A-Z]+[0-9]+\b", text) if token in universe}


def scope_case_ids(extract, scope: Scope) -> set[str]:
    return {i for k in EXCEPTION_KPIS for i in exception_cases(extract, k, scope)["id"].to_list()}


_CASES: dict = {}


def exception_cases(extract, kpi_id: str, scope: Scope = WHOLE_LANDLORD) -> pl.DataFrame:
    """kpis.cases for the pack's week, once per (KPI, scope) for the module."""
    key = (kpi_id, scope)
    if key not in _CASES:
        _CASES[key] = cases(extract, AS_OF, kpi_id, scope)
    return _CASES[key]


def test_landlord_pack_lists_every_exception_case(landlord_pdf, extract):
    everyone = scope_case_ids(extract, Scope())
    assert everyone, "the demo week should have exception cases"
    assert listed_ids(landlord_pdf, everyone) == everyone


@pytest.mark.parametrize("which", ["region", "team"])
def test_scoped_pack_lists_only_its_scope_cases(which, region_pdf, team_pdf, extract, busiest):
    path, scope = ((region_pdf, Scope(region=busiest[0])) if which == "region"
                   else (team_pdf, Scope(teams=(busiest[1],))))
    everyone = scope_case_ids(extract, Scope())
    mine = scope_case_ids(extract, scope)
    assert mine and mine != everyone, "the scope should hold some but not all of the cases"
    assert listed_ids(path, everyone) == mine
    # and each of them is the scope's by its own columns
    for k in EXCEPTION_KPIS:
        rows = exception_cases(extract, k).filter(pl.col("id").is_in(list(mine)))
        column, value = ("region", busiest[0]) if which == "region" else ("team_id", busiest[1])
        assert rows[column].to_list() == [value] * rows.height


def test_no_address_postcode_or_vulnerability_in_the_pack(short_pdf, extract):
    attached = attachments_text(short_pdf)  # the workbooks attached to the PDF too
    assert attached, "the short pack should attach workbooks"
    text = pdf_text(short_pdf) + "\n" + attached
    listed = scope_case_ids(extract, Scope())
    homes = pl.concat([exception_cases(extract, k).select("property_id") for k in EXCEPTION_KPIS])
    places = extract.sql("select address, postcode from properties where list_contains($ids, property_id)",
                         ids=homes["property_id"].drop_nulls().to_list())
    assert listed and places.height
    for address, postcode in places.iter_rows():
        assert address not in text and postcode not in text
    # Exception tables name a case by its id and area; property ids appear only in the homes-at-risk list.
    before_risk = pdf_text(short_pdf).split("Homes at risk of damp and mould: top")[0] + "\n" + attached
    for pid in homes["property_id"].drop_nulls().to_list():
        assert not re.search(rf"\b{re.escape(pid)}\b", before_risk)
    kinds = extract.sql("select distinct vulnerability_type as t from vulnerabilities where t <> 'other'")["t"]
    for kind in kinds.to_list():
        assert kind not in text and kind.replace("_", " ") not in text.lower(), kind


def test_pack_lists_the_top_homes_at_risk(landlord_pdf, extract):
    from housing_assurance.risk import top_homes_at_risk

    text = pdf_text(landlord_pdf)
    assert "Homes at risk of damp and mould: top" in text
    risk_text = text.split("Homes at risk of damp and mould: top")[1]
    top = top_homes_at_risk(extract, AS_OF, Scope(), n=20)
    for pid in top["property_id"].to_list():
        assert pid in risk_text


def words(text: str) -> str:
    return " ".join(text.split())


def test_first_page_says_what_is_off_target_and_why_in_the_tiles_words(landlord_pdf, extract):
    """After the cover: the overview's headline, then every red and amber figure with the reason its tile
    gives (why.reason over the drill-down's cases), reds first."""
    pages = pdf_pages(landlord_pdf)
    assert pages[1].startswith("What is off target, and why")
    text = pdf_text(landlord_pdf)
    first = words(text[text.index("What is off target, and why\nWeek ending"):text.index("Executive scorecard\nWeek")])
    ids = [k.id for k in CATALOGUE]
    card = scorecard_from_history(trend(extract, AS_OF, TREND_WEEKS, Scope(), ids), AS_OF, ids)
    assert words(headline_text(card.filter(pl.col("kpi_id").is_in(list(HEADLINE))))) in first
    flagged = card.filter(pl.col("rag").is_in(["red", "amber"]) & pl.col("value").is_not_null())
    assert flagged.filter(pl.col("rag") == "red").height, "the demo week should have red figures"
    on_scorecard = flagged.filter(pl.col("kpi_id").is_in(list(HEADLINE))).height
    assert f"On the executive scorecard: {on_scorecard}" in first
    assert f"Elsewhere in this pack: {flagged.height - on_scorecard}" in first
    for r in flagged.iter_rows(named=True):
        k = KPIS[r["kpi_id"]]
        reason = why.reason(k, targets().get(k.id), r["rag"], r, cases(extract, AS_OF, k.id), AS_OF)
        assert reason and value_text(k, r["value"]) in first and words(reason) in first, k.id
    scorecard_part = first[:first.index("Elsewhere in this pack")]
    statuses = re.findall(r"(✕ Off target|! Near target)", scorecard_part)
    assert statuses == sorted(statuses, key=lambda w: w != "✕ Off target") and len(statuses) == on_scorecard


def section_between(text: str, start: str, end: str) -> str:
    begin = text.index(start)
    return text[begin:text.index(end, begin)]


def workbook_rows(path: Path, name: str) -> list[tuple]:
    """The rows of a workbook attached to the PDF, from its table's heading row ("Id") down."""
    import openpyxl

    (data,) = PdfReader(path).attachments[name]
    rows = list(openpyxl.load_workbook(io.BytesIO(data), read_only=True).active.iter_rows(values_only=True))
    return rows[next(i for i, r in enumerate(rows) if r[0] == "Id"):]


def attachments_text(path: Path) -> str:
    """Every cell of every workbook attached to the PDF."""
    return "\n".join(" ".join(str(v) for v in row if v is not None)
                     for name in PdfReader(path).attachments for row in workbook_rows(path, name))


def test_exceptions_show_the_oldest_and_counts_by_team_and_attach_every_case(short_pdf, extract):
    text = pdf_text(short_pdf)
    rows = exception_cases(extract, "vu.open_overdue_jobs_vulnerable")
    assert rows.height > 5, "the demo week should have more than 5 overdue repairs at vulnerable households"
    body = section_between(text, f"Overdue repairs at vulnerable households: {rows.height}\n", "Contractors below")
    ids = set(rows["id"].to_list())
    listed = [t for t in re.findall(r"\b[A-Z]+[0-9]+\b", body) if t in ids]
    assert listed == rows["id"].head(5).to_list()  # the 5 oldest, oldest first
    name = content.workbook_name("vu.open_overdue_jobs_vulnerable")
    assert f"The 5 oldest of {rows.height} are shown. All {rows.height} are in the workbook {name}" in words(body)
    team_names = {t: n for t, n in extract.query("names").filter(pl.col("kind") == "team")
                  .select("id", "label").iter_rows()}
    for team, n in rows.group_by("team_id").len().iter_rows():
        assert re.search(rf"^{re.escape(team_names[team])} {n} ", body, re.M), (team, n)
    # every case, oldest first, with the section's columns and team names
    heading, *cells = workbook_rows(short_pdf, name)
    assert [r[0] for r in cells] == rows["id"].to_list()
    assert set(heading) == {exports.label(c.name) for c in content.EXCEPTION_COLUMNS["vu.open_overdue_jobs_vulnerable"]}
    team_column = heading.index("Team")
    assert [r[team_column] for r in cells] == [team_names[t] for t in rows["team_id"].to_list()]
    assert set(PdfReader(short_pdf).attachments) == {  # a workbook for every list that has a case
        content.workbook_name(k) for k in EXCEPTION_KPIS if exception_cases(extract, k).height}


def test_teams_by_name_never_by_id(landlord_pdf, short_pdf, extract):
    team_ids = extract.sql("select team_id from teams")["team_id"].to_list()
    assert team_ids
    for path in (landlord_pdf, short_pdf):
        text = pdf_text(path)
        assert not [t for t in team_ids if t in text]


def test_the_apps_pack_is_the_report_commands(app_pdf, landlord_pdf, tmp_path):
    """The button in the app and `report` make the same document: the same text on every page (the app's
    cover also names who prepared it, and the minute it was made may differ) and the same pixels on every
    page after the cover, charts included."""
    app, cli_made = pdf_page_texts(app_pdf, "-layout"), pdf_page_texts(landlord_pdf, "-layout")
    assert len(app) == len(cli_made) >= 10

    def cover(text: str) -> list[str]:
        return [line for line in text.splitlines()
                if line.strip() and not line.strip().startswith(("Prepared for", "Pack produced"))]

    assert f"{EXECUTIVE} (executive)" in app[0]
    assert cover(app[0]) == cover(cli_made[0])
    for number, (a, c) in enumerate(zip(app[1:], cli_made[1:], strict=True), start=2):
        assert a == c, f"page {number} differs"
    for path in (app_pdf, landlord_pdf):  # raw pixels (PPM), so equal files are equal pictures
        subprocess.run(["pdftoppm", "-r", "60", "-f", "2", str(path), str(tmp_path / path.stem)], check=True)
    for page in sorted(tmp_path.glob(f"{landlord_pdf.stem}-*.ppm")):
        made_in_app = tmp_path / page.name.replace(landlord_pdf.stem, app_pdf.stem, 1)
        assert page.read_bytes() == made_in_app.read_bytes(), f"{page.name}: the app's page looks different"
    # the same workbooks attached, with the same rows (the lines above them say who and when)
    attached = set(PdfReader(landlord_pdf).attachments)
    assert attached and set(PdfReader(app_pdf).attachments) == attached
    for name in attached:
        assert workbook_rows(app_pdf, name) == workbook_rows(landlord_pdf, name), name


# ---------------------------------------------------------------------------------------------
# (c) the pages render


def test_pages_render_to_png(landlord_pdf, team_pdf, tmp_path):
    assert shutil.which("pdftoppm"), "pdftoppm is needed (poppler-utils; `make test` installs it)"
    for path in (landlord_pdf, team_pdf):
        pages = len(pdf_pages(path))
        assert pages >= 10  # cover, scorecard, five sections, exceptions
        out = tmp_path / path.stem
        out.mkdir()
        subprocess.run(["pdftoppm", "-png", "-r", "40", str(path), str(out / "p")], check=True)
        pngs = sorted(out.glob("p-*.png"))
        assert len(pngs) == pages
        assert all(p.stat().st_size > 3000 for p in pngs)  # not blank


def plain_svg(svg: str) -> str:
    """An SVG in canonical XML (attributes in order), without the random ids Plotly gives its clip paths,
    patterns and traces: each id is named by the order it first appears in."""
    svg = ElementTree.canonicalize(svg)
    for n, name in enumerate(dict.fromkeys(re.findall(r'id="([^"]+)"', svg))):
        svg = svg.replace(name, f"id{n}")
    return re.sub(r"(?<=trace)[0-9a-f]+", "#", svg)


def test_reusing_a_browser_tab_draws_the_same_chart(renderer):
    """The pack draws figure after figure in one page without reloading it; a figure drawn after another is
    unchanged."""
    from housing_assurance import charts

    assert pack.charts.PAGES == 1
    series = pl.DataFrame({"as_of": [date(2026, 9, 6 + 7 * i) for i in range(3)], "value": [80.0, None, 95.5]})
    a = charts.trend_chart(series, KPIS["rp.first_time_fix_pct"], title="A")
    b = charts.breakdown_bar(pl.DataFrame({"r": ["North", "South"], "v": [3.0, 7.0]}), "r", "v", "B")
    pending = [renderer.submit(*spec) for spec in [(a, 400, 235), (b, 680, 200), (a, 400, 235)]]
    first, _, again = [renderer.result(p) for p in pending]
    assert first.startswith("<svg") and plain_svg(first) == plain_svg(again)


def test_the_house_template_draws_what_plotlys_whole_template_draws(renderer):
    """charts.HOUSE_TEMPLATE is plotly's template cut to the kinds of trace the charts draw: every chart
    builder's figure is drawn exactly as with plotly's whole template, and draws no other kind."""
    from housing_assurance import charts

    weeks = [date(2026, 9, 6 + 7 * i) for i in range(3)]
    goal = targets()["rp.first_time_fix_pct"]
    two = pl.DataFrame({"label": ["North", "South"], "value": [3.0, 7.0], "group": ["a", "b"]})
    events = pl.DataFrame({"event_at": [datetime(2026, 9, 7, 9), datetime(2026, 9, 9, 14)],
                           "lane": ["Repair jobs", "Damp and mould"], "event": ["raised", "reported"],
                           "detail": ["J1", "D1"]})
    deadlines = pl.DataFrame({"label": ["Investigate"], "due_by": [datetime(2026, 9, 21, 23, 59)], "status": ["met"]})
    figures = [
        charts.trend_chart(pl.DataFrame({"as_of": weeks, "value": [80.0, None, 95.5]}), KPIS["rp.first_time_fix_pct"],
                           goal),
        charts.count_breakdown_bar(two, "label", "value", "Cases"),
        charts.paired_bars(two, "label", "group", "value", "Pairs"),
        charts.team_comparison_chart(two, "label", "value", "Teams", highlight="North"),
        charts.timeline_chart(events, deadlines),
    ]
    for fig in figures:
        assert {trace.type for trace in fig.data} <= set(charts.TRACE_KINDS)
        whole = go.Figure(fig).update_layout(template="plotly")
        house, plotly_whole = [renderer.result(renderer.submit(f, 500, 300)) for f in (fig, whole)]
        assert plain_svg(house) == plain_svg(plotly_whole)


# ---------------------------------------------------------------------------------------------
# (d) atomic write


def test_failed_build_leaves_no_file(tmp_path, monkeypatch, extract):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(pack, "build_pack", broken)
    out = tmp_path / "pack.pdf"
    with pytest.raises(RuntimeError):
        pack.write_pack(extract, AS_OF, Scope(), out)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def last_weeks_pack(landlord_pdf) -> bytes:
    """A pack of ours, which a new pack may replace."""
    return landlord_pdf.read_bytes()


def test_failed_build_keeps_the_existing_file(tmp_path, monkeypatch, extract, last_weeks_pack):
    monkeypatch.setattr(pack, "build_pack", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    out = tmp_path / "pack.pdf"
    out.write_bytes(last_weeks_pack)
    with pytest.raises(RuntimeError):
        pack.write_pack(extract, AS_OF, Scope(), out)
    assert out.read_bytes() == last_weeks_pack
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]


def test_failed_rename_leaves_no_temporary_file(tmp_path, monkeypatch, extract, last_weeks_pack):
    monkeypatch.setattr(pack, "build_pack", lambda *a, **k: b"%PDF-new")
    monkeypatch.setattr(pack.render.os, "replace", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    out = tmp_path / "pack.pdf"
    out.write_bytes(last_weeks_pack)
    with pytest.raises(OSError):
        pack.write_pack(extract, AS_OF, Scope(), out)
    assert out.read_bytes() == last_weeks_pack
    assert [p.name for p in tmp_path.iterdir()] == ["pack.pdf"]


def test_write_replaces_the_file_and_keeps_its_permissions(tmp_path, monkeypatch, extract, last_weeks_pack):
    monkeypatch.setattr(pack, "build_pack", lambda *a, **k: b"%PDF-new")
    out = tmp_path / "pack.pdf"
    out.write_bytes(last_weeks_pack)
    out.chmod(0o644)
    assert pack.write_pack(extract, AS_OF, Scope(), out) == out
    assert out.read_bytes() == b"%PDF-new"
    assert out.stat().st_mode & 0o777 == 0o644
    fresh = pack.write_pack(extract, AS_OF, Scope(), tmp_path / "new.pdf")
    assert fresh.stat().st_mode & 0o777 == 0o640  # personal data: owner and group only


def test_a_missing_destination_folder_fails_before_any_work(tmp_path, monkeypatch, extract):
    monkeypatch.setattr(pack, "build_pack", lambda *a, **k: pytest.fail("built before checking the folder"))
    with pytest.raises(pack.PackError, match="no folder"):
        pack.write_pack(extract, AS_OF, Scope(), tmp_path / "missing" / "pack.pdf")


# ---------------------------------------------------------------------------------------------
# Wrong inputs and exit codes


def test_dates_outside_the_extract_are_refused(extract):
    with pytest.raises(pack.PackError, match="had not ended when the extract was taken"):
        pack.check_inputs(extract, END, Scope())  # 23 Nov: its week ends 24 Nov 00:00, after 23 Nov 06:00
    with pytest.raises(pack.PackError, match="starts before the extract's first record"):
        pack.check_inputs(extract, extract.span().first_record.date() + timedelta(days=3), Scope())
    assert extract.span().latest_week == AS_OF
    assert pack.check_inputs(extract, AS_OF, Scope()) == []
    early = extract.span().first_record.date() + timedelta(days=30)
    notes = pack.check_inputs(extract, early, Scope())
    assert len(notes) == 1 and "undercount" in notes[0]  # its 13-week trend starts before the data


def test_unknown_scope_and_unusable_tables_are_refused(extract, tmp_path, demo_dir):
    with pytest.raises(pack.PackError, match="region 'Nowhere' does not appear"):
        pack.check_inputs(extract, AS_OF, Scope(region="Nowhere"))
    with pytest.raises(pack.PackError, match="team 'no-such-team' does not appear"):
        pack.check_inputs(extract, AS_OF, Scope(teams=("no-such-team",)))
    with pytest.raises(pack.PackError, match="no teams"):
        pack.check_inputs(extract, AS_OF, Scope(teams=()))
    broken = tmp_path / "broken"
    shutil.copytree(demo_dir, broken)
    (broken / "repairs.parquet").write_bytes(b"")
    with pytest.raises(pack.PackError, match="unusable table.*repairs"):
        pack.check_inputs(open_extract(broken), AS_OF, Scope())


def run_report(*args: str) -> subprocess.CompletedProcess:
    return command("report", *args)


@pytest.mark.parametrize(("args", "message"), [
    (["--data", "/nonexistent/extract"], "no extract folder or store at /nonexistent/extract"),
    (["--as-of", END.isoformat()], "had not ended when the extract was taken"),
    (["--out", "/nonexistent/folder/pack.pdf"], "no folder /nonexistent/folder"),
])
def test_report_exits_1_with_one_line(args, message, demo_dir, tmp_path):
    given = dict(zip(args[::2], args[1::2], strict=True))
    argv = []
    for flag, default in (("--data", str(demo_dir)), ("--as-of", AS_OF.isoformat()),
                          ("--out", str(tmp_path / "pack.pdf"))):
        argv += [flag, given.get(flag, default)]
    done = run_report(*argv)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "pack.pdf").exists()


def test_report_exits_1_for_an_unknown_region(demo_dir, tmp_path, capsys, monkeypatch):
    class NoBrowser:  # the check comes before any chart: no need to boot Chromium for it
        def close(self) -> None:
            pass

    monkeypatch.setattr(pack, "ChartRenderer", NoBrowser)
    out = tmp_path / "pack.pdf"
    code = cli.main(["report", "--data", str(demo_dir), "--as-of", AS_OF.isoformat(), "--region", "Nowhere",
                     "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "region 'Nowhere' does not appear" in err
    assert gc.isenabled()  # `report` run in another program's process leaves Python's collector running
    assert not out.exists()


@pytest.mark.parametrize("args", [
    ["--data", "x", "--as-of", "22/11/2026", "--out", "p.pdf"],  # not YYYY-MM-DD
    ["--data", "x", "--as-of", "2026-11-22"],  # no --out
])
def test_report_exits_2_on_bad_arguments(args, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(["report", *args])
    assert stop.value.code == 2


def test_a_pack_is_known_as_ours_and_may_be_replaced(landlord_pdf):
    from housing_assurance.pack.checks import check_destination, is_own_pack

    assert is_own_pack(landlord_pdf)
    check_destination(landlord_pdf)  # next week's run replaces it


def test_a_pack_changed_between_two_checks_is_read_again(landlord_pdf, tmp_path):
    """The destination is checked before and after the pack is built; a file written over in between, in
    place or replaced, is judged afresh (what it was at the first check counts for nothing)."""
    from housing_assurance.pack.checks import is_own_pack

    out = tmp_path / "pack.pdf"
    shutil.copyfile(landlord_pdf, out)
    assert is_own_pack(out)
    with out.open("r+b") as f:  # written over in place: the same file, other bytes
        f.write(b"%PDF-1.7 someone else's document")
        f.truncate()
    assert not is_own_pack(out)
    replacement = tmp_path / "theirs.pdf"
    replacement.write_bytes(b"%PDF-1.7 another document of the same size".ljust(landlord_pdf.stat().st_size))
    shutil.copyfile(landlord_pdf, out)
    assert is_own_pack(out)
    os.replace(replacement, out)
    assert not is_own_pack(out)


def test_report_is_audited(landlord_run):
    from housing_assurance import audit

    out, trail = landlord_run
    entries = audit.read_entries(trail)
    assert [(e["action"], e["target"], e["as_of"]) for e in entries] == [("report", str(out), AS_OF.isoformat())]


def test_a_wrong_date_fails_before_chromium_starts(extract, monkeypatch):
    monkeypatch.setattr(pack, "ChartRenderer", lambda *a, **k: pytest.fail("Chromium started for a wrong date"))
    with pytest.raises(pack.PackError, match="had not ended"):
        pack.build_pack(extract, END, Scope())


def test_text_written_into_the_packs_css_is_escaped_character_by_character():
    """By hand: every character but letters and digits becomes a six-digit escape and the space it consumes,
    so a quote, a brace or a line break in a landlord's name cannot end the string (the footer's text)."""
    assert pack.render.css_string('Oak "Homes"\n') == '"Oak\\000020 \\000022 Homes\\000022 \\00000a "'
    assert pack.render.css_string("</style>") == '"\\00003c \\00002f style\\00003e "'


def test_a_chart_that_cannot_be_drawn_stops_the_pack_rather_than_leaving_a_gap(renderer):
    """The pack is laid out while the charts are drawn, and each drawing replaces its placeholder before the
    pack is printed; a chart that fails is the pack's error, never a page with a hole where the chart was."""
    def broken(url: str) -> str:
        raise RuntimeError(f"{url} could not be drawn")

    with pytest.raises(RuntimeError, match="chart:7:40x20 could not be drawn"):
        pack.render.pdf_from_html('<p>Trends</p><img src="chart:7:40x20" alt="a trend">', charts=broken,
                                  browser=renderer)
    drawn = pack.render.pdf_from_html('<p>Trends</p><img src="chart:7:40x20" alt="a trend">',
                                      charts=lambda url: '<svg xmlns="http://www.w3.org/2000/svg" width="40" '
                                                         'height="20"><text x="1" y="15">drawn</text></svg>',
                                      browser=renderer)
    assert "drawn" in pdf_page_texts(drawn)[0]


def test_without_chromium_the_pack_says_in_one_line_what_to_install(monkeypatch, tmp_path, extract):
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing called chromium on the PATH
    with pytest.raises(pack.PackError, match=r"Chromium is not installed .*apt-get install chromium-headless-shell\)"):
        pack.build_pack(extract, AS_OF, Scope())


def test_the_pack_is_drawn_by_the_headless_shell_or_else_by_chromium(monkeypatch, tmp_path):
    """Debian's headless shell when it is installed (a fifth less CPU, the same PDF), else its full Chromium."""
    from housing_assurance.pack import charts

    monkeypatch.setenv("PATH", str(tmp_path))
    for name in ("chromium", "chromium-headless-shell"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    assert charts.chromium() == str(tmp_path / "chromium-headless-shell")
    (tmp_path / "chromium-headless-shell").unlink()
    assert charts.chromium() == str(tmp_path / "chromium")


def test_a_renderer_closed_while_its_browser_boots_is_closed():
    """A signed-off week's `report` starts Chromium and then needs no chart: closing while plotly.js still
    loads (or before the browser has even launched) stops the browser and leaves the renderer closed."""
    from housing_assurance import charts

    figure = charts.breakdown_bar(pl.DataFrame({"r": ["North"], "v": [3.0]}), "r", "v", "B")
    for wait in (None, "launched"):
        booting = pack.ChartRenderer()
        if wait == "launched":
            booting._launched.result(timeout=120)
        booting.close()
        assert booting._browser_ready.done()
        with pytest.raises(pack.PackError, match="already closed"):
            booting.submit(figure, 400, 200)


def test_a_closed_renderer_draws_nothing_and_says_so():
    """A thread of a pack that failed may still send a chart after the browser closed: it is told, and no
    drawing is left pending."""
    from housing_assurance import charts

    figure = charts.breakdown_bar(pl.DataFrame({"r": ["North"], "v": [3.0]}), "r", "v", "B")
    closed = pack.ChartRenderer()
    closed.close()
    with pytest.raises(pack.PackError, match="already closed"):
        closed.submit(figure, 400, 200)


# In a process that makes many packs (the app's server), the browsers share one Playwright driver.

DRIVERS_OF_ONE_PROCESS = """
import json, os, signal, time
from housing_assurance import pack
from housing_assurance.pack import charts

def drivers():  # this process's Playwright drivers: node processes whose parent it is
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = open(f"/proc/{pid}/stat").read()
            command = open(f"/proc/{pid}/cmdline").read()
        except OSError:
            continue
        if int(stat[stat.rfind(")") + 2:].split()[1]) == os.getpid() and "run-driver" in command:
            found.append(int(pid))
    return found

seen = {}
for step in ("first", "second", "a browser that cannot start", "after the driver died"):
    if step == "a browser that cannot start":  # said as it is; the driver, which still answers, stays
        real, charts.chromium = charts.chromium, lambda: "/bin/false"
        try:
            with pack.ChartRenderer(pages=0) as refused_renderer:
                refused_renderer.print_pdf("<p>never</p>")
            raise SystemExit("a browser that cannot start printed a page")
        except pack.PackError as refused:
            seen[step] = (str(refused)[:30], drivers())
        charts.chromium = real
        continue
    if step == "after the driver died":
        [killed] = seen["second"][1]
        os.kill(killed, signal.SIGKILL)
        while killed in drivers():
            time.sleep(0.05)
    with pack.ChartRenderer(pages=0) as renderer:  # a browser that prints only: no plotly.js to load
        printed = renderer.print_pdf(f"<p>{step}</p>")
        seen[step] = (printed[:5].decode(), drivers())
print(json.dumps(seen))
"""


def test_a_forked_child_starts_its_own_driver_rather_than_wait_on_its_parents(renderer):
    """The parent's loop thread and driver are not in a forked child (multiprocessing forks): the child
    forgets them, so its first pack starts its own instead of waiting for a loop that never runs."""
    from housing_assurance.pack import charts

    assert charts._shared_loop is not None  # the module's renderer started them here
    child = os.fork()
    if child == 0:  # the child: exit 0 only if it kept nothing of its parent's
        os._exit(0 if charts._shared_loop is None and charts._driver is None else 1)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert charts._shared_loop is renderer._loop  # and the parent's are untouched


def test_the_browsers_of_one_process_share_one_driver_and_a_dead_one_is_replaced():
    """A second pack's browser uses the driver (a node process) the first one started, which its close leaves
    running; a browser that cannot start is said in one line and leaves the driver to the other packs; a
    driver that has died is replaced at the next pack, whose browser prints; the process's exit stops it.
    Run in a process of its own: a driver killed here would take the module's renderer with it."""
    done = subprocess.run([sys.executable, "-c", DRIVERS_OF_ONE_PROCESS], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    refused, after_refusal = seen.pop("a browser that cannot start")
    assert refused.startswith("charts cannot be drawn")
    assert {printed for printed, _ in seen.values()} == {"%PDF-"}
    [first] = seen["first"][1]
    assert seen["second"][1] == after_refusal == [first]  # not started again, nor stopped with a pack
    [replacement] = seen["after the driver died"][1]
    assert replacement != first
    assert not Path(f"/proc/{replacement}").exists()  # stopped when the process ended


# The pack's browser keeps plotly.js compiled between packs (pack/warm_browser.py)

def _plotly_transfers(renderer: pack.ChartRenderer) -> list[int]:
    """The bytes plotly.js took over the network when the renderer's charts page loaded (0: from its cache)."""
    import asyncio

    from housing_assurance.pack import warm_browser

    browser, _ = renderer._browser()
    [page] = [p for p in browser.pages if p.url == warm_browser.charts_page_url()]
    entries = 'performance.getEntriesByType("resource").filter(e => e.name.includes("plotly")).map(e => e.transferSize)'
    return asyncio.run_coroutine_threadsafe(page.evaluate(entries), renderer._loop).result(timeout=60)


def test_the_packs_browser_keeps_plotly_compiled_and_nothing_of_the_pack(renderer, tmp_path, monkeypatch):
    """plotly.js comes over http from our own server, and only the browser's two caches are kept for the next
    pack: the next browser takes plotly.js from them without asking, and after it Chromium's compiled code
    of plotly.js is kept too. Nothing printed is kept: no kept file holds the pack's title (which names the
    landlord and the week) or its text."""
    from housing_assurance import charts
    from housing_assurance.pack import warm_browser

    monkeypatch.setenv("HOUSING_ASSURANCE_CACHE", str(tmp_path / "cache"))
    kept = tmp_path / "cache" / warm_browser.PROFILE_FOLDER
    figure = charts.breakdown_bar(pl.DataFrame({"r": ["North"], "v": [3.0]}), "r", "v", "B")
    secrets = ["Brookmere Marker Housing", "week ending 22 Nov 2026", "DM990077"]
    with pack.ChartRenderer() as first:
        drawn = first.result(first.submit(figure, 400, 200))
        assert _plotly_transfers(first)[0] > 1_000_000  # fetched from our server
        pack.render.pdf_from_html(f"<title>{secrets[0]}: weekly assurance pack, {secrets[1]}</title>"
                                  f"<p>{secrets[2]}</p>", browser=first)
    assert sorted(p.name for p in kept.iterdir()) == ["Cache", "Code Cache"]
    kept_bytes = [f.read_bytes() for f in kept.rglob("*") if f.is_file()]
    assert not [s for s in secrets for data in kept_bytes if s.encode() in data or s.encode("utf-16-le") in data]

    # Two packs' browsers at once: each has the kept caches, draws its own chart, and keeps its caches whole.
    other = charts.breakdown_bar(pl.DataFrame({"r": ["South", "East"], "v": [5.0, 1.0]}), "r", "v", "C")
    other_drawn = renderer.result(renderer.submit(other, 400, 200))

    def draw(fig: go.Figure) -> tuple[str, list[int]]:
        with pack.ChartRenderer() as r:
            return r.result(r.submit(fig, 400, 200)), _plotly_transfers(r)

    with ThreadPoolExecutor(max_workers=2) as pool:
        (svg_a, transfers_a), (svg_b, transfers_b) = pool.map(draw, (figure, other))
    assert (plain_svg(svg_a), plain_svg(svg_b)) == (plain_svg(drawn), plain_svg(other_drawn))
    assert transfers_a == transfers_b == [0]  # from the kept cache: the server was not asked
    assert sorted(p.name for p in kept.iterdir()) == ["Cache", "Code Cache"]
    compiled = max(f.stat().st_size for f in (kept / "Code Cache").rglob("*") if f.is_file())
    assert compiled > 1_000_000  # plotly.js, compiled


@pytest.mark.parametrize("damage", ["garbage caches", "a cache folder that is a file"])
def test_a_damaged_or_unusable_cache_folder_leaves_the_charts_as_they_are(renderer, tmp_path, monkeypatch, damage):
    """Kept caches that Chromium cannot read, or a cache folder the pack cannot use: the browser starts
    without them and draws the same chart."""
    from housing_assurance import charts
    from housing_assurance.pack import warm_browser

    figure = charts.breakdown_bar(pl.DataFrame({"r": ["North"], "v": [3.0]}), "r", "v", "B")
    expected = plain_svg(renderer.result(renderer.submit(figure, 400, 200)))
    cache = tmp_path / "cache"
    if damage == "garbage caches":
        for name in warm_browser.KEPT:
            for part in ("index", "js/index", "Cache_Data/index", "Cache_Data/data_1"):
                (cache / warm_browser.PROFILE_FOLDER / name / part).parent.mkdir(parents=True, exist_ok=True)
                (cache / warm_browser.PROFILE_FOLDER / name / part).write_bytes(os.urandom(4096))
    else:
        cache.write_text("not a folder")
    monkeypatch.setenv("HOUSING_ASSURANCE_CACHE", str(cache))
    with pack.ChartRenderer() as damaged:
        assert plain_svg(damaged.result(damaged.submit(figure, 400, 200))) == expected
