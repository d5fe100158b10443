"""What the Streamlit pages need besides layout: the extract, cached data, the week, the URL.

- The extract folder comes from HOUSING_ASSURANCE_DATA (default data/demo, generated when missing).
- The opened Extract and the FigureStore live in st.cache_resource (one per extract, shared by every
  session); results that depend on the week and the scope are cached with st.cache_data with both
  in the key, because st.cache_data is shared by every user.
- Every view has a URL: the reporting week, region and team, plus the page's own state (a KPI whose
  cases are listed, a breakdown, a case id) are query parameters, read when a URL is opened or a
  link followed, and written back after each run, so the address bar can always be pasted into an
  e-mail.
The data functions below make no Streamlit call of their own; they are wrapped for caching only.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import streamlit as st

from housing_assurance import breakdowns, kpis, timeline
from housing_assurance.access import narrow
from housing_assurance.db import Extract, open_extract
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import WHOLE_LANDLORD, Scope
from housing_assurance.settings import PROJECT_ROOT

DATA_ENV = "HOUSING_ASSURANCE_DATA"
DEFAULT_DATA = "data/demo"
# "0" turns off the background warm-up of every week's figures (the tests do: they want a quiet CPU).
PREFETCH_ENV = "HOUSING_ASSURANCE_PREFETCH"
TREND_WEEKS = 52

# ---------------------------------------------------------------------------------------- the extract


def data_folder() -> Path:
    """The extract folder the app serves (relative paths are taken from the project folder)."""
    folder = Path(os.environ.get(DATA_ENV) or DEFAULT_DATA)
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


def is_default_folder(folder: Path) -> bool:
    return folder.resolve() == (PROJECT_ROOT / DEFAULT_DATA).resolve()


def needs_demo(folder: Path) -> bool:
    """The built-in demo extract is generated only into the default folder, and only when missing."""
    return is_default_folder(folder) and not (folder / "manifest.json").exists()


def make_demo(folder: Path) -> None:
    from housing_assurance.demo import generate

    generate(folder)


def data_key(folder: Path) -> str:
    """Names one extract as loaded: a new extract in the same folder gets new caches."""
    manifest = folder / "manifest.json"
    stamp = manifest.stat().st_mtime_ns if manifest.exists() else 0
    return f"{folder.resolve()}@{stamp}"


@st.cache_resource(show_spinner=False, max_entries=2)
def load_extract(key: str) -> Extract:
    """The opened extract (one DuckDB connection; every query uses its own cursor)."""
    return open_extract(Path(key.rsplit("@", 1)[0]))


@st.cache_resource(show_spinner=False, max_entries=2)
def load_store(key: str) -> FigureStore:
    return FigureStore(load_extract(key))


@st.cache_resource(show_spinner=False, max_entries=2)
def load_risk_store(key: str):
    """The homes-at-risk scores and back-test replays, shared by every session (risk.RiskStore).

    The risk module (and scikit-learn) is imported here, not at start-up: the first view does not wait on it.
    """
    from housing_assurance.risk import RiskStore

    return RiskStore(load_extract(key))


def risk_scores(key: str, as_of: date) -> pl.DataFrame | None:
    """Every home's score for the week from the shared store (None when the extract is too short to train)."""
    from housing_assurance.risk import RiskError

    try:
        return load_risk_store(key).scored(as_of)
    except RiskError:
        return None


@st.cache_data(show_spinner=False, max_entries=64)
def homes_at_risk(key: str, as_of: date, region: str | None, teams: tuple[str, ...] | None) -> pl.DataFrame:
    """The homes-at-risk list for a scope (scores are the whole landlord's: a band is a place among all homes)."""
    from housing_assurance import risk

    scored = load_risk_store(key).scored(as_of)  # raises RiskError when the extract is too short: the page says so
    return risk.homes_at_risk(load_extract(key), as_of, _scope(region, teams), scored=scored)


