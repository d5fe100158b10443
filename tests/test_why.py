"""A figure's line of why from a prepared store's kept rows is the line its drill-down's cases give:
the same facts (how many, how many against, the furthest over, the oldest, how many at vulnerable
households) for every figure, week and scope, whichever way a target points."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from housing_assurance import why
from housing_assurance.figures import SQL_QUERIES, FigureStore
from housing_assurance.kpis import CATALOGUE, cases_from_rows, query_rows, select_rows
from housing_assurance.scope import Scope
from housing_assurance.targets import Target


@pytest.fixture(scope="module")
def figure_store(demo_extract) -> FigureStore:
    return FigureStore(demo_extract)


@pytest.fixture(scope="module")
def samples(demo_extract) -> list[tuple[date, Scope]]:
    """Three weeks (latest, middle, earliest), each with a scope of its own (whole landlord, a region, a team):
    every week and every kind of scope once."""
    weeks = demo_extract.span().selectable_weeks()
    team = demo_extract.query("names").filter(pl.col("kind") == "team")["id"][0]
    return [(weeks[0], Scope()), (weeks[len(weeks) // 2], Scope(region="North")), (weeks[-1], Scope(teams=(team,)))]


def test_the_store_and_the_drill_down_give_every_figure_the_same_facts_and_line(demo_extract, figure_store,
                                                                               samples):
    said = asked = 0
    for as_of, scope in samples:
        figures = {r["kpi_id"]: r for r in figure_store.figures([as_of], scope).iter_rows(named=True)}
        kept = {q: figure_store.rows(q, [as_of], scope) for q in SQL_QUERIES}
        by_query = {q: query_rows(demo_extract, q, [as_of], scope) for q in SQL_QUERIES}  # as kpis.cases reads them
        for k in CATALOGUE:
            if k.query == "validation":
                continue
            rows = cases_from_rows(by_query[k.query], k)
            groups = select_rows(kept[k.query], k)
            for higher_is_better in (True, False) if k.kind == "pct" else (True,):  # which rows count against
                goal = Target(k.id, higher_is_better, 0.0, 0.0)
                facts = why.facts_from_cases(k, goal, rows)
                assert why.facts_from_groups(k, goal, groups) == facts, (k.id, as_of, scope)
                assert facts["rows"] == rows.height
                line = why.reason(k, goal, "red", figures[k.id], rows, as_of)
                assert why.reason_from_groups(k, goal, "red", figures[k.id], groups, as_of) == line
                said += line is not None
                asked += 1
    assert said > asked / 2  # most figures have something to say in most weeks and scopes


def test_a_week_the_store_did_not_prepare_gives_the_rows_it_would_have_kept(demo_extract, samples):
    """A week over ten years back is not prepared: its rows are grouped when asked, the same rows."""
    as_of, scope = samples[1]
    prepared, unprepared = FigureStore(demo_extract), FigureStore(demo_extract)
    unprepared.prepared_weeks = set()
    for query in SQL_QUERIES:
        kept = prepared.rows(query, [as_of], scope)
        grouped_now = unprepared.rows(query, [as_of], scope)
        assert grouped_now.sort(grouped_now.columns).equals(kept.sort(kept.columns)), query


def test_how_late_a_clock_runs_counts_from_the_end_of_the_week_when_not_yet_done():
    """The furthest over among clocks not met: done late (B, 1 day 9 hours over) or not done by E, the
    end of the week (C: E is Mon 23 Nov 00:00, 4 days past its deadline) — the larger wins."""
    k = next(k for k in CATALOGUE if k.id == "dm.investigated_10wd_pct")
    due = datetime(2026, 11, 18, 23, 59, 59)
    rows = pl.DataFrame({"id": ["A", "B", "C"], "meets": [True, False, False], "due_by": [due] * 3,
                         "action_at": [datetime(2026, 11, 17), datetime(2026, 11, 20, 9), None],
                         "is_vulnerable_household": [True, None, True]})
    facts = why.facts_from_cases(k, Target(k.id, True, 100.0, 0.0), rows)
    assert facts["rows"] == 3 and facts["counted"] == 2 and facts["why_vulnerable"] == 1
    assert facts["why_done_over_us"] == (datetime(2026, 11, 20, 9) - due).total_seconds() * 1_000_000
    assert facts["why_open_due_by"] == due
    line = why.reason(k, Target(k.id, True, 100.0, 0.0), "red", {"value": 33.3}, rows, date(2026, 11, 22))
    assert line == "2 of 3 cases not investigated within 10 working days; the furthest 4 days over; " \
                   "1 at vulnerable households"
    # C done the same day as B: the furthest is B's 1 day (and 9 hours)
    done = rows.with_columns(action_at=pl.Series([datetime(2026, 11, 17), datetime(2026, 11, 20, 9),
                                                  datetime(2026, 11, 19)]))
    assert "the furthest 1 day over" in why.reason(k, Target(k.id, True, 100.0, 0.0), "red", {"value": 33.3},
                                                   done, date(2026, 11, 22))
