"""Homes at risk of damp and mould: an explainable score for every home, proven on past data.

For an as-of date D the model learns from what the extract knew at D only: examples are the
homes at earlier as-of dates t (every 4 weeks over the year before D − 13 weeks), described by
`queries/risk_features.sql` as they stood at t, labelled by `queries/risk_outcomes.sql` (a damp
and mould report at the home in the 13 weeks after t, all of which had happened by D). A
logistic regression on standardised features is used because each home's score then splits
exactly into one contribution per factor, so every home carries its top three reasons in plain
words. `backtest` replays the whole procedure at past as-of dates and compares the list with
the reports that actually followed. docs/homes-at-risk.md explains the model and its limits.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from housing_assurance.contract import HOMES_TENURES, PROPERTY_TYPES
from housing_assurance.db import Extract
from housing_assurance.scope import WHOLE_LANDLORD, Scope

if TYPE_CHECKING:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

HORIZON_DAYS = 91  # the outcome window: 13 weeks after E
TRAINING_STEP_DAYS = 28  # one set of training examples every 4 weeks …
TRAINING_DATES = 13  # … over a year
MIN_HISTORY_DAYS = 182  # a training date needs this much extract history before it
BACKTEST_DATES = 6
BACKTEST_STEP_DAYS = 84  # 12 weeks: a multiple of the training step, so back-tests share training dates
TOP_SHARE = 0.05  # "the top 5% of homes"
TOP_N_PRECISION = 100  # "precision in the top 100 homes"
REGULARISATION_C = 0.5
# At a landlord with more homes, each training date uses a fixed sample of about this many (drawn from
# the property id, so the same at every run): training then takes seconds at 120,000 homes. Every
# home is always scored.
MAX_TRAINING_HOMES = 12_000

# Score bands by the home's place among all the landlord's homes scored on D.
BANDS: tuple[tuple[float, str], ...] = ((0.01, "very high"), (0.05, "high"), (0.20, "raised"), (1.0, "lower"))

EPC_RATINGS = ("A", "B", "C", "D", "E", "F", "G")
# (first build year, last build year or None, words)
AGE_BANDS: tuple[tuple[int, int | None, str], ...] = (
    (0, 1918, "built before 1919"),
    (1919, 1944, "built 1919–1944"),
    (1945, 1964, "built 1945–1964"),
    (1965, 1979, "built 1965–1979"),
    (1980, 1999, "built 1980–1999"),
    (2000, None, "built 2000 or later"),
)
TENURE_WORDS = {"general_needs": "general needs home", "supported": "supported housing",
                "older_persons": "older persons' housing", "shared_ownership": "shared ownership home"}


class RiskError(Exception):
    """The extract cannot support a risk score (too little history, no reports to learn from)."""


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def _a(word: str) -> str:
    return ("an " if word[:1] in "aeiou" else "a ") + word


# ---------------------------------------------------------------------------------------------
# Features: the SQL rows turned into model columns, each column belonging to one reason group.
# ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReasonGroup:
    """Model columns that together make one plain-words reason."""

    name: str
    columns: tuple[str, ...]
    words: Callable[[dict], str]
    # When the home has the thing at all: a reason must be something the home has ("0 repeat repairs"
    # never is, even where fewer than average lifts the score). None: always (a category every home has).
    present: pl.Expr | None = None
    tellable: bool = True  # season is the same for every home on a date: never a reason


def _damp_words(r: dict) -> str:
    recent, earlier = r["dm_cases_1y"], r["dm_cases_before_1y"]
    if recent:
        weeks = max(1, round((r["days_since_dm_case"] or 0) / 7))
        text = f"{_plural(recent, 'damp and mould report')} in the last year, the latest {_plural(weeks, 'week')} ago"
        return text + (f", and {earlier} before that" if earlier else "")
    if earlier:
        return f"{_plural(earlier, 'damp and mould report')} more than a year ago"
    return "no earlier damp and mould reports"


def _crowding_words(r: dict) -> str:
    rooms = _plural(r["bedrooms"], "bedroom") if r["bedrooms"] else "a home with no separate bedroom"
    return f"overcrowded: {_plural(r['household_size'], 'person', 'people')} in {rooms}"


def _age_words(r: dict) -> str:
    year = r["build_year"]
    if year is None:
        return "build year not recorded"
    return next(words for lo, hi, words in AGE_BANDS if year >= lo and (hi is None or year <= hi))


def _contacts_words(r: dict) -> str:
    text = f"{_plural(r['contacts_1y'], 'contact')} from the household in the last year"
    return text + (f" ({r['repair_chases_1y']} chasing a repair)" if r["repair_chases_1y"] else "")


def _counted(name: str, column: str, word: str, when: str) -> ReasonGroup:
    """A reason that counts something at the home, present when the count is above 0."""
    return ReasonGroup(name, (column,), lambda r: f"{_plural(r[column], word)} in {when}", pl.col(column) > 0)


_OVERCROWDED = (pl.col("is_occupied") & (
    pl.col("household_size") - pl.max_horizontal(pl.col("bedrooms").fill_null(99), pl.lit(1)) >= 1)).fill_null(False)

VULNERABLE_REASON = "household recorded as vulnerable"

REASON_GROUPS: tuple[ReasonGroup, ...] = (
    ReasonGroup("earlier_damp", ("dm_recent_reports", "dm_earlier_reports", "dm_recency"), _damp_words,
                pl.col("dm_cases_1y") + pl.col("dm_cases_before_1y") > 0),
    ReasonGroup("open_damp", ("has_open_dm_case",), lambda r: "a damp and mould case is still open",
                pl.col("has_open_dm_case")),
    _counted("leaks", "leak_repairs_2y", "leak repair", "the last 2 years"),
    _counted("roof", "roof_repairs_2y", "roof repair", "the last 2 years"),
    _counted("plumbing", "plumbing_repairs_1y", "plumbing repair", "the last year"),
    _counted("heating", "heating_repairs_1y", "heating repair", "the last year"),
    _counted("recent_water", "water_repairs_13w", "leak, roof or plumbing repair", "the last 13 weeks"),
    _counted("recent_heating", "heating_repairs_13w", "heating repair", "the last 13 weeks"),
    _counted("repeat_repairs", "repeat_repairs_1y", "repeat repair", "the last year"),
    _counted("repairs", "repairs_1y", "repair", "the last year"),
    ReasonGroup("contacts", ("contacts_1y", "repair_chases_1y"), _contacts_words, pl.col("contacts_1y") > 0),
    ReasonGroup("crowding", ("overcrowded_by_1", "overcrowded_by_2_or_more"), _crowding_words, _OVERCROWDED),
    ReasonGroup("vulnerable", ("is_vulnerable_household",), lambda r: VULNERABLE_REASON,
                pl.col("is_vulnerable_household")),
    ReasonGroup("empty", ("is_empty",), lambda r: "empty home (no tenancy)", ~pl.col("is_occupied")),
    ReasonGroup("property_type", tuple(f"type_{t}" for t in PROPERTY_TYPES),
                lambda r: _a(r["property_type"]) if r["property_type"] in PROPERTY_TYPES[:-1]
                else "property type other"),
    ReasonGroup("age", tuple(f"built_{lo}" for lo, _, _ in AGE_BANDS) + ("built_unknown",), _age_words),
    ReasonGroup("epc", tuple(f"epc_{e}" for e in EPC_RATINGS) + ("epc_unknown",),
                lambda r: f"EPC rating {r['epc_rating']}" if r["epc_rating"] in EPC_RATINGS
                else "no EPC rating recorded"),
    ReasonGroup("tenure", tuple(f"tenure_{t}" for t in HOMES_TENURES),
                lambda r: TENURE_WORDS.get(r["tenure"], str(r["tenure"]))),
    ReasonGroup("season", ("season_sin", "season_cos"), lambda r: "time of year", tellable=False),
)
FEATURE_COLUMNS: tuple[str, ...] = tuple(c for g in REASON_GROUPS for c in g.columns)
# The feature rows' columns that the reasons' words quote.
REASON_INPUTS = (
    "dm_cases_1y", "dm_cases_before_1y", "days_since_dm_case", "leak_repairs_2y", "roof_repairs_2y",
    "plumbing_repairs_1y", "heating_repairs_1y", "water_repairs_13w", "heating_repairs_13w", "repeat_repairs_1y",
    "repairs_1y", "contacts_1y", "repair_chases_1y", "household_size", "bedrooms", "is_occupied",
    "is_vulnerable_household", "property_type", "build_year", "epc_rating", "tenure",
)


def features(extract: Extract, as_of_dates: list[date], max_homes: int | None = None) -> pl.DataFrame:
    """One row per home in stock per as-of date, as the extract knew it then (queries/risk_features.sql).

    With `max_homes`, about that many homes per date: a fixed sample (for training a large landlord).
    """
    return extract.query("risk_features", as_of_dates=sorted(set(as_of_dates)), max_homes=max_homes)


def outcomes(extract: Extract, as_of_dates: list[date], known_before: date) -> pl.DataFrame:
    """Homes with a damp and mould report in the 13 weeks after each date, reported before `known_before` 00:00."""
    return extract.query("risk_outcomes", as_of_dates=sorted(set(as_of_dates)),
                         known_before=datetime(known_before.year, known_before.month, known_before.day))


def design_matrix(rows: pl.DataFrame) -> np.ndarray:
    """The model's columns (FEATURE_COLUMNS, in that order) for feature rows."""
    def col(name: str) -> np.ndarray:
        return rows[name].to_numpy().astype(float)

    def log_count(name: str) -> np.ndarray:
        return np.log1p(col(name))

    def one_hot(s: pl.Series, values: tuple) -> list[np.ndarray]:
        return [(s == v).fill_null(False).to_numpy().astype(float) for v in values]

    occupied = col("is_occupied")
    size = rows["household_size"].fill_null(0).to_numpy().astype(float)
    beds = np.maximum(rows["bedrooms"].fill_null(99).to_numpy().astype(float), 1)
    excess = np.where(occupied > 0, size - beds, 0)
    days = rows["days_since_dm_case"].to_numpy().astype(float)
    year = rows["build_year"]
    day_of_year = rows["as_of"].dt.ordinal_day().to_numpy().astype(float)
    angle = 2 * math.pi * day_of_year / 365.25
    ptype = rows.select(pl.when(pl.col("property_type").is_in(list(PROPERTY_TYPES)))
                        .then(pl.col("property_type")).otherwise(pl.lit("other")))[:, 0]
    built = [((year >= lo) & (year <= (hi if hi is not None else 9999))).fill_null(False).to_numpy().astype(float)
             for lo, hi, _ in AGE_BANDS]
    columns = {
        "dm_recent_reports": log_count("dm_cases_1y"),
        "dm_earlier_reports": log_count("dm_cases_before_1y"),
        "dm_recency": np.where(np.isnan(days), 0.0, np.exp(-np.nan_to_num(days) / HORIZON_DAYS)),
        "has_open_dm_case": col("has_open_dm_case"),
        "leak_repairs_2y": log_count("leak_repairs_2y"),
        "roof_repairs_2y": log_count("roof_repairs_2y"),
        "plumbing_repairs_1y": log_count("plumbing_repairs_1y"),
        "heating_repairs_1y": log_count("heating_repairs_1y"),
        "water_repairs_13w": log_count("water_repairs_13w"),
        "heating_repairs_13w": log_count("heating_repairs_13w"),
        "repeat_repairs_1y": log_count("repeat_repairs_1y"),
        "repairs_1y": log_count("repairs_1y"),
        "contacts_1y": log_count("contacts_1y"),
        "repair_chases_1y": log_count("repair_chases_1y"),
        "overcrowded_by_1": (excess == 1).astype(float),
        "overcrowded_by_2_or_more": (excess >= 2).astype(float),
        "is_vulnerable_household": col("is_vulnerable_household"),
        "is_empty": 1.0 - occupied,
        **{f"type_{t}": v for t, v in zip(PROPERTY_TYPES, one_hot(ptype, PROPERTY_TYPES), strict=True)},
        **{f"built_{lo}": v for (lo, _, _), v in zip(AGE_BANDS, built, strict=True)},
        "built_unknown": year.is_null().to_numpy().astype(float),
        **{f"epc_{e}": v for e, v in zip(EPC_RATINGS, one_hot(rows["epc_rating"], EPC_RATINGS), strict=True)},
        "epc_unknown": (~rows["epc_rating"].is_in(list(EPC_RATINGS))).fill_null(True).to_numpy().astype(float),
        **{f"tenure_{t}": v for t, v in zip(HOMES_TENURES, one_hot(rows["tenure"], HOMES_TENURES), strict=True)},
        "season_sin": np.sin(angle),
        "season_cos": np.cos(angle),
    }
    return np.column_stack([columns[c] for c in FEATURE_COLUMNS]) if rows.height else np.zeros(
        (0, len(FEATURE_COLUMNS)))


