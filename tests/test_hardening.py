"""Hardening: what a wrong path, a second visitor, a wrong setting or odd but valid data must not do.

1. `report --out` writes only a new .pdf or one of its own packs, never an input, the audit trail or
   someone else's file; `prepare --out` writes only a new store or one it prepared, never in the extract.
2. The demo is generated whole, once, however many processes and threads ask at the same moment, and
   a folder the demo did not write is never touched.
3. Every command that reads figures checks the settings first: one line naming file, key and value.
4. Odd but valid data: an extracted_at in the future or before 2000, NaN and infinite money, a team
   without a region.

Small hand-made extracts (tests/extract_factory.py) throughout; no whole PDF pack is built.
"""

from __future__ import annotations

import io
import json
import math
import multiprocessing
import queue
import re
import subprocess
import sys
import threading
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import PROCESS_MAIN, as_read, pdf_page_texts
from extract_factory import write_extract

from housing_assurance import audit, cli, kpis, pack, store, validate, words
from housing_assurance.contract import TABLES
from housing_assurance.db import open_extract
from housing_assurance.demo import generate
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import KPIS
from housing_assurance.pack.checks import check_destination
from housing_assurance.scope import Scope
from housing_assurance.weeks import COMPARISON_WEEKS

ROOT = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 22)  # the latest complete week of write_extract's extracts (taken Mon 23 Nov 2026 06:00)
NAN, INF = math.nan, math.inf


def write_odd_extract(folder: Path) -> Path:
    """Odd but valid: a team and a home with no region, NaN and infinite money."""
    return write_extract(
        folder,
        properties=[{"property_id": "P1"}, {"property_id": "P2", "region": None}],
        households=[{"household_id": "H1"}, {"household_id": "H2", "property_id": "P2"}],
        vulnerabilities=[{"vulnerability_id": "V1", "household_id": "H2"}],
        teams=[{"team_id": "T1"}, {"team_id": "T2", "region": None}],
        repairs=[{"job_id": "J1", "cost_gbp": 120.0},
                 {"job_id": "J2", "team_id": "T2", "property_id": "P2", "cost_gbp": NAN},
                 {"job_id": "J3", "cost_gbp": INF}],
        damp_mould_cases=[{"case_id": "D1", "team_id": "T2", "property_id": "P2"}, {"case_id": "D2"}],
        complaints=[{"complaint_id": "C1", "stage1_responded_at": datetime(2026, 11, 17, 10), "outcome": "upheld",
                     "compensation_offered_gbp": NAN, "compensation_paid_gbp": -INF},
                    {"complaint_id": "C2", "team_id": "T2", "stage1_responded_at": datetime(2026, 11, 18, 10),
                     "outcome": "upheld", "compensation_offered_gbp": 50.0}],
    )


@pytest.fixture(scope="module")
def odd_folder(tmp_path_factory) -> Path:
    return write_odd_extract(tmp_path_factory.mktemp("odd") / "extract")


@pytest.fixture(scope="module")
def odd_store(odd_folder, tmp_path_factory) -> Path:
    return store.prepare(odd_folder, tmp_path_factory.mktemp("stores") / "odd.duckdb")


def strict_json(text: str):
    """JSON as the standard defines it: NaN and Infinity are not JSON."""
    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(text, parse_constant=refuse)