@st.cache_data(show_spinner=False, max_entries=32)
def risk_backtest(key: str, as_of: date, region: str | None, teams: tuple[str, ...] | None):
    """How the list did at past dates, for the scope's homes (risk.Backtest)."""
    from housing_assurance import risk

    return risk.backtest(load_extract(key), as_of, _scope(region, teams), replays=load_risk_store(key).replays(as_of))


_warmers: dict[str, threading.Thread] = {}
_warm_lock = threading.Lock()


class Activity:
    """Page runs in progress, so the warm-up can step aside while someone is waiting for a page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[int, float] = {}
        self._last_end = 0.0

    def begin(self) -> int:
        with self._lock:
            token = id(object()) ^ int(time.monotonic() * 1e6)
            self._running[token] = time.monotonic()
            return token

    def end(self, token: int) -> None:
        with self._lock:
            self._running.pop(token, None)
            self._last_end = time.monotonic()

    def busy(self, quiet: float = 0.5, stale: float = 60.0) -> bool:
        """A page is running (one that ran for over a minute is taken as lost), or has just ended."""
        now = time.monotonic()
        with self._lock:
            live = [t for t in self._running.values() if now - t < stale]
            return bool(live) or now - self._last_end < quiet


ACTIVITY = Activity()


def prefetching() -> bool:
    """Whether the background warm-up runs (HOUSING_ASSURANCE_PREFETCH=0 turns it off)."""
    return os.environ.get(PREFETCH_ENV, "1") != "0"


def start_warm_up(key: str) -> None:
    """Fill the figure store for every selectable week in the background, newest first.

    Started after the first page has been drawn, so the first view does not wait for it, and it
    steps aside whenever a page is being drawn. Once it has run, a change of week, region or team
    needs no SQL for the figures at all.
    """
    if not prefetching():
        return
    with _warm_lock:
        if key in _warmers:
            return
        store = load_store(key)
        weeks = selectable_weeks(store.extract)
        lookback = [weeks[-1] - timedelta(weeks=i) for i in range(1, TREND_WEEKS)]
        thread = threading.Thread(target=_warm, args=(store, weeks + lookback, load_risk_store(key)),
                                  name="figure-warm-up", daemon=True)
        _warmers[key] = thread
        thread.start()


def _warm(store: FigureStore, weeks: list[date], risk_store) -> None:
    def wait_for_quiet() -> None:
        while ACTIVITY.busy():
            time.sleep(0.2)

    try:
        wait_for_quiet()
        store.rows("validation", weeks[:1])  # the overview's freshness line waits on validation
        store.warm(weeks, pause=wait_for_quiet, chunk=4)
        # Then the latest week's homes at risk and its back-test: seconds of model training each.
        wait_for_quiet()
        risk_store.scored(weeks[0])
        wait_for_quiet()
        risk_store.replays(weeks[0])
    except Exception:  # noqa: BLE001 - a failed warm-up only means pages compute on demand
        pass


# ---------------------------------------------------------------------------------------- weeks


def latest_complete_week(extracted_at: datetime) -> date:
    """The last Sunday on or before the day before the extract was taken (its last complete week)."""
    day = extracted_at.date() - timedelta(days=1)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def sunday_on_or_before(day: date) -> date:
    return day - timedelta(days=(day.weekday() + 1) % 7)


def _data_span(extract: Extract) -> tuple[date | None, date | None]:
    row = extract.sql("""
        select min(t)::date as first, max(t)::date as last from (
            select reported_at as t from repairs
            union all select reported_at from damp_mould_cases
            union all select received_at from complaints)
    """).row(0)
    return row[0], row[1]


def selectable_weeks(extract: Extract) -> list[date]:
    """The reporting weeks a user can pick, newest first: from the first complete week of data
    to the latest complete week before the extract was taken."""
    first, last = _data_span(extract)
    latest = latest_complete_week(extract.extracted_at) if extract.extracted_at else None
    if latest is None:
        latest = sunday_on_or_before(last or date.today())
    earliest = sunday_on_or_before((first or latest) + timedelta(days=12)) if first else latest
    earliest = min(earliest, latest)
    n = (latest - earliest).days // 7 + 1
    return [latest - timedelta(weeks=i) for i in range(n)]


# ---------------------------------------------------------------------------------------- the view


@dataclass(frozen=True)
class View:
    """What the user is looking at: week, scope (region, team) and the page's own state."""

    key: str  # the extract (data_key)
    as_of: date
    region: str | None = None
    team: str | None = None
    allowed: Scope = WHOLE_LANDLORD  # the user's own scope (access control narrows it later)
    weeks: tuple[date, ...] = field(default=(), compare=False)

    @property
    def scope(self) -> Scope:
        return narrow(self.allowed, self.region, self.team)

    @property
    def scope_args(self) -> tuple[str | None, tuple[str, ...] | None]:
        """The scope as plain values, for cache keys."""
        s = self.scope
        return s.region, s.teams

    def params(self, **page: str | None) -> dict[str, str]:
        """Query parameters that reopen this view (page parameters left out when None)."""
        out = {"as_of": self.as_of.isoformat()}
        if self.region:
            out["region"] = self.region
        if self.team:
            out["team"] = self.team
        out |= {k: str(v) for k, v in page.items() if v is not None and v != ""}
        return out

    def url(self, page_path: str, **page: str | None) -> str:
        """A relative URL to a page of this app with this view (for links inside tables)."""
        from urllib.parse import urlencode

        return f"{page_path}?{urlencode(self.params(**page))}"