# ---------------------------------------------------------------------------------------------
# Training and scoring
# ---------------------------------------------------------------------------------------------

@dataclass
class RiskModel:
    """A fitted model and what it learned from."""

    as_of: date
    scaler: StandardScaler
    model: LogisticRegression
    training_dates: list[date]
    examples: int  # homes x training dates
    positives: int  # of which a report followed

    def log_odds_parts(self, x: np.ndarray) -> np.ndarray:
        """Each column's contribution to the log-odds, against the average training example."""
        return self.scaler.transform(x) * self.model.coef_[0]

    def probability(self, x: np.ndarray) -> np.ndarray:
        with one_blas_thread():
            return self.model.predict_proba(self.scaler.transform(x))[:, 1]


def one_blas_thread() -> AbstractContextManager:
    """Fit and score with one BLAS thread. The model's matrices are small (at most 13 dates of 12,000
    homes by 40 columns): OpenBLAS's own threads only spin waiting for work, and a prepare on the demo
    took two-thirds more CPU and a third more time with them (docs/homes-at-risk.md). The limit is
    OpenBLAS's, for the whole process: a thread leaving it while another still trains can give that one two
    threads again, which changes its scores only in the 13th significant figure."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


_IMPORTING = threading.Lock()


def load_model_library(extract: Extract, as_of: date) -> None:
    """Import scikit-learn (one to two seconds) on the calling thread, one thread at a time, before a
    thread that may train at D starts: two threads importing scikit-learn and plotly's optional pandas at
    once can see a half-initialised module. A reader of a prepared store's scores never needs it, nor an
    extract without the history to learn from at D (training stops before it would use the library)."""
    if not learning_dates(extract, as_of):
        return
    with _IMPORTING:
        import sklearn.linear_model  # noqa: F401
        import sklearn.preprocessing  # noqa: F401


def roc_auc(reported: np.ndarray, score: np.ndarray) -> float:
    """The area under the ROC curve: the chance that a home with a report is scored above a home without
    one, a tie counting half (the Mann-Whitney U statistic over reported × not reported homes). Worked
    out here from ranks rather than by scikit-learn's metrics, whose import (about 1.5 s) a reader of
    stored scores would otherwise wait for."""
    ranks = pl.Series(score).rank("average").to_numpy()
    positives = int(reported.sum())
    negatives = len(reported) - positives
    return float((ranks[reported].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def data_start(extract: Extract) -> date | None:
    """The first day of the extract's history (weeks.Span: its first repair, case or complaint)."""
    first = extract.span().first_record
    return first.date() if first is not None else None


