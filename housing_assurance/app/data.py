"""The app's data: the store it serves and every figure, list and story a page shows, cached.

- HOUSING_ASSURANCE_DATA names a prepared store or an extract folder (default data/demo, generated when
  missing); a folder is served from its prepared store (store.py), prepared on first use.
- The store is opened read-only, once per process (st.cache_resource, shared by every session): DuckDB
  reads the file, the server holds no copy of the tables. A new week's store that replaces the file is
  picked up at the next click (the key names the file's identity).
- Results that depend on the week and the scope are cached with st.cache_data with both in the key,
  because st.cache_data is shared by every user. Large or often-read frames (the rows behind the
  figures, the homes at risk, the names) are kept in an lru_cache instead: shared the same way, but not
  pickled on every read (polars frames are never changed in place).
The functions make no Streamlit call of their own; they are wrapped for caching only.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date
from functools import lru_cache
from pathlib import Path

import polars as pl
import streamlit as st

from housing_assurance import breakdowns, due, kpis, remit, timeline, why
from housing_assurance.app.state import View
from housing_assurance.db import Extract, one_row
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import KPIS, select_rows
from housing_assurance.scope import Scope
from housing_assurance.scorecard import scorecard_from_history
from housing_assurance.settings import PROJECT_ROOT
from housing_assurance.store import cached_store, open_store, store_for
from housing_assurance.targets import targets
from housing_assurance.weeks import COMPARISON_WEEKS, LONG_TREND_WEEKS, weeks_ending

DATA_ENV = "HOUSING_ASSURANCE_DATA"
DEFAULT_DATA = "data/demo"


def data_folder() -> Path:
    """The extract folder the app serves (relative paths are taken from the project folder)."""
    folder = Path(os.environ.get(DATA_ENV) or DEFAULT_DATA)
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def needs_demo(folder: Path) -> bool:
    """The built-in demo extract is generated only into the default folder, and only when it is missing
    or partial (a whole one is never generated again, whatever its date)."""
    if folder.resolve() != (PROJECT_ROOT / DEFAULT_DATA).resolve():
        return False  # a landlord's own data: the demo generator (a tenth of a second to import) is never loaded
    from housing_assurance.demo import is_complete

    return not is_complete(folder)


def make_demo(folder: Path) -> None:
    from housing_assurance.demo import generate

    generate(folder)


def _fingerprint(folder: Path) -> tuple:
    """What changes when an extract folder's files change (cheap: names, sizes and times, no reading)."""
    return tuple(sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                        for p in folder.rglob("*") if p.is_file()))


_prepared: dict[tuple, Path] = {}


def store_path(data: Path) -> Path:
    """The store that serves HOUSING_ASSURANCE_DATA: itself, or a folder's prepared store (prepared now
    if this content has none: seconds for the demo, a minute or two for the largest landlord)."""
    if not data.is_dir():
        return data
    fingerprint = (str(data.resolve()), _fingerprint(data))
    if fingerprint not in _prepared:
        _prepared[fingerprint] = store_for(data)
    return _prepared[fingerprint]


def needs_preparing(data: Path) -> bool:
    return data.is_dir() and (str(data.resolve()), _fingerprint(data)) not in _prepared and \
        not cached_store(data).exists()


def data_key(data: Path) -> str:
    """Names one store as opened: a store file replaced by a new week's gets a new key, so new caches."""
    path = store_path(data)
    stat = path.stat()
    return f"{path.resolve()}@{stat.st_ino}:{stat.st_mtime_ns}"


@st.cache_resource(show_spinner=False, max_entries=2)
def load_extract(key: str) -> Extract:
    """The opened store (one read-only DuckDB connection; every query uses its own cursor)."""
    return open_store(Path(key.rsplit("@", 1)[0]), follow_replacements=True)


@st.cache_resource(show_spinner=False, max_entries=2)
def load_store(key: str) -> FigureStore:
    return FigureStore(load_extract(key))