GLOBAL_PARAMS = ("as_of", "region", "team")
WIDGET = "w:"  # session-state prefix of widgets whose value lives in the URL
_LAST_URL = "_url_written"


def url_params() -> dict[str, str]:
    return {k: st.query_params.get(k) for k in st.query_params}


def url_changed() -> bool:
    """True on a session's first run, after a link was followed or a URL pasted (not our own write)."""
    return url_params() != st.session_state.get(_LAST_URL)


def adopt_url(page_keys: tuple[str, ...] = ()) -> None:
    """Put the URL's values into the widgets' state when the URL changed from outside.

    Week, region and team persist across pages when a link leaves them out (the page menu clears
    the URL); a page's own parameters reset when absent.
    """
    if not url_changed():
        return
    params = url_params()
    for name in GLOBAL_PARAMS:
        if name in params:
            st.session_state[WIDGET + name] = params[name]
    for name in page_keys:
        if name in params:
            st.session_state[WIDGET + name] = params[name]
        else:
            st.session_state.pop(WIDGET + name, None)


def write_url(view: View, **page: str | None) -> None:
    """Write the view into the address bar (no rerun) so it can be pasted into an e-mail."""
    params = view.params(**page)
    # Always written: after a link is followed the browser may still show the old address.
    st.query_params.from_dict(params)
    st.session_state[_LAST_URL] = params


def page_param(name: str) -> str | None:
    """A page's own parameter as the URL gives it (kpi, by, value, case …)."""
    return st.query_params.get(name) or None


def parse_week(text: str | None, weeks: list[date]) -> tuple[date, str | None]:
    """The week a URL asks for, or the latest, with a note when the request could not be met."""
    if not text:
        return weeks[0], None
    try:
        asked = date.fromisoformat(text)
    except ValueError:
        return weeks[0], f"“{text}” is not a date (YYYY-MM-DD); showing the latest week."
    if asked in weeks:
        return asked, None
    sunday = sunday_on_or_before(asked)
    if sunday in weeks:
        return sunday, None
    if asked > weeks[0]:
        return weeks[0], f"{asked:%-d %b %Y} is after the latest complete week in this extract; showing it."
    return weeks[-1], f"{asked:%-d %b %Y} is before the extract's data starts; showing the first week."


# ---------------------------------------------------------------------------------------- cached data
# Each takes the extract key, the week and the scope (region, teams) as plain arguments: the cache
# is shared by every session, so anything that scopes data must be part of the key.