def training_dates(as_of: date, first_day: date | None) -> list[date]:
    """Every 4 weeks over the year before D − 13 weeks, so every outcome window ends by D; oldest first."""
    last = as_of - timedelta(days=HORIZON_DAYS)
    dates = [last - timedelta(days=TRAINING_STEP_DAYS * k) for k in range(TRAINING_DATES)]
    if first_day is not None:
        dates = [d for d in dates if d >= first_day + timedelta(days=MIN_HISTORY_DAYS)]
    return sorted(dates)


def fit(as_of: date, rows: pl.DataFrame, labelled: pl.DataFrame, x: np.ndarray | None = None) -> RiskModel:
    """Fit on feature rows (training dates only; `x` their design matrix if made) with outcomes known at `as_of`."""
    if rows.is_empty():
        raise RiskError(
            f"not enough history to learn from before {as_of:%d %b %Y}: the extract needs at least "
            f"{(MIN_HISTORY_DAYS + HORIZON_DAYS) // 7} weeks of repairs and damp and mould cases before the as-of date")
    y = (rows.join(labelled.select("as_of", "property_id").with_columns(pl.lit(1).alias("y")),
                   on=["as_of", "property_id"], how="left")["y"].fill_null(0).to_numpy())
    positives = int(y.sum())
    if positives == 0 or positives == len(y):
        raise RiskError(f"no damp and mould reports to learn from in the year before {as_of:%d %b %Y}")
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    x = design_matrix(rows) if x is None else x
    with one_blas_thread():
        scaler = StandardScaler().fit(x)
        model = LogisticRegression(C=REGULARISATION_C, max_iter=1000, tol=1e-5)
        model.fit(scaler.transform(x), y)
    return RiskModel(as_of, scaler, model, sorted(set(rows["as_of"].to_list())), len(y), positives)