@st.cache_resource(show_spinner=False, max_entries=2)
def load_risk_store(key: str):
    """The homes-at-risk scores and back-test replays, shared by every session (risk.RiskStore). The risk
    module is imported here, not at start-up, and scikit-learn only for a week the store has no scores for."""
    from housing_assurance.risk import RiskStore

    return RiskStore(load_extract(key))


def selectable_weeks(key: str) -> list[date]:
    return load_extract(key).span().selectable_weeks()


def risk_scores(key: str, as_of: date) -> pl.DataFrame | None:
    """Every home's score for the week from the shared store (None when the extract is too short to train)."""
    from housing_assurance.risk import RiskError

    try:
        return load_risk_store(key).scored(as_of)
    except RiskError:
        return None


@lru_cache(maxsize=8)  # every home in scope (120,000 at the largest landlord, 17 MB): shared, not pickled
def homes_at_risk(key: str, as_of: date, region: str | None, teams: tuple[str, ...] | None,
                  viewer_teams: tuple[str, ...] | None) -> pl.DataFrame:
    """The homes-at-risk list for a scope (scores are the whole landlord's: a band is a place among all
    homes), as a reader scoped to `viewer_teams` may see it (risk.for_teams)."""
    from housing_assurance import risk

    scored = load_risk_store(key).scored(as_of)  # raises RiskError when the extract is too short: the page says so
    extract = load_extract(key)
    return risk.for_teams(extract, risk.homes_at_risk(extract, as_of, Scope(region, teams), scored=scored),
                          viewer_teams)


@st.cache_data(show_spinner=False, max_entries=32)
def risk_backtest(key: str, as_of: date, region: str | None, teams: tuple[str, ...] | None):
    """How the list did at past dates, for the scope's homes (risk.Backtest)."""
    from housing_assurance import risk

    return risk.backtest(load_extract(key), as_of, Scope(region, teams),
                         replays=load_risk_store(key).replays(as_of))


def cases(key: str, as_of: date, kpi_id: str, region: str | None, teams: tuple[str, ...] | None) -> pl.DataFrame:
    """kpis.cases: the rows behind a figure (identical to `python -m housing_assurance cases`)."""
    return _cases_by_query(key, as_of, kpis.kpi(kpi_id).query, region, teams)[kpi_id]


@lru_cache(maxsize=64)
def _cases_by_query(key: str, as_of: date, query: str, region: str | None,
                    teams: tuple[str, ...] | None) -> dict[str, pl.DataFrame]:
    """The rows behind every figure that reads one query, for a week and scope: the query runs once for
    them all (five repairs figures read rp_completed_jobs). Kept for every session like st.cache_data,
    but shared rather than copied: polars frames are never changed in place, and st.cache_data would
    pickle and unpickle every frame each time a tile or list reads it (a tenth of a second a click).

    A region or team in a week whose whole-landlord rows are at hand (anyone has seen the week) takes
    them from those rows by the SQL scope rule (kpis.rows_in_scope: the same rows) rather than running
    the query again: 0.03 s instead of 0.1 s a query at 120,000 homes."""
    extract, scope = load_extract(key), Scope(region, teams)
    whole = _whole_rows.get((key, as_of, query))
    if scope.is_whole_landlord or whole is None:
        rows = kpis.query_rows(extract, query, [as_of], scope)
        if scope.is_whole_landlord:
            _whole_rows.put((key, as_of, query), rows)
    else:
        rows = kpis.rows_in_scope(extract, query, whole, [as_of], scope)
    return {k.id: kpis.cases_from_rows(rows, k) for k in kpis.CATALOGUE if k.query == query}