def one_line_error(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("error: ") and "Traceback" not in err, err
    return err


class NoBrowser:
    """Stands in for Chromium where a test must never get as far as drawing a chart."""

    def close(self) -> None:
        pass


# ---------------------------------------------------------------------------------------------
# 1. Where report --out and prepare --out may write


@pytest.fixture(scope="module")
def own_pack_bytes(renderer) -> bytes:
    """A PDF as the pack's renderer makes it (a pack of our own, which a new pack may replace)."""
    from housing_assurance.pack.render import pdf_from_html

    return pdf_from_html("<title>Weekly assurance pack</title><p>OFFICIAL-SENSITIVE</p>", browser=renderer)


def foreign_pdf_bytes() -> bytes:
    """A PDF someone else made."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": "Board minutes", "/Creator": "Microsoft Word"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("name", "message"), [
    ("extract/repairs.parquet", "inside the extract folder"),
    ("extract/manifest.json", "inside the extract folder"),
    ("extract/pack.pdf", "inside the extract folder"),  # a new file there would change the extract
    ("audit", "audit trail"),
    ("minutes.pdf", "not a pack this app wrote"),
    ("notes.pdf", "not a pack this app wrote"),
    ("pack.txt", "ending in .pdf"),
    ("pack", "ending in .pdf"),
])
def test_check_destination_refuses_all_but_a_new_pdf_or_our_own_pack(name, message, tmp_path):
    folder = write_extract(tmp_path / "extract")
    trail = audit.audit_file()
    trail.write_text('{"seq": 1}\n')
    (tmp_path / "minutes.pdf").write_bytes(foreign_pdf_bytes())
    (tmp_path / "notes.pdf").write_text("not a PDF at all")
    out = trail if name == "audit" else tmp_path / name
    before = out.read_bytes() if out.exists() else None
    with pytest.raises(pack.PackError, match=message) as refused:
        check_destination(out, (folder,))
    assert "\n" not in str(refused.value)
    assert (out.read_bytes() if out.exists() else None) == before


def test_check_destination_allows_a_new_pdf_and_replacing_our_own_pack(tmp_path, own_pack_bytes):
    folder = write_extract(tmp_path / "extract")
    check_destination(tmp_path / "pack.pdf", (folder,))
    check_destination(tmp_path / "PACK.PDF", (folder,))
    ours = tmp_path / "last-week.pdf"
    ours.write_bytes(own_pack_bytes)
    check_destination(ours, (folder,))


@pytest.mark.parametrize("target", ["repairs.parquet", "manifest.json", "audit"])
def test_report_never_overwrites_an_input_or_the_audit_trail(target, tmp_path, monkeypatch, capsys):
    folder = write_extract(tmp_path / "extract")
    trail = audit.audit_file()
    trail.write_text('{"seq": 1}\n')
    out = trail if target == "audit" else folder / target
    before = out.read_bytes()
    monkeypatch.setattr(pack, "ChartRenderer", NoBrowser)
    monkeypatch.setattr(pack, "write_pack", lambda *a, **k: pytest.fail(f"report was about to write over {out}"))
    code = cli.main(["report", "--data", str(folder), "--as-of", AS_OF.isoformat(), "--out", str(out)])
    err = one_line_error(capsys.readouterr().err)
    assert code == 1 and ("inside the extract folder" in err or "audit trail" in err)
    assert out.read_bytes() == before


def test_a_pack_from_a_store_is_never_written_into_its_source_folder(odd_folder, odd_store, tmp_path, monkeypatch,
                                                                    own_pack_bytes):
    monkeypatch.setattr(pack, "build_pack", lambda *a, **k: own_pack_bytes)
    extract = store.open_store(odd_store)
    with pytest.raises(pack.PackError, match="inside the extract folder"):
        pack.write_pack(extract, AS_OF, Scope(), odd_folder / "pack.pdf")
    assert not (odd_folder / "pack.pdf").exists()
    ours = tmp_path / "pack.pdf"
    ours.write_bytes(own_pack_bytes)
    assert pack.write_pack(extract, AS_OF, Scope(), ours) == ours  # last week's pack is replaced


def test_prepare_never_writes_inside_the_extract_folder(odd_folder, capsys):
    for out in (odd_folder / "store.duckdb", odd_folder / "repairs.parquet"):
        before = out.read_bytes() if out.exists() else None
        assert cli.main(["prepare", str(odd_folder), "--out", str(out)]) == 1
        assert "inside the extract folder" in one_line_error(capsys.readouterr().err)
        assert (out.read_bytes() if out.exists() else None) == before


def test_prepare_never_overwrites_a_file_it_did_not_prepare(odd_folder, tmp_path):
    theirs = tmp_path / "analysis.duckdb"
    with duckdb.connect(str(theirs)) as con:
        con.execute("create table precious as select 42 as answer")
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    for out in (theirs, notes):
        before = out.read_bytes()
        with pytest.raises(store.StoreError, match="not a store") as refused:
            store.prepare(odd_folder, out)
        assert "\n" not in str(refused.value) and out.read_bytes() == before


def test_prepare_replaces_a_store_it_prepared(odd_folder, odd_store, tmp_path):
    ours = tmp_path / "odd.duckdb"
    ours.write_bytes(odd_store.read_bytes())
    assert store.prepare(odd_folder, ours) == ours
    assert store.open_store(ours).landlord == "Test Homes"


# ---------------------------------------------------------------------------------------------
# 2. The demo, generated by several processes and threads at once

DEMO = {"homes": 300, "years": 1, "seed": 3, "end": date(2026, 11, 23)}


def demo_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def is_whole_demo(folder: Path) -> bool:
    return (folder / "manifest.json").is_file() and all((folder / f"{t}.parquet").is_file() for t in TABLES)


def generate_in_threads(out: Path, threads: int, start) -> list[str]:
    """Generate the demo from several threads at once (when `start` is set); the errors, as text."""
    errors: list[str] = []

    def run() -> None:
        start.wait()
        try:
            generate(out, **DEMO)
        except BaseException as exc:  # noqa: BLE001 - every failure is the test's finding
            errors.append(repr(exc))

    workers = [threading.Thread(target=run) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return errors


def generate_in_process(out: str, threads: int, ready, start, results) -> None:
    """One process of the race (a module-level function, so that a spawned process can run it)."""
    ready.put(True)
    results.put(generate_in_threads(Path(out), threads, start))


def test_processes_and_threads_generating_at_once_make_one_whole_demo(tmp_path, monkeypatch):
    # A spawned process runs its parent's main module first: after an AppTest in this process (another module's
    # test on the same worker), that is app.py, which dies outside Streamlit. The race starts from the main
    # module the test process started with (conftest.PROCESS_MAIN), whichever tests ran before it.
    monkeypatch.setitem(sys.modules, "__main__", PROCESS_MAIN)
    out = tmp_path / "demo"
    ctx = multiprocessing.get_context("spawn")
    ready, start, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    processes = [ctx.Process(target=generate_in_process, args=(str(out), 2, ready, start, results))
                 for _ in range(3)]
    for p in processes:
        p.start()
    for _ in processes:
        ready.get(timeout=120)
    start.set()
    errors = generate_in_threads(out, 2, start)
    try:
        for _ in processes:
            errors += results.get(timeout=300)
    except queue.Empty:
        pytest.fail("a generating process never finished")
    for p in processes:
        p.join(timeout=60)
    assert errors == [] and [p.exitcode for p in processes] == [0, 0, 0]
    assert is_whole_demo(out)
    reference = tmp_path / "reference"
    generate(reference, **DEMO)
    assert demo_files(out) == demo_files(reference)  # deterministic: exactly what one run writes
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".") and p.is_dir())
    assert leftovers == [], "temporary folders are removed"


def test_a_partial_demo_is_generated_again(tmp_path):
    out = tmp_path / "demo"
    generate(out, **DEMO)
    whole = demo_files(out)
    (out / "manifest.json").unlink()  # as a crash before the manifest (written last) would leave it
    generate(out, **DEMO)
    assert demo_files(out) == whole
    (out / "repairs.parquet").unlink()
    generate(out, **DEMO)
    assert demo_files(out) == whole


def test_a_whole_demo_of_the_same_arguments_is_kept_as_it_is(tmp_path):
    out = tmp_path / "demo"
    generate(out, **DEMO)
    folder_id = out.stat().st_ino
    generate(out, **DEMO)  # the second first visitor: nothing to do, and nothing swapped under readers
    assert out.stat().st_ino == folder_id
    first = (out / "repairs.parquet").read_bytes()
    generate(out, **{**DEMO, "seed": 4})
    assert (out / "repairs.parquet").read_bytes() != first


def test_a_folder_the_demo_did_not_write_is_never_touched(tmp_path, capsys):
    theirs = write_extract(tmp_path / "extract")
    (theirs / "manifest.json").unlink()  # a landlord's extract without its manifest: not a partial demo
    before = demo_files(theirs)
    with pytest.raises(ValueError, match="not a demo") as refused:
        generate(theirs, **DEMO)
    assert "\n" not in str(refused.value)
    assert cli.main(["demo-data", "--out", str(theirs), "--homes", "300", "--years", "1"]) == 1
    one_line_error(capsys.readouterr().err)
    assert demo_files(theirs) == before


# ---------------------------------------------------------------------------------------------
# 3. Settings checked before a command reads figures

MISTAKES = {
    "direction": ("targets.toml", '[kpi."rp.open_jobs"]\ndirection = "higer"\ntarget = 10\n',
                  ("targets.toml", "direction", "higer")),
    "target": ("targets.toml", '[kpi."rp.first_time_fix_pct"]\ndirection = "higher"\ntarget = "100"\n',
               ("targets.toml", "target", "'100'")),
    "unknown key": ("targets.toml", '[kpi."rp.open_jobs"]\ndirection = "none"\ntargte = 5\n',
                    ("targets.toml", "targte")),
    "closure date": ("landlord.toml", '[complaints]\nclosure_dates = ["29/12/2026"]\n',
                     ("landlord.toml", "closure_dates", "29/12/2026")),
    "access": ("access.toml", '[[user]]\nemail = "boss@example.org"\nrole = "boss"\n',
               ("access.toml", "role", "boss")),
}


def command(name: str, data: Path, out: Path) -> list[str]:
    scoped = ["--data", str(data), "--as-of", AS_OF.isoformat()]
    return {"kpis": ["kpis", *scoped], "cases": ["cases", *scoped, "--kpi", "rp.open_jobs"],
            "risk": ["risk", *scoped], "report": ["report", *scoped, "--out", str(out / "pack.pdf")],
            "prepare": ["prepare", str(data), "--out", str(out / "store.duckdb")]}[name]


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Path:
    """An empty settings folder of the test's own (no targets, no closure dates, no users)."""
    folder = tmp_path / "settings"
    folder.mkdir()
    monkeypatch.setenv("HOUSING_ASSURANCE_SETTINGS", str(folder))
    monkeypatch.delenv("HOUSING_ASSURANCE_ACCESS", raising=False)
    return folder


@pytest.mark.parametrize("name", ["kpis", "cases", "risk", "report", "prepare"])
@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_settings_mistake_stops_every_command_in_one_line(name, mistake, settings, odd_folder, odd_store,
                                                           tmp_path, monkeypatch, capsys):
    file, text, named = MISTAKES[mistake]
    (settings / file).write_text(text)
    monkeypatch.setattr(pack, "ChartRenderer", NoBrowser)
    monkeypatch.setattr(pack, "write_pack", lambda *a, **k: pytest.fail("the pack was made with wrong settings"))
    monkeypatch.setattr(store, "prepare", lambda *a, **k: pytest.fail("a store was prepared with wrong settings"))
    code = cli.main(command(name, odd_folder if name == "prepare" else odd_store, tmp_path))
    err = one_line_error(capsys.readouterr().err)
    assert code == 1 and all(word in err for word in named), err


def test_a_settings_mistake_through_the_real_command_line(settings, odd_store):
    (settings / "targets.toml").write_text(MISTAKES["direction"][1])
    done = subprocess.run([sys.executable, "-m", "housing_assurance", *command("kpis", odd_store, settings)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1 and done.stdout == ""
    assert str(settings / "targets.toml") in one_line_error(done.stderr) and "higer" in done.stderr


def test_without_users_configured_the_command_line_still_works(settings, odd_store, capsys):
    assert cli.main(["kpis", "--data", str(odd_store), "--as-of", AS_OF.isoformat(), "--json"]) == 0
    assert "rp.open_jobs" in strict_json(capsys.readouterr().out)["kpis"]
    assert cli.main(["kpis", "--data", str(odd_store), "--as-of", AS_OF.isoformat(),
                     "--as-user", "chief.executive@example.org"]) == 1
    assert "no access file" in one_line_error(capsys.readouterr().err)


# ---------------------------------------------------------------------------------------------
# 4a. extracted_at in the future, long ago, with an offset; records long ago


@pytest.mark.parametrize(("extracted_at", "words_"), [
    ("9999-12-31T00:00:00", "later than now"),
    ("9999-12-31", "later than now"),
    ("2999-01-01T06:00:00", "later than now"),
    ("0001-01-01T00:00:00", "before 2000-01-01"),  # .NET's DateTime.MinValue
    ("1999-12-31T23:59:00", "before 2000-01-01"),
])
def test_an_impossible_extracted_at_is_an_error_naming_it(extracted_at, words_, tmp_path):
    folder = write_extract(tmp_path / "extract", extracted_at=extracted_at,
                           repairs=[{"job_id": "J1"}, {"job_id": "J2", "reported_at": datetime(2026, 6, 1, 9)}])
    errors = [f for f in validate.validate(folder) if f.severity == "error"]
    assert [(f.table, f.column) for f in errors] == [("manifest.json", "extracted_at")]
    assert extracted_at in errors[0].message and words_ in errors[0].message
    extract = open_extract(folder)
    assert extract.extracted_at is None  # not used: no week is "complete" because of it
    weeks = store.prepared_weeks(extract)  # the weeks its records show, not thousands
    assert weeks[-1] == date(2026, 5, 31) and len(weeks) < 80
    with pytest.raises(pack.PackError, match="extracted_at"):
        pack.check_request(folder, date(2026, 5, 31))


def test_preparing_an_extract_from_the_future_stays_small(tmp_path):
    folder = write_extract(tmp_path / "extract", extracted_at="9999-12-31T00:00:00",
                           repairs=[{"job_id": "J1"}, {"job_id": "J2", "reported_at": datetime(2026, 6, 1, 9)}])
    out = tmp_path / "store.duckdb"
    measure = ("import resource, sys; from housing_assurance import cli; code = cli.main(sys.argv[1:]); "
               "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", measure, "prepare", str(folder), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) < 1_000_000, "peak memory under 1 GB (ru_maxrss is in KiB)"
    prepared = FigureStore(store.open_store(out)).prepared_weeks
    assert max(prepared) == date(2026, 5, 31) and len(prepared) < 80


def test_an_extracted_at_with_an_offset_is_read_as_london_time(tmp_path):
    folder = write_extract(tmp_path / "extract", extracted_at="2026-06-01T05:00:00+00:00",
                           repairs=[{"job_id": "J1"}])
    assert open_extract(folder).extracted_at == datetime(2026, 6, 1, 6, 0)  # British Summer Time
    pack.check_request(folder, date(2026, 5, 31))  # compared as London time, not a TypeError
    assert not [f for f in validate.validate(folder) if f.table == "manifest.json"]


def test_a_record_from_1900_does_not_make_a_century_of_weeks(tmp_path):
    folder = write_extract(tmp_path / "extract",
                           repairs=[{"job_id": "J1", "reported_at": datetime(1900, 1, 1)}, {"job_id": "J2"}])
    weeks = store.prepared_weeks(open_extract(folder))
    assert weeks[-1] == AS_OF and len(weeks) <= store.MAX_PREPARED_WEEKS + COMPARISON_WEEKS - 1


# ---------------------------------------------------------------------------------------------
# 4b. NaN and infinite numbers


def test_no_figure_is_ever_shown_as_nan_or_infinity():
    for k in KPIS.values():
        for value in (NAN, INF, -INF):
            assert words.value_text(k, value) == words.NO_DATA, (k.id, value)
    assert words.number(NAN) == words.NO_DATA
    assert words.change(KPIS["cx.compensation_offered_gbp"], NAN, None).text == words.NO_DATA


def test_nan_and_infinite_money_are_read_as_missing_and_warned(odd_folder):
    extract = open_extract(odd_folder)
    assert extract.sql("select count(cost_gbp) as kept, sum(cost_gbp) as total from repairs").row(0) == (1, 120.0)
    assert extract.sql("select count(compensation_offered_gbp), count(compensation_paid_gbp) "
                       "from complaints").row(0) == (1, 0)
    found = {f.where: f for f in validate.validate(odd_folder) if f.check == "not_finite"}
    assert sorted(found) == ["complaints.compensation_offered_gbp", "complaints.compensation_paid_gbp",
                             "repairs.cost_gbp"]
    assert (found["repairs.cost_gbp"].severity, found["repairs.cost_gbp"].rows) == ("warning", 2)
    assert found["repairs.cost_gbp"].examples == ["J2", "J3"]
    assert found["complaints.compensation_paid_gbp"].examples == ["C1"]
    assert "NaN or infinite" in found["repairs.cost_gbp"].message


def test_json_output_is_strict_json_and_text_never_says_nan(odd_store, capsys):
    args = ["--data", str(odd_store), "--as-of", AS_OF.isoformat()]
    assert cli.main(["kpis", *args, "--json"]) == 0
    figures = strict_json(capsys.readouterr().out)["kpis"]
    assert figures["cx.compensation_offered_gbp"]["value"] == 50.0  # NaN is missing, not a poisoned sum
    assert cli.main(["cases", *args, "--kpi", "cx.compensation_offered_gbp", "--json"]) == 0
    rows = strict_json(capsys.readouterr().out)
    assert [(r["id"], r["compensation_offered_gbp"]) for r in rows] == [("C1", None), ("C2", 50.0)]
    assert cli.main(["kpis", *args]) == 0
    text = capsys.readouterr().out
    assert "£50.00" in text and not re.search(r"\b(nan|inf)\b", text, flags=re.IGNORECASE)


def test_rows_as_json_turns_nan_into_null():
    import polars as pl

    frame = pl.DataFrame({"x": [NAN, INF, 1.5, None]})
    assert cli.rows_as_json(frame) == [{"x": None}, {"x": None}, {"x": 1.5}, {"x": None}]


# ---------------------------------------------------------------------------------------------
# 4c. A team with no region


class SvgStub:
    """Draws every chart as an empty SVG: the pack's content without Chromium."""

    def submit(self, fig, width: int, height: int) -> object:
        return object()

    def placeholder(self, pending: object) -> str:
        return "chart:0:10x10"

    def drawn(self, url: str) -> str:
        return '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'


def test_a_team_without_a_region_is_warned_and_breaks_nothing(odd_folder, odd_store, capsys):
    assert any(f.where == "teams.region" and f.check == "not_null" for f in validate.validate(odd_folder))
    extract, in_memory = store.open_store(odd_store), open_extract(odd_folder)
    figures = FigureStore(extract)
    for scope in (Scope(teams=("T2",)), Scope(teams=("T1", "T2")), Scope()):
        assert scope.key in figures.prepared_scopes
        from_table = figures.figures([AS_OF], scope).sort("kpi_id")
        assert from_table.equals(kpis.compute(in_memory, [AS_OF], scope).sort("kpi_id")), scope
        for kpi_id in KPIS:
            kpis.cases(extract, AS_OF, kpi_id, scope)
    args = ["--data", str(odd_store), "--as-of", AS_OF.isoformat(), "--team", "T2"]
    assert cli.main(["kpis", *args, "--json"]) == 0
    assert strict_json(capsys.readouterr().out)["kpis"]["dm.open_cases"]["value"] == 1
    assert cli.main(["cases", *args, "--kpi", "dm.open_cases", "--json"]) == 0
    assert [r["id"] for r in strict_json(capsys.readouterr().out)] == ["D1"]


def test_the_pack_of_a_team_without_a_region_renders(odd_store, renderer):
    from housing_assurance.pack.content import build_context
    from housing_assurance.pack.render import render_pdf

    extract, scope = store.open_store(odd_store), Scope(teams=("T2",))
    notes = pack.check_inputs(extract, AS_OF, scope)
    stub = SvgStub()
    pdf = render_pdf(build_context(extract, AS_OF, scope, notes, None, stub, None, None), stub.drawn, renderer)
    text = "\n".join(pdf_page_texts(pdf))
    assert "Test team" in text and not re.search(r"\b(nan|inf)\b", text, flags=re.IGNORECASE)


# ----------------------------------------------------------------------------------------- in the app

def _app(monkeypatch, folder: Path):
    from streamlit.testing.v1 import AppTest

    from housing_assurance.app import data

    monkeypatch.setenv(data.DATA_ENV, str(folder))
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "1")
    access = folder.parent / "access.toml"
    access.write_text('[[user]]\nemail = "chief.executive@example.org"\nrole = "executive"\n')
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(access))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_a_settings_mistake_stops_the_app_in_one_line(tmp_path, monkeypatch):
    folder = write_extract(tmp_path / "extract", repairs=[{"job_id": "J1"}])
    settings = tmp_path / "settings"
    settings.mkdir()
    (settings / "targets.toml").write_text('[targets."rp.no_such_kpi"]\ngreen_at_or_below = 1\n')
    monkeypatch.setenv("HOUSING_ASSURANCE_SETTINGS", str(settings))
    at = _app(monkeypatch, folder)
    assert len(at.error) == 1 and "targets.toml: unknown table" in as_read(at.error[0].value), at.error
    assert not at.metric


def test_the_app_says_why_an_extract_date_is_not_used(tmp_path, monkeypatch):
    folder = write_extract(tmp_path / "extract", extracted_at="9999-12-31T00:00:00",
                           repairs=[{"job_id": "J1"}, {"job_id": "J2", "reported_at": datetime(2026, 6, 1, 9)}])
    at = _app(monkeypatch, folder)
    assert any("9999-12-31T00:00:00, later than now" in as_read(w.value) for w in at.sidebar.warning)


def test_the_servers_settings_are_all_options_streamlit_knows():
    """.streamlit/config.toml is what a landlord's server runs with; Streamlit ignores an option it does not
    know, so a misspelt one (error details shown, data export back on, a collection after every click) would
    pass unnoticed."""
    import tomllib

    from streamlit import config

    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    known = config.get_config_options()
    named = [f"{section}.{key}" for section, options in settings.items() for key in options]
    assert [name for name in named if name not in known] == []
    assert {"client.showErrorDetails", "client.disableDataExport", "server.fileWatcherType",
            "runner.postScriptGC"} <= set(named)


def test_figures_that_count_an_unusable_tables_rows_are_empty_not_zero(tmp_path):
    """A duplicate key makes repairs unusable (validation's error; the table is loaded empty). Its figures
    were 0, a made-up zero (kpis.md: never a made-up 0), under a line saying they were missing; they are
    now null ("—"), the other tables' figures are unchanged, and the command line says why on stderr (found
    by checking the command line against interfaces.md)."""
    from conftest import command

    folder = write_extract(tmp_path / "extract", repairs=[{"job_id": "J1"}, {"job_id": "J1"}],
                           damp_mould_cases=[{"case_id": "D1"}])
    extract = open_extract(folder)
    assert extract.unusable_tables == {"repairs"}
    as_of = date(2026, 11, 22)
    for figures in (kpis.compute(extract, [as_of]), FigureStore(extract).figures([as_of])):
        by_id = {r["kpi_id"]: (r["value"], r["numerator"], r["denominator"]) for r in figures.iter_rows(named=True)}
        assert by_id["rp.open_jobs"] == by_id["rp.emergency_on_time_pct"] == (None, None, None)
        assert by_id["vu.open_overdue_jobs_vulnerable"] == (None, None, None)
        assert by_id["dm.open_cases"] == (1.0, None, None)
        assert by_id["cx.open_complaints"] == (0.0, None, None)  # complaints is usable, and has none
    out = command("kpis", "--data", str(folder), "--as-of", "2026-11-22", "--json")  # from a prepared store
    assert out.returncode == 0, out.stderr
    figures = json.loads(out.stdout)["kpis"]
    assert figures["rp.open_jobs"] == {"value": None, "numerator": None, "denominator": None}
    assert figures["dm.open_cases"]["value"] == 1
    assert out.stderr.startswith(f"note: the extract at {folder} has 1 unusable table (repairs; repairs")
    assert "the figures that count its rows are empty" in out.stderr and "validate" in out.stderr