def learning_dates(extract: Extract, as_of: date) -> list[date]:
    """The training dates of a model learned at D from this extract (none: too little history)."""
    return training_dates(reference_date(extract, as_of), data_start(extract))


def train(extract: Extract, as_of: date, feature_rows: pl.DataFrame | None = None) -> RiskModel:
    """Learn from the extract as it stood at each training date, with outcomes known by `as_of`.

    For a date after the extract was taken, the outcomes known are those up to the extract.
    """
    known, dates = reference_date(extract, as_of), learning_dates(extract, as_of)
    rows = (features(extract, dates, MAX_TRAINING_HOMES) if feature_rows is None
            else feature_rows.filter(pl.col("as_of").is_in(dates)))
    return fit(as_of, rows, outcomes(extract, dates, known + timedelta(days=1)))


def reasons(model: RiskModel, rows: pl.DataFrame, x: np.ndarray, k: int = 3) -> pl.Series:
    """Each home's top k reasons in words: the factors that raise its score most above an average home."""
    parts = model.log_odds_parts(x)
    index = {c: i for i, c in enumerate(FEATURE_COLUMNS)}
    groups = [g for g in REASON_GROUPS if g.tellable]
    by_group = np.column_stack([parts[:, [index[c] for c in g.columns]].sum(axis=1) for g in groups])
    has = rows.select([(g.present if g.present is not None else pl.lit(True)).fill_null(False).alias(g.name)
                       for g in groups]).to_numpy().astype(bool)
    by_group = np.where(has, by_group, -np.inf)
    order = np.argsort(-by_group, axis=1, kind="stable")[:, :k]
    raised = np.take_along_axis(by_group, order, axis=1) > 0
    records = rows.select(REASON_INPUTS).to_dicts()
    texts = [[groups[j].words(r) if up else None for j, up in zip(order[i], raised[i], strict=True)]
             for i, r in enumerate(records)]
    columns = [pl.Series(f"r{i}", [t[i] for t in texts], dtype=pl.String) for i in range(order.shape[1])]
    return pl.DataFrame(columns).select(pl.concat_list(pl.all()).list.drop_nulls().alias("reasons"))["reasons"]