class _Held:
    """The last few whole-landlord query results, by (store key, week, query), for any thread to read."""

    def __init__(self, size: int) -> None:
        self._size, self._lock, self._held = size, threading.Lock(), OrderedDict()

    def get(self, key: tuple) -> pl.DataFrame | None:
        with self._lock:
            return self._held.get(key)

    def put(self, key: tuple, rows: pl.DataFrame) -> None:
        with self._lock:
            self._held[key] = rows
            self._held.move_to_end(key)
            while len(self._held) > self._size:
                self._held.popitem(last=False)


_whole_rows = _Held(32)


@st.cache_data(show_spinner=False, max_entries=128)
def case_story(key: str, case_id: str, kind: str | None, region: str | None, teams: tuple[str, ...] | None,
               allowed_region: str | None, allowed_teams: tuple[str, ...] | None) -> timeline.CaseStory | None:
    """A case's story for the view's scope, told as the user's own scope allows."""
    return timeline.story(load_extract(key), case_id, kind, Scope(region, teams), Scope(allowed_region, allowed_teams))


class _Ahead:
    """Lists whose query takes a fifth of a second, each started ahead of the block that shows it so that
    it runs while the page's figures are drawn (DuckDB works on the other core). Shared by every session
    like st.cache_data, by what they are of (frames are never changed in place). Work that failed is not
    kept: the next reader tries again, and the page says what went wrong. The work is given everything
    it reads (no Streamlit call runs in the pool's threads)."""

    _pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ahead")

    def __init__(self, size: int) -> None:
        self._size, self._lock, self._held = size, threading.Lock(), OrderedDict()

    def start(self, of: tuple, work: Callable[[], pl.DataFrame]) -> Future:
        with self._lock:
            if of not in self._held:
                self._held[of] = self._pool.submit(work)
            self._held.move_to_end(of)
            while len(self._held) > self._size:
                self._held.popitem(last=False)
            return self._held[of]

    def result(self, of: tuple, work: Callable[[], pl.DataFrame]) -> pl.DataFrame:
        started = self.start(of, work)
        try:
            return started.result()
        except Exception:
            with self._lock:
                if self._held.get(of) is started:
                    del self._held[of]
            raise


_scorecards = _Ahead(size=64)


def _scorecard_work(key: str, as_of: date, region: str | None, teams: tuple[str, ...] | None):
    from housing_assurance.contractors import contractor_scorecard as build

    extract = load_extract(key)
    return lambda: build(extract, as_of, Scope(region, teams))


def start_contractor_scorecard(key: str, as_of: date, region: str | None, teams: tuple[str, ...] | None) -> None:
    """Start the scorecard's query now, for a block further down the page."""
    _scorecards.start((key, as_of, region, teams), _scorecard_work(key, as_of, region, teams))


def contractor_scorecard(key: str, as_of: date, region: str | None, teams: tuple[str, ...] | None) -> pl.DataFrame:
    """The 13-week scorecard per contractor."""
    return _scorecards.result((key, as_of, region, teams), _scorecard_work(key, as_of, region, teams))


@st.cache_data(show_spinner=False, max_entries=4)
def findings(key: str) -> pl.DataFrame:
    """Validation findings for the whole extract (errors and warnings)."""
    from housing_assurance.validate import findings_frame

    return findings_frame(load_extract(key))


@st.cache_data(show_spinner=False, max_entries=4)
def table_counts(key: str) -> pl.DataFrame:
    """Rows loaded per contract table, and whether the table could be used."""
    extract = load_extract(key)
    rows = []
    for name, src in extract.sources.items():
        n = one_row(extract.con, "load/table_rows", {"table": name})["rows"]
        rows.append({"table": name, "rows": int(n), "usable": src.usable,
                     "problem": "; ".join(p.message for p in src.problems) or None})
    return pl.DataFrame(rows)


@lru_cache(maxsize=4)  # read several times a run (the sidebar, the words for a scope): shared, not copied
def names(key: str) -> pl.DataFrame:
    """The regions, teams and contractors the extract names (kind, id, label, region, function)."""
    return load_extract(key).query("names")


