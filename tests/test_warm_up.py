"""What makes a page's first look quick: the server's warm-up after the first view (what every page needs
once per server, worked out in the background where the pages look for it), and a slow list started
ahead of the block that shows it."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from pathlib import Path

import polars as pl
import pytest
from conftest import open_app_at

from housing_assurance import compare, risk, sector, store, workdays
from housing_assurance.app import compare_page, data
from housing_assurance.app import warm_up as warming
from housing_assurance.app.warm_up import _warm, warm_up
from housing_assurance.contractors import contractor_scorecard
from housing_assurance.scope import Scope

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def key(demo_app) -> str:
    # The warm-ups of earlier modules' apps, which a busy machine can leave running, finish first: they share
    # the pages' caches (a few entries each), and one failed this module's check once, beside two busy loops.
    for thread in threading.enumerate():
        if thread.name == "warm-up":
            thread.join(timeout=120)
    open_app_at()  # the first visitor's first view starts the warm-up at its end
    return data.data_key(data.data_folder())


def test_the_first_view_warms_what_every_pages_first_look_needs(key, monkeypatch):
    before = warm_up.cache_info()
    thread = warm_up(key)
    assert warm_up.cache_info().hits == before.hits + 1  # the thread the first view started, not a new one
    thread.join(timeout=120)
    assert thread.name == "warm-up" and not thread.is_alive()
    assert workdays.bank_holidays.cache_info().currsize == 1
    assert "sqlalchemy" in sys.modules  # the weekly review's database library
    latest = data.selectable_weeks(key)[0]
    reads = []
    real = store.stored
    monkeypatch.setattr(store, "stored", lambda *a, **kw: reads.append(a[1]) or real(*a, **kw))
    assert data.risk_scores(key, latest) is not None and data.load_risk_store(key).replays(latest)
    assert reads == []  # the latest week's homes at risk are at hand: the page reads nothing
    folder = sector.tsm_folder()
    before = compare_page.position_charts.cache_info()
    compare_page.position_charts(key, str(folder), compare.published_files(folder))
    after = compare_page.position_charts.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)  # How we compare: already drawn


def test_a_warm_up_learns_nothing_and_leaves_what_it_cannot_do_to_the_page(key, demo_extract, monkeypatch,
                                                                             caplog):
    """A week the store holds no homes at risk for is not learned in the background, and without the
    regulator's files How we compare is left alone: the warm-up does the rest and says nothing (the pages
    say what is missing). Anything else stops it with one line in the server log, naming no path."""
    monkeypatch.setenv("HOUSING_ASSURANCE_TSM", "/nonexistent")
    learned = []
    monkeypatch.setattr(risk, "score_homes", lambda *a, **kw: learned.append("scores"))
    monkeypatch.setattr(risk, "replay", lambda *a, **kw: learned.append("replays"))
    unprepared_week = data.selectable_weeks(key)[5]
    risk_store = risk.RiskStore(demo_extract)
    with caplog.at_level(logging.WARNING, logger="housing_assurance.app"):
        _warm(key, risk_store, unprepared_week)
    assert caplog.records == [] and learned == [] and not risk_store.has_scores(unprepared_week)

    class Broken:
        def keep_prepared(self, as_of):
            raise OSError("/some/path/with/a/name")

    with caplog.at_level(logging.WARNING, logger="housing_assurance.app"):
        _warm(key, Broken(), unprepared_week)
    assert [r.getMessage() for r in caplog.records] == [
        "warm-up stopped early (OSError); pages will do the work themselves"]


def test_the_contractor_table_started_ahead_is_the_scorecard(key, demo_extract):
    weeks = data.selectable_weeks(key)
    data.start_contractor_scorecard(key, weeks[3], "North", None)
    ahead = data.contractor_scorecard(key, weeks[3], "North", None)
    assert ahead.equals(contractor_scorecard(demo_extract, weeks[3], Scope("North", None)))
    assert not ahead.is_empty()


def test_a_list_started_ahead_is_kept_but_a_failure_is_tried_again():
    ahead = data._Ahead(size=2)
    runs = []

    def failing() -> pl.DataFrame:
        runs.append("failed")
        raise RuntimeError("the database was busy")

    def works() -> pl.DataFrame:
        runs.append("worked")
        return pl.DataFrame({"n": [1]})

    with pytest.raises(RuntimeError):
        ahead.result(("a",), failing)
    assert ahead.result(("a",), works)["n"].to_list() == [1]  # tried again, not the failure kept
    assert ahead.result(("a",), failing)["n"].to_list() == [1]  # kept: not run again
    ahead.result(("b",), works)
    ahead.result(("c",), works)  # at most two kept: the oldest ("a") goes
    assert ahead.result(("a",), works)["n"].to_list() == [1]
    assert runs == ["failed", "worked", "worked", "worked", "worked"]


def test_each_step_of_the_warm_up_waits_until_no_page_is_being_drawn(monkeypatch):
    """A reader's click shares the two cores with one step of the warm-up at most: each step waits for a
    moment when no page is being drawn, but never longer than LONGEST_WAIT_S (a busy server still warms)."""
    warming.page_started()
    try:
        waiting = threading.Thread(target=warming._quiet_moment)
        waiting.start()
        waiting.join(0.3)
        assert waiting.is_alive()  # a page is being drawn: the step waits
    finally:
        warming.page_ended()
    waiting.join(2)
    assert not waiting.is_alive()
    monkeypatch.setattr(warming, "LONGEST_WAIT_S", 0.1)
    warming.page_started()
    try:
        never_quiet = threading.Thread(target=warming._quiet_moment)
        never_quiet.start()
        never_quiet.join(2)
        assert not never_quiet.is_alive()
    finally:
        warming.page_ended()


def test_every_page_drawn_is_counted_out_again(key):
    """However a run ends (drawn, refused, stopped by a bad URL), the server's count of pages being drawn
    comes back to nothing, or the warm-up would wait its longest at every step."""
    open_app_at()
    open_app_at("pages/case.py", case="<script>")
    open_app_at(region="<b>Nowhere</b>")
    assert warming._drawing == 0


def test_a_server_that_stops_while_warming_up_stops_cleanly(key, demo_dir):
    """The warm-up is started from a page's own thread, a daemon: its thread must not be one, or a process
    that ends while it is inside DuckDB is killed by the C++ runtime ("terminate called …") rather than
    ending cleanly."""
    assert warming.warm_up(key).daemon is False
    child = (
        "import os, sys; from streamlit.testing.v1 import AppTest\n"
        "at = AppTest.from_file(sys.argv[1], default_timeout=120); at.run()\n"
        "assert not at.exception, at.exception\n"
        "print('ended while warming up' if any(t.name == 'warm-up' and t.is_alive() "
        "for t in __import__('threading').enumerate()) else 'ended')\n")
    done = subprocess.run([sys.executable, "-c", child, str(ROOT / "app.py")], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env={**os.environ, "HOUSING_ASSURANCE_DATA": str(demo_dir)})
    assert done.returncode == 0 and "terminate called" not in done.stderr, done.stderr[-2000:]
    assert done.stdout.strip().startswith("ended")