def score(model: RiskModel, rows: pl.DataFrame, x: np.ndarray | None = None,
          with_reasons: bool = True) -> pl.DataFrame:
    """Score feature rows of one as-of date: probability, band, rank among them and three reasons."""
    x = design_matrix(rows) if x is None else x
    p = model.probability(x)
    n = len(p)
    order = np.lexsort((rows["property_id"].to_numpy(), -p))  # highest first, ties by property id
    place = np.empty(n, dtype=np.int64)
    place[order] = np.arange(1, n + 1)
    band = np.full(n, BANDS[-1][1], dtype=object)
    for share, name in reversed(BANDS):
        band[place <= max(1, math.ceil(share * n))] = name
    return rows.select(
        "as_of", "property_id", "region", "area", "property_type", "has_open_dm_case", "latest_case_id",
    ).with_columns(
        pl.Series("score", p),
        pl.Series("landlord_rank", place),
        pl.Series("band", band.tolist(), dtype=pl.String),
        pl.Series("times_average", p / p.mean() if n else p),
    ).with_columns(reasons(model, rows, x) if with_reasons else pl.lit(None, dtype=pl.List(pl.String)).alias("reasons"))


def score_homes(extract: Extract, as_of: date) -> pl.DataFrame:
    """Every home in stock on D (leasehold excluded), scored by a model trained on what was known at D."""
    model = train(extract, as_of)
    return score(model, features(extract, [as_of]))


def in_scope(extract: Extract, scored: pl.DataFrame, scope: Scope, as_of: date) -> pl.DataFrame:
    """The scored homes a scope covers: a region's homes, or under a team scope the homes of the teams'
    patch (the areas where the teams own a job, case or complaint in the two years up to D:
    queries/team_patch.sql), within the region when one is given too."""
    if scope.region is not None:
        scored = scored.filter(pl.col("region") == scope.region)
    if scope.teams is None:
        return scored
    patch = extract.query("team_patch", scope_teams=list(scope.teams), as_of=as_of)
    return scored.join(patch, on=["region", "area"], how="semi")