def _scope(region: str | None, teams: tuple[str, ...] | None) -> Scope:
    return Scope(region=region, teams=teams)


@st.cache_data(show_spinner=False, max_entries=256)
def cases(key: str, as_of: date, kpi_id: str, region: str | None, teams: tuple[str, ...] | None) -> pl.DataFrame:
    """kpis.cases: the rows behind a figure (identical to `python -m housing_assurance cases`)."""
    return kpis.cases(load_extract(key), as_of, kpi_id, _scope(region, teams))


@st.cache_data(show_spinner=False, max_entries=128)
def case_story(key: str, case_id: str, kind: str | None, region: str | None, teams: tuple[str, ...] | None,
               allowed_region: str | None, allowed_teams: tuple[str, ...] | None) -> timeline.CaseStory | None:
    """A case's story for the view's scope, told as the user's own scope allows."""
    return timeline.story(load_extract(key), case_id, kind, _scope(region, teams),
                          _scope(allowed_region, allowed_teams))


@st.cache_data(show_spinner=False, max_entries=64)
def contractor_scorecard(key: str, as_of: date, region: str | None,
                         teams: tuple[str, ...] | None) -> pl.DataFrame | None:
    """The 13-week scorecard per contractor, or None while housing_assurance.contractors is missing."""
    try:
        from housing_assurance.contractors import contractor_scorecard as build
    except ImportError:
        return None
    return build(load_extract(key), as_of, _scope(region, teams))


@st.cache_data(show_spinner=False, max_entries=4)
def findings(key: str) -> pl.DataFrame:
    """Validation findings for the whole extract (errors and warnings)."""
    from housing_assurance.validate import findings_frame

    return findings_frame(load_extract(key))


def findings_ready(key: str) -> bool:
    """Whether validation has already run (so showing its counts costs nothing)."""
    return getattr(load_extract(key), "_validation_findings", None) is not None


@st.cache_data(show_spinner=False, max_entries=4)
def table_counts(key: str) -> pl.DataFrame:
    """Rows loaded per contract table, and whether the table could be used."""
    extract = load_extract(key)
    rows = []
    for name, src in extract.sources.items():
        n = extract.sql("select count(*) as n from query_table($name)", name=name)["n"][0]
        rows.append({"table": name, "rows": int(n), "usable": src.usable,
                     "problem": "; ".join(p.message for p in src.problems) or None})
    return pl.DataFrame(rows)


@st.cache_data(show_spinner=False, max_entries=4)
def regions_and_teams(key: str) -> tuple[list[str], pl.DataFrame]:
    """The regions (from homes and teams) and the teams (id, name, region) in the extract."""
    extract = load_extract(key)
    regions = extract.sql("""
        select distinct region from (select region from properties union select region from teams)
        where region is not null order by region""")["region"].to_list()
    teams = extract.sql("select team_id, team_name, region from teams order by region, team_name")
    return regions, teams


def store(key: str) -> FigureStore:
    return load_store(key)


def figures(view: View, kpi_ids: list[str], weeks: int = 1) -> pl.DataFrame:
    """The figures for the weeks ending on the view's week (from the store: milliseconds once warm)."""
    return store(view.key).figures(kpis.weeks_ending(view.as_of, weeks), view.scope, kpi_ids)


def scorecard(view: View, kpi_ids: list[str] | tuple[str, ...], weeks: int = 13) -> pl.DataFrame:
    return store(view.key).scorecard(view.as_of, view.scope, list(kpi_ids), weeks)


def breakdown(view: View, kpi_id: str, by: str) -> pl.DataFrame:
    return breakdowns.breakdown(store(view.key), kpi_id, view.as_of, view.scope, by)


def team_comparison(view: View, kpi_ids: list[str]) -> pl.DataFrame:
    return breakdowns.team_comparison(store(view.key), view.as_of, kpi_ids)