def regions(key: str) -> list[str]:
    found = names(key)
    return found.filter(pl.col("kind") == "region")["id"].to_list()


def teams(key: str) -> pl.DataFrame:
    """team_id, team_name, region, function, in the order a reader looks for them (region, then name)."""
    found = names(key).filter(pl.col("kind") == "team")
    return found.select(pl.col("id").alias("team_id"), pl.col("label").alias("team_name"), "region", "function")


def team_names(key: str) -> dict[str, str]:
    t = teams(key)
    return dict(zip(t["team_id"].to_list(), t["team_name"].to_list(), strict=True))


def contractor_names(key: str) -> dict[str, str]:
    found = names(key).filter(pl.col("kind") == "contractor")
    return dict(zip(found["id"].to_list(), found["label"].to_list(), strict=True))


def store(key: str) -> FigureStore:
    return load_store(key)


def figures(view: View, kpi_ids: list[str], weeks: int = 1) -> pl.DataFrame:
    """The figures for the weeks ending on the view's week (from the store's figures: milliseconds)."""
    return store(view.key).figures(weeks_ending(view.as_of, weeks), view.scope, kpi_ids)


def long_trend(view: View, kpi_id: str) -> pl.DataFrame:
    return figures(view, [kpi_id], weeks=LONG_TREND_WEEKS).sort("as_of")


def scorecard(view: View, kpi_ids: list[str] | tuple[str, ...]) -> pl.DataFrame:
    """The tiles' figures: the week, its last 13 weeks and its comparisons (53 weeks read at once)."""
    history = figures(view, list(kpi_ids), weeks=COMPARISON_WEEKS)
    return scorecard_from_history(history, view.as_of, list(kpi_ids))


def reasons(view: View, tiles: list[dict]) -> dict[str, str]:
    """Why each red or amber figure is so (why.py), by KPI id: from the facts the store keeps with the
    rows behind every figure, the same facts as the drill-down's cases give (milliseconds, where running
    the queries behind a new week's red figures took a third of a second at 120,000 homes)."""
    red = [t for t in tiles if t["rag"] in ("red", "amber")]
    figure_store = store(view.key)
    rows_by_query = {q: figure_store.rows(q, [view.as_of], view.scope)
                     for q in dict.fromkeys(KPIS[t["kpi_id"]].query for t in red)}
    out = {}
    for t in red:
        k = KPIS[t["kpi_id"]]
        text = why.reason_from_groups(k, targets().get(k.id), t["rag"], t, select_rows(rows_by_query[k.query], k),
                                      view.as_of)
        if text:
            out[k.id] = text
    return out


@st.cache_data(show_spinner=False, max_entries=128)
def due_soon(key: str, as_of: date, region: str | None, teams: tuple[str, ...] | None, kind: str) -> pl.DataFrame:
    """The open clocks of one kind (damp and mould cases, complaints) falling due in the next 5 working days."""
    return due.due_soon(load_extract(key), as_of, Scope(region, teams), kind)


@st.cache_data(show_spinner=False, max_entries=256)
def outside_remit(key: str, teams: tuple[str, ...] | None, kpi_ids: tuple[str, ...]) -> dict[str, str]:
    """The figures whose kind of work the scope's teams never do (remit.py)."""
    return remit.outside_remit(load_extract(key), Scope(teams=teams), kpi_ids)


def breakdown(view: View, kpi_id: str, by: str) -> pl.DataFrame:
    return breakdowns.breakdown(store(view.key), kpi_id, view.as_of, view.scope, by)


def breakdown_per_homes(view: View, kpi_id: str, by: str) -> pl.DataFrame:
    return breakdowns.breakdown_per_homes(store(view.key), kpi_id, view.as_of, view.scope, by)


def team_comparison(view: View, kpi_ids: list[str]) -> pl.DataFrame:
    return breakdowns.team_comparison(store(view.key), view.as_of, kpi_ids)