def homes_at_risk(extract: Extract, as_of: date, scope: Scope = WHOLE_LANDLORD,
                  scored: pl.DataFrame | None = None) -> pl.DataFrame:
    """The list for a scope: homes without an open damp and mould case first, each by score; rank 1 = first."""
    scored = score_homes(extract, as_of) if scored is None else scored
    listed = in_scope(extract, scored, scope, as_of).sort(
        ["has_open_dm_case", "score", "property_id"], descending=[False, True, False])
    return listed.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))


def for_teams(extract: Extract, listed: pl.DataFrame, teams: tuple[str, ...] | None) -> pl.DataFrame:
    """The list as a user scoped to teams may see it: "household recorded as vulnerable" only for homes
    whose household the teams serve, and the latest case only when it is one of the teams' own."""
    if teams is None or listed.is_empty():
        return listed
    served = extract.query("households_served", scope_teams=list(teams))["property_id"].drop_nulls().to_list()
    cases = listed["latest_case_id"].drop_nulls().to_list()
    owners = extract.query("case_owner_teams", case_ids=cases)
    own_cases = owners.filter(pl.col("team_id").is_in(list(teams)))["case_id"].to_list()
    return listed.with_columns(
        reasons=pl.when(pl.col("property_id").is_in(served)).then(pl.col("reasons"))
        .otherwise(pl.col("reasons").list.filter(pl.element() != VULNERABLE_REASON)),
        latest_case_id=pl.when(pl.col("latest_case_id").is_in(own_cases)).then(pl.col("latest_case_id")))


@dataclass(frozen=True)
class ListSummary:
    """What the list says in one line: homes in scope, those in the landlord's top 5% with no case
    open yet (the ones to act on), and those that already have a case open."""

    homes: int
    top_share_without_case: int
    with_open_case: int


def summarise(listed: pl.DataFrame) -> ListSummary:
    top_bands = [name for share, name in BANDS if share <= TOP_SHARE]  # very high and high: the top 5%
    return ListSummary(
        listed.height,
        listed.filter(pl.col("band").is_in(top_bands) & ~pl.col("has_open_dm_case")).height,
        int(listed["has_open_dm_case"].sum()))


