"""The prepared store: its figures table equals the KPIs computed from the rows; a store and its
extract folder give the same output; a half-written store is never read; a new week's store is picked
up by a running app; several readers share one store."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from conftest import DEMO_AS_OF, command, no_error
from extract_factory import write_extract
from streamlit.testing.v1 import AppTest

from housing_assurance import kpis, store, tsm
from housing_assurance.db import open_extract
from housing_assurance.figures import SQL_QUERIES, FigureStore
from housing_assurance.scope import Scope
from housing_assurance.weeks import COMPARISON_WEEKS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def in_memory(demo_dir):
    """The demo read straight from its folder, as before any store existed."""
    return open_extract(demo_dir)


def test_the_figures_table_equals_the_kpis_computed_from_the_rows(demo_extract, in_memory):
    weeks = demo_extract.span().selectable_weeks()
    dates = [weeks[-1], weeks[len(weeks) // 2], weeks[0]]
    teams = in_memory.query("names").filter(pl.col("kind") == "team")["id"].to_list()
    figures = FigureStore(demo_extract)
    scopes = [Scope(), Scope(region="North"), Scope(teams=(teams[0],)), Scope(teams=(teams[0], teams[1]))]
    assert {s.key for s in scopes[:3]} <= figures.prepared_scopes  # read from the table, not recomputed
    together = figures.figures_of_scopes(dates, scopes)  # the prepared ones in one read, the last from rows
    for scope in scopes:
        from_table = figures.figures(dates, scope).sort(["kpi_id", "as_of"])
        from_rows = kpis.compute(in_memory, dates, scope).sort(["kpi_id", "as_of"])
        assert from_table.equals(from_rows), scope
        assert together[scope.key].sort(["kpi_id", "as_of"]).equals(from_rows), scope
    # each selectable week has its 52-week trend and the same week last year
    assert len(figures.prepared_weeks) == len(weeks) + COMPARISON_WEEKS - 1


def test_a_smaller_landlords_figures_are_computed_in_fewer_longer_steps():
    assert store.weeks_per_step(130_000) == 26  # the largest landlord's size: memory stays flat
    assert store.weeks_per_step(500_000) == 26  # never fewer weeks a step than that
    assert store.weeks_per_step(65_000) == 52
    assert store.weeks_per_step(2_000) == 1_690  # the demo: every week in one step
    assert store.weeks_per_step(0) == 26 * 130_000


def test_rows_computed_in_steps_of_weeks_equal_those_computed_at_once(in_memory):
    """A store of the largest landlord's size is prepared 26 weeks a step, the demo's in one: both ways
    must keep the same rows (in no declared order: they are only ever counted and summed)."""
    weeks = in_memory.span().selectable_weeks()[:30]
    stepped, at_once = FigureStore(in_memory), FigureStore(in_memory)
    for query in SQL_QUERIES:
        for i in range(0, len(weeks), 13):
            stepped.ensure(query, weeks[i:i + 13])
        at_once.ensure(query, weeks)
        rows = stepped.rows(query, weeks)
        assert rows.sort(rows.columns).equals(at_once.rows(query, weeks).sort(rows.columns)), query


def test_our_tsm_returns_are_prepared_and_equal_those_computed_from_the_rows(demo_extract, in_memory, demo_dir,
                                                                           demo_store):
    """Every reporting year the extract gives is worked out once, when the store is prepared, and reads back
    as the rows give it; the `tsm` command says the same from the store and from the folder."""
    years = tsm.years_with_figures(in_memory)
    assert len(years) >= 2, "the demo should span a whole reporting year and the year to date"
    assert sorted(demo_extract.sql("select distinct year from tsm_returns")["year"].to_list()) == years
    for year in years:
        stored = tsm._stored_return(demo_extract, year)
        assert stored is not None and stored == tsm.our_figures(in_memory, year), year
    assert tsm._stored_return(in_memory, years[0]) is None  # a folder has no store: computed from the rows
    year = years[-2]
    from_store, from_folder = (_cli("tsm", "--data", str(data), "--year", year, "--json")
                               for data in (demo_store, demo_dir))
    assert from_store.returncode == 0 and from_store.stdout == from_folder.stdout


def _cli(*args: str) -> subprocess.CompletedProcess:
    return command(*args, env={"HOUSING_ASSURANCE_ACCESS": ""})


@pytest.mark.parametrize("command", [
    ("kpis", "--json"), ("kpis", "--json", "--region", "North"), ("kpis", "--json", "--as-of", "2026-10-14"),
    ("cases", "--json", "--kpi", "dm.overdue_open_cases"), ("cases", "--json", "--kpi", "rp.avg_days_to_complete"),
])
def test_a_store_and_its_extract_folder_give_identical_output(command, demo_dir, demo_store):
    as_of = [] if "--as-of" in command else ["--as-of", DEMO_AS_OF.isoformat()]
    via_folder = _cli(command[0], "--data", str(demo_dir), *as_of, *command[1:])
    via_store = _cli(command[0], "--data", str(demo_store), *as_of, *command[1:])
    assert via_folder.returncode == via_store.returncode == 0, via_folder.stderr + via_store.stderr
    assert via_folder.stdout == via_store.stdout and json.loads(via_store.stdout)


def test_a_store_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    extract = write_extract(tmp_path / "extract")
    out = tmp_path / "store.duckdb"
    store.prepare(extract, out)
    before = out.read_bytes()

    def broken(*args, **kwargs):
        raise RuntimeError("disk full half way")

    monkeypatch.setattr(store, "_write_store", broken)
    with pytest.raises(RuntimeError):
        store.prepare(extract, out)
    assert out.read_bytes() == before  # the old store is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["extract", "store.duckdb"]  # no half-written file
    with pytest.raises(RuntimeError):
        store.prepare(extract, tmp_path / "new.duckdb")
    assert not (tmp_path / "new.duckdb").exists()


def test_what_is_not_a_store_is_refused_in_one_line(tmp_path):
    cut = tmp_path / "cut.duckdb"
    cut.write_bytes(b"\0" * 8 + b"DUCK" + b"\0" * 100)  # a store's header, then nothing
    with pytest.raises(store.StoreError, match="is not a store this app can read"):
        store.open_data(cut)
    text = tmp_path / "notes.txt"
    text.write_text("not a store")
    with pytest.raises(store.StoreError, match="neither an extract folder nor a prepared store"):
        store.open_data(text)
    with pytest.raises(store.StoreError, match="is not a store this app prepared; it is left alone"):
        store.prepare(write_extract(tmp_path / "extract"), text)
    assert text.read_text() == "not a store"
    done = _cli("kpis", "--data", str(text), "--as-of", "2026-01-04")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr


def test_a_store_from_another_version_is_refused(tmp_path, monkeypatch):
    out = store.prepare(write_extract(tmp_path / "extract"), tmp_path / "store.duckdb")
    monkeypatch.setattr(store, "recipe_version", lambda: "another")
    with pytest.raises(store.StoreError, match="prepared by another version"):
        store.open_store(out)


def test_a_folder_is_prepared_once_and_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("HOUSING_ASSURANCE_CACHE", str(tmp_path / "cache"))
    folder = write_extract(tmp_path / "extract")
    first = store.store_for(folder)
    made = first.stat().st_mtime_ns
    assert store.store_for(folder) == first and first.stat().st_mtime_ns == made
    (folder / "manifest.json").write_text((folder / "manifest.json").read_text().replace("06:00", "07:00"))
    assert store.store_for(folder) != first  # new content, new store


def test_several_readers_share_one_store(demo_store):
    """Two processes read the store while this one holds it open."""
    held = store.open_store(demo_store)
    runs = [subprocess.Popen([sys.executable, "-m", "housing_assurance", "kpis", "--data", str(demo_store),
                              "--as-of", DEMO_AS_OF.isoformat(), "--json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, cwd=ROOT) for _ in range(2)]
    outputs = [r.communicate(timeout=120) for r in runs]
    assert all(r.returncode == 0 for r in runs), [e for _, e in outputs]
    assert outputs[0][0] == outputs[1][0]
    assert held.query("names").height  # still readable


def test_a_running_app_picks_up_a_new_weeks_store(tmp_path, monkeypatch, demo_store):
    serving = tmp_path / "current.duckdb"
    shutil.copy(demo_store, serving)
    monkeypatch.setenv("HOUSING_ASSURANCE_DATA", str(serving))
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "1")
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(Path(store.open_store(demo_store).path) / "access.toml"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert no_error(at) and any("Data extracted 23 Nov 2026" in c.value for c in at.sidebar.caption)
    later = write_extract(tmp_path / "next-week", extracted_at="2026-11-30T06:00:00")
    store.prepare(later, tmp_path / "next.duckdb")
    os.replace(tmp_path / "next.duckdb", serving)  # the scheduler's new week, while the app runs
    at.run()
    assert no_error(at)
    assert any("Data extracted 30 Nov 2026" in c.value for c in at.sidebar.caption)
    assert any("A new extract has arrived" in i.value for i in at.info)