def top_homes_at_risk(extract: Extract, as_of: date, scope: Scope = WHOLE_LANDLORD, n: int = 20,
                      scored: pl.DataFrame | None = None, viewer_teams: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The first n homes of the list for the PDF pack (as a reader scoped to `viewer_teams` may see it):
    no personal data, reasons joined as text."""
    return for_teams(extract, homes_at_risk(extract, as_of, scope, scored).head(n), viewer_teams).select(
        "rank", "property_id", "area", "region", "property_type", "score", "band",
        pl.col("reasons").list.join("; ").alias("reasons"))


# ---------------------------------------------------------------------------------------------
# Back-test
# ---------------------------------------------------------------------------------------------

@dataclass
class Backtest:
    """The model replayed at past as-of dates, judged on the reports that followed each."""

    as_of: date
    scope: Scope
    dates: pl.DataFrame  # one row per back-test date

    def mean(self, column: str) -> float | None:
        values = self.dates[column].drop_nulls()
        return float(values.mean()) if len(values) else None

    def summary(self) -> dict:
        return {c: self.mean(c) for c in ("capture_top5_pct", "precision_top100_pct", "roc_auc", "lift_top5")}


def reference_date(extract: Extract, as_of: date) -> date:
    """The last day whose data is complete and known at D: D, or the day before the extract was taken."""
    extracted = extract.extracted_at
    return min(as_of, extracted.date() - timedelta(days=1)) if extracted else as_of


def backtest_dates(extract: Extract, as_of: date) -> list[date]:
    """Up to six past dates, 12 weeks apart, each with 13 weeks of outcomes known by D; oldest first."""
    first = reference_date(extract, as_of) - timedelta(days=HORIZON_DAYS)
    start = data_start(extract)
    dates = [first - timedelta(days=BACKTEST_STEP_DAYS * k) for k in range(BACKTEST_DATES)]
    if start is not None:
        dates = [d for d in dates if training_dates(d, start)]
    return sorted(dates)


def evaluate(scored: pl.DataFrame, reported: set[str]) -> dict:
    """How the ranking at one date met the reports that followed it."""
    n = scored.height
    y = scored["property_id"].is_in(list(reported)).to_numpy()
    ranked = scored.sort(["score", "property_id"], descending=[True, False])
    y_ranked = ranked["property_id"].is_in(list(reported)).to_numpy()
    top5 = max(1, math.ceil(TOP_SHARE * n)) if n else 0
    top_n = min(TOP_N_PRECISION, n)
    positives = int(y.sum())
    captured = int(y_ranked[:top5].sum())
    return {
        "homes": n,
        "homes_with_report": positives,
        "top5_homes": top5,
        "top5_with_report": captured,
        "capture_top5_pct": 100 * captured / positives if positives else None,
        "lift_top5": (captured / positives) / TOP_SHARE if positives else None,
        "top100_homes": top_n,
        "top100_with_report": int(y_ranked[:top_n].sum()),
        "precision_top100_pct": 100 * y_ranked[:top_n].sum() / top_n if top_n else None,
        "base_rate_pct": 100 * positives / n if n else None,
        "roc_auc": roc_auc(y, scored["score"].to_numpy()) if 0 < positives < n else None,
    }


@dataclass(frozen=True)
class Replay:
    """The model as it would have been at one past date: every home scored, and what followed."""

    as_of: date
    training_examples: int
    training_reports: int
    scored: pl.DataFrame  # every home in stock at the date: REPLAY_COLUMNS
    reported: frozenset[str]  # homes with a damp and mould report in the 13 weeks after it


# What a back-test reads of a replay's scored homes (in_scope, evaluate): a prepared store keeps only these,
# and reads 700,000 rows of them at 120,000 homes in a twentieth of a second rather than a third.
REPLAY_COLUMNS = ("property_id", "region", "area", "score")


def replay(extract: Extract, as_of: date) -> list[Replay]:
    """Replay the model at the back-test dates (trained on what was known then), whole landlord."""
    start = data_start(extract)
    dates = backtest_dates(extract, as_of)
    if not dates:
        raise RiskError(f"the extract is too short to back-test at {as_of:%d %b %Y}: each back-test date needs "
                        f"{(MIN_HISTORY_DAYS + HORIZON_DAYS) // 7} weeks of history before it and 13 weeks after")
    known_by = reference_date(extract, as_of) + timedelta(days=1)
    followed = outcomes(extract, dates, known_by)
    # Training rows and design matrices by date, oldest back-test first: consecutive back-tests share
    # most training dates, so each step adds a few dates and forgets those no longer needed.
    cache: dict[date, tuple[pl.DataFrame, np.ndarray]] = {}
    replays = []
    for d in dates:
        learn_from = training_dates(d, start)
        missing = [t for t in learn_from if t not in cache]
        if missing:
            fresh = features(extract, missing, MAX_TRAINING_HOMES)
            for t in missing:
                part = fresh.filter(pl.col("as_of") == t)
                cache[t] = (part, design_matrix(part))
        for t in [t for t in cache if t not in learn_from]:
            del cache[t]
        rows = pl.concat([cache[t][0] for t in learn_from])
        model = fit(d, rows, outcomes(extract, learn_from, d + timedelta(days=1)),
                    np.vstack([cache[t][1] for t in learn_from]))
        scored = score(model, features(extract, [d]), with_reasons=False).select(REPLAY_COLUMNS)
        replays.append(Replay(d, model.examples, model.positives, scored,
                              frozenset(followed.filter(pl.col("as_of") == d)["property_id"].to_list())))
    return replays


def backtest(extract: Extract, as_of: date, scope: Scope = WHOLE_LANDLORD,
             replays: list[Replay] | None = None) -> Backtest:
    """How the list did at past dates for the scope's homes (the model is always the whole landlord's)."""
    replays = replay(extract, as_of) if replays is None else replays
    results = []
    for r in replays:
        scored = in_scope(extract, r.scored, scope, as_of)
        results.append({"as_of": r.as_of, "training_examples": r.training_examples,
                        "training_reports": r.training_reports, **evaluate(scored, set(r.reported))})
    return Backtest(as_of, scope, pl.DataFrame(results))


class RiskStore:
    """Each week's scores and back-test replays, worked out once per extract and shared by every session
    (a prepared store holds its latest week's: nothing to train for the usual first view)."""

    KEEP = 16  # results held (a week's scores or replays each)

    def __init__(self, extract: Extract) -> None:
        self.extract = extract
        self._done: dict[tuple[str, date], object] = {}
        self._locks: dict[tuple[str, date], threading.Lock] = {}
        self._guard = threading.Lock()

    def _once(self, what: str, as_of: date, make: Callable[[], object]) -> object:
        key = (what, as_of)
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # a second caller waits for the first one's result rather than repeating the work
            if key not in self._done:
                self._done[key] = make()
                while len(self._done) > self.KEEP:  # the oldest first: dicts keep insertion order
                    self._done.pop(next(iter(self._done)))
            return self._done[key]

    def has_scores(self, as_of: date) -> bool:
        """The week's scores are at hand (worked out already, or prepared in the store): nothing to train.
        Scores read from the store to tell are kept, so `scored` does not read them again."""
        if ("scored", as_of) in self._done:
            return True
        found = _stored(self.extract, "risk_scores", as_of)
        if found is not None:
            self._once("scored", as_of, lambda: found)
        return found is not None

    def scored(self, as_of: date) -> pl.DataFrame:
        def make() -> pl.DataFrame:
            stored = _stored(self.extract, "risk_scores", as_of)
            if stored is not None:
                return stored
            load_model_library(self.extract, as_of)
            return score_homes(self.extract, as_of)

        return self._once("scored", as_of, make)  # type: ignore[return-value]

    def replays(self, as_of: date) -> list[Replay]:
        def make() -> list[Replay]:
            stored = _stored(self.extract, "risk_replays", as_of)
            if stored is None:
                load_model_library(self.extract, as_of)
                return replay(self.extract, as_of)
            return _stored_replays(stored)

        return self._once("replays", as_of, make)  # type: ignore[return-value]

    def keep_prepared(self, as_of: date) -> None:
        """Read what a prepared store holds for the week (its scores and back-test replays), so that the
        page finds them at hand; trains nothing (a server's warm-up must not learn in the background)."""
        if not self.has_scores(as_of) or ("replays", as_of) in self._done:
            return
        stored = _stored(self.extract, "risk_replays", as_of)
        if stored is not None:
            self._once("replays", as_of, lambda: _stored_replays(stored))


def _stored_replays(stored: pl.DataFrame) -> list[Replay]:
    return [Replay(r["replay_as_of"][0], int(r["training_examples"][0]), int(r["training_reports"][0]),
                   r.drop("for_as_of", "replay_as_of", "training_examples", "training_reports", "reported"),
                   frozenset(r.filter(pl.col("reported"))["property_id"].to_list()))
            for r in stored.partition_by("replay_as_of", maintain_order=True)]


def _stored(extract: Extract, table: str, as_of: date) -> pl.DataFrame | None:
    """A prepared store's homes-at-risk results for its latest week (None for any other week, or no store)."""
    from housing_assurance.store import stored

    return stored(extract, table, as_of=as_of)


def describe_backtest(bt: Backtest) -> list[str]:
    """The back-test in words a committee understands."""
    s = bt.summary()
    d = bt.dates
    if s["capture_top5_pct"] is None:
        return ["No damp and mould reports followed the back-test dates in this scope, so the list cannot be judged."]
    first, last = d["as_of"].min(), d["as_of"].max()
    lines = [
        f"We tested the list on {d.height} past dates ({first:%b %Y} to {last:%b %Y}), each time using only what "
        f"was known on that date and comparing with the damp and mould reports of the following 13 weeks.",
        f"Of the homes that went on to report damp and mould, {s['capture_top5_pct']:.0f}% were in the top 5% of "
        f"the list ({s['lift_top5']:.1f} times what picking homes at random would find).",
    ]
    if s["precision_top100_pct"] is not None:
        lines.append(f"Of the 100 homes at the top of the list, on average {s['precision_top100_pct']:.0f} went "
                     f"on to report damp and mould within 13 weeks "
                     f"(against {d['base_rate_pct'].mean():.1f} in 100 homes overall).")
    if s["roc_auc"] is not None:
        lines.append(f"Picking one home that reported and one that did not, the list ranks the reporting home "
                     f"higher {100 * s['roc_auc']:.0f}% of the time (50% would be guessing).")
    return lines
