"""Homes at risk of damp and mould: no leak from after the as-of date, signal on the demo, reasons, CLI.

A small demo extract (2,000 homes over 3 years) is generated once per module. The leak test
rewrites it with everything after E changed (reports deleted and added, repairs, contacts,
tenancies, vulnerabilities, stock dates) and shows that the scores for D do not move at all.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from conftest import no_error
from extract_factory import write_extract

from housing_assurance import risk
from housing_assurance.cli import main
from housing_assurance.db import open_extract
from housing_assurance.scope import Scope

ROOT = Path(__file__).resolve().parent.parent

END = date(2026, 11, 23)
AS_OF = date(2026, 11, 22)
LEAK_AS_OF = date(2026, 5, 31)  # mid-extract: half a year of later data to change
LEAK_E = datetime(2026, 6, 1)

@pytest.fixture(scope="module")
def demo(demo_extract):
    return demo_extract


@pytest.fixture(scope="module")
def scored(demo) -> pl.DataFrame:
    return risk.score_homes(demo, AS_OF)


@pytest.fixture(scope="module")
def backtest(demo) -> risk.Backtest:
    """The back-test with the model learned again at each replayed date (six trainings)."""
    return risk.backtest(demo, AS_OF)


# --- nothing after E reaches the features, the labels or the scores --------------------------

def _changed_after_e(src: Path, dst: Path, top_homes: list[str]) -> Path:
    """A copy of the extract with everything after E changed, and nothing before it."""
    shutil.copytree(src, dst)

    def rewrite(name: str, fn) -> None:
        path = dst / f"{name}.parquet"
        frame = pl.read_parquet(path)
        fn(frame).write_parquet(path)

    later = timedelta(days=9)

    def cases(f: pl.DataFrame) -> pl.DataFrame:
        kept = f.filter(pl.col("reported_at") < LEAK_E)
        kept = kept.with_columns(  # closures after E move (still after E: the case was open at E)
            pl.when(pl.col("closed_at") >= LEAK_E).then(pl.col("closed_at") + later)
            .when(pl.col("closed_at").is_null()).then(pl.lit(LEAK_E + later))
            .otherwise(pl.col("closed_at")).alias("closed_at"))
        template = f.head(1)
        added = pl.concat([template.with_columns(
            pl.lit(f"LEAK-DM{i}").alias("case_id"), pl.lit(home).alias("property_id"),
            pl.lit(None, dtype=pl.String).alias("household_id"), pl.lit(None, dtype=pl.String)
            .alias("reopened_from_case_id"),
            pl.lit(LEAK_E + timedelta(days=1 + i)).alias("reported_at")) for i, home in enumerate(top_homes)])
        return pl.concat([kept, added.select(kept.columns).cast(kept.schema)])

    def repairs(f: pl.DataFrame) -> pl.DataFrame:
        kept = f.filter(pl.col("reported_at") < LEAK_E).with_columns(
            pl.when(pl.col("completed_at") >= LEAK_E).then(pl.col("completed_at") + later)
            .otherwise(pl.col("completed_at")).alias("completed_at"),
            pl.when(pl.col("cancelled_at") >= LEAK_E).then(pl.col("cancelled_at") + later)
            .otherwise(pl.col("cancelled_at")).alias("cancelled_at"))
        template = f.filter(pl.col("priority") == "routine").head(1)
        added = pl.concat([template.with_columns(
            pl.lit(f"LEAK-J{i}").alias("job_id"), pl.lit(home).alias("property_id"),
            pl.lit(None, dtype=pl.String).alias("household_id"), pl.lit(None, dtype=pl.String).alias("dm_case_id"),
            pl.lit(None, dtype=pl.String).alias("parent_job_id"), pl.lit("leak").alias("category"),
            pl.lit("open").alias("status"), pl.lit(None, dtype=pl.Datetime("us")).alias("completed_at"),
            pl.lit(None, dtype=pl.Datetime("us")).alias("cancelled_at"),
            pl.lit(LEAK_E).alias("reported_at")) for i, home in enumerate(top_homes)])  # exactly at E
        return pl.concat([kept, added.select(kept.columns).cast(kept.schema)])

    def contacts(f: pl.DataFrame) -> pl.DataFrame:
        kept = f.filter(pl.col("contacted_at") < LEAK_E)
        template = f.head(1)
        added = pl.concat([template.with_columns(
            pl.lit(f"LEAK-C{i}").alias("contact_id"), pl.lit(home).alias("property_id"),
            pl.lit(LEAK_E + timedelta(hours=i)).alias("contacted_at")) for i, home in enumerate(top_homes * 5)])
        return pl.concat([kept, added.select(kept.columns).cast(kept.schema)])

    def households(f: pl.DataFrame) -> pl.DataFrame:
        ended_later = f.with_columns(  # a tenancy that covered D now ends after D: it still covers D
            pl.when(pl.col("tenancy_end").is_null()).then(pl.lit(LEAK_AS_OF + timedelta(days=10)))
            .otherwise(pl.col("tenancy_end")).alias("tenancy_end"))
        added = pl.concat([f.head(1).with_columns(
            pl.lit(f"LEAK-H{i}").alias("household_id"), pl.lit(home).alias("property_id"),
            pl.lit(LEAK_AS_OF + timedelta(days=1)).alias("tenancy_start"), pl.lit(None, dtype=pl.Date)
            .alias("tenancy_end"), pl.lit(9).alias("household_size")) for i, home in enumerate(top_homes)])
        return pl.concat([ended_later, added.select(f.columns).cast(f.schema)])

    def vulnerabilities(f: pl.DataFrame) -> pl.DataFrame:
        kept = f.filter(pl.col("recorded_on") <= LEAK_AS_OF)
        hh = pl.read_parquet(src / "households.parquet")["household_id"].head(200).to_list()
        added = pl.concat([f.head(1).with_columns(
            pl.lit(f"LEAK-V{i}").alias("vulnerability_id"), pl.lit(h).alias("household_id"),
            pl.lit(LEAK_AS_OF + timedelta(days=1)).alias("recorded_on")) for i, h in enumerate(hh)])
        return pl.concat([kept, added.select(f.columns).cast(f.schema)])

    def properties(f: pl.DataFrame) -> pl.DataFrame:
        return f.with_columns(  # sold after D: still in stock on D
            pl.when(pl.col("property_id").is_in(top_homes) & pl.col("in_stock_to").is_null())
            .then(pl.lit(LEAK_AS_OF + timedelta(days=30))).otherwise(pl.col("in_stock_to")).alias("in_stock_to"))

    for name, fn in (("damp_mould_cases", cases), ("repairs", repairs), ("contacts", contacts),
                     ("households", households), ("vulnerabilities", vulnerabilities), ("properties", properties)):
        rewrite(name, fn)
    return dst


@pytest.mark.parametrize("max_training_homes", [risk.MAX_TRAINING_HOMES, 700], ids=["all homes", "sampled"])
def test_scores_do_not_move_when_anything_after_e_changes(demo, demo_dir, tmp_path, monkeypatch, max_training_homes):
    monkeypatch.setattr(risk, "MAX_TRAINING_HOMES", max_training_homes)
    before = risk.score_homes(demo, LEAK_AS_OF)
    top_homes = before.sort("landlord_rank")["property_id"].head(30).to_list()
    changed = open_extract(_changed_after_e(demo_dir, tmp_path / "changed", top_homes))
    # The change is real: the cases after E are gone or new, and a later date sees it.
    count = "select count(*) as n from damp_mould_cases where reported_at >= $e"
    assert demo.sql(count, e=LEAK_E).item() > 0
    assert changed.sql(count, e=LEAK_E).item() == len(top_homes)
    later = LEAK_AS_OF + timedelta(days=28)
    assert not risk.features(demo, [later]).equals(risk.features(changed, [later]))

    after = risk.score_homes(changed, LEAK_AS_OF)
    assert after.equals(before)  # every score, rank, band and reason exactly equal
    assert risk.features(changed, [LEAK_AS_OF]).equals(risk.features(demo, [LEAK_AS_OF]))


# --- features on a hand-made extract: one case before D, one after -----------------------------

D = date(2026, 1, 4)
E = datetime(2026, 1, 5)


@pytest.fixture
def hand_made(tmp_path):
    return open_extract(write_extract(
        tmp_path,
        properties=[{"property_id": "P1", "build_year": 1910, "epc_rating": "F", "bedrooms": 2,
                     "property_type": "flat"},
                    {"property_id": "P2", "in_stock_from": date(2026, 1, 5)},  # acquired the day after D
                    {"property_id": "P3", "tenure": "leasehold"}],
        households=[{"household_id": "H1", "property_id": "P1", "tenancy_start": date(2024, 1, 1),
                     "household_size": 5},
                    {"household_id": "H2", "property_id": "P1", "tenancy_start": date(2026, 1, 5),
                     "household_size": 1}],  # moves in after D
        vulnerabilities=[{"household_id": "H1", "recorded_on": date(2026, 1, 5)}],  # recorded after D
        damp_mould_cases=[
            {"case_id": "BEFORE", "reported_at": datetime(2025, 11, 20, 10), "closed_at": datetime(2026, 1, 5, 9),
             "status": "closed"},  # closed after E: open at E
            {"case_id": "AT_E", "reported_at": E},  # at E: not known at E, and not in the 13 weeks after E
            {"case_id": "AFTER", "reported_at": datetime(2026, 1, 20, 10)},
            {"case_id": "LATE", "reported_at": E + timedelta(days=91, seconds=1)},  # after the 13 weeks
        ],
        repairs=[
            {"job_id": "J1", "category": "leak", "reported_at": datetime(2025, 12, 1, 9),
             "completed_at": datetime(2025, 12, 2, 9), "status": "completed"},
            {"job_id": "J2", "category": "leak", "reported_at": datetime(2025, 12, 20, 9)},  # repeat of J1
            {"job_id": "J3", "category": "Leak", "reported_at": datetime(2026, 1, 4, 23, 59, 59)},  # last second
            {"job_id": "J4", "category": "leak", "reported_at": E},
            {"job_id": "J5", "category": "roof", "reported_at": datetime(2026, 2, 1, 9)},
            {"job_id": "J6", "category": "heating", "reported_at": datetime(2025, 12, 1, 9),
             "cancelled_at": datetime(2025, 12, 1, 10), "status": "cancelled"},  # cancelled before E
        ],
        contacts=[{"contact_id": "C1", "contacted_at": datetime(2025, 6, 1, 9), "reason": "repair_chase"},
                  {"contact_id": "C2", "contacted_at": E}],
    ))


def test_features_use_nothing_at_or_after_e(hand_made):
    rows = risk.features(hand_made, [D])
    assert rows["property_id"].to_list() == ["P1"]  # P2 not yet in stock, P3 leasehold
    r = rows.row(0, named=True)
    assert r["dm_cases_1y"] == 1 and r["dm_cases_before_1y"] == 0
    assert r["days_since_dm_case"] == 46  # 20 Nov 2025 10:00 -> 5 Jan 2026 00:00
    assert r["has_open_dm_case"] is True and r["latest_case_id"] == "BEFORE"
    assert (r["leak_repairs_2y"], r["roof_repairs_2y"], r["heating_repairs_1y"]) == (3, 0, 0)
    assert r["water_repairs_13w"] == 3 and r["repeat_repairs_1y"] == 1 and r["repairs_1y"] == 3
    assert (r["contacts_1y"], r["repair_chases_1y"]) == (1, 1)
    assert r["household_size"] == 5 and r["is_occupied"] is True  # H1 covers D, H2 starts after
    assert r["is_vulnerable_household"] is False  # recorded the day after D


def test_outcome_is_a_report_within_13_weeks_after_e_known_by_then(hand_made):
    got = risk.outcomes(hand_made, [D], date(2026, 6, 1))
    assert got.select("as_of", "property_id", "dm_cases_reported_13w").rows() == [(D, "P1", 1)]  # AFTER only
    assert risk.outcomes(hand_made, [D], date(2026, 1, 20)).is_empty()  # not yet known on 19 Jan


def test_features_of_a_date_do_not_depend_on_the_other_dates_asked_for(demo):
    alone = risk.features(demo, [AS_OF])
    together = risk.features(demo, [AS_OF - timedelta(days=500), AS_OF - timedelta(days=91), AS_OF])
    assert together.filter(pl.col("as_of") == AS_OF).equals(alone)


def test_a_large_landlord_trains_on_a_fixed_sample_of_homes(demo):
    dates = [AS_OF - timedelta(days=91), AS_OF - timedelta(days=119)]
    every = risk.features(demo, dates)
    sample = risk.features(demo, dates, max_homes=500)
    assert sample.equals(risk.features(demo, dates, max_homes=500))  # the same homes every run
    for d in dates:
        n = sample.filter(pl.col("as_of") == d).height
        assert 400 <= n <= 600
    # the sampled rows are exactly the full rows of those homes
    assert sample.equals(every.join(sample.select("as_of", "property_id"), on=["as_of", "property_id"],
                                    how="semi", maintain_order="left"))


def test_the_model_learns_and_scores_with_one_blas_thread(demo, monkeypatch):
    """OpenBLAS's threads only spin on matrices this small (risk.one_blas_thread): the fit and the scores
    run with one, and the machine's setting is back afterwards."""
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_info

    def blas_threads() -> set[int]:
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    seen: dict[str, set[int]] = {}

    def watched(step: str, method):
        def run(self, *args, **kwargs):
            seen[step] = blas_threads()
            return method(self, *args, **kwargs)
        return run

    monkeypatch.setattr(LogisticRegression, "fit", watched("fit", LogisticRegression.fit))
    monkeypatch.setattr(LogisticRegression, "predict_proba", watched("score", LogisticRegression.predict_proba))
    before = blas_threads()
    dates = risk.learning_dates(demo, AS_OF)[-2:]
    rows = risk.features(demo, dates, max_homes=500)
    model = risk.fit(AS_OF, rows, risk.outcomes(demo, dates, AS_OF + timedelta(days=1)))
    assert len(model.probability(risk.design_matrix(rows))) == rows.height
    assert seen == {"fit": {1}, "score": {1}}
    assert blas_threads() == before


def test_training_dates_end_13_weeks_before_d():
    dates = risk.training_dates(AS_OF, date(2020, 1, 1))
    assert len(dates) == 13 and dates[-1] == AS_OF - timedelta(days=91)
    assert all((b - a).days == 28 for a, b in zip(dates, dates[1:], strict=False))
    assert risk.training_dates(AS_OF, AS_OF - timedelta(days=400)) == [
        d for d in dates if d >= AS_OF - timedelta(days=400 - risk.MIN_HISTORY_DAYS)]


# --- the list and the back-test on the demo ----------------------------------------------------

def test_backtest_finds_signal_on_the_demo(backtest):
    d = backtest.dates
    assert 4 <= d.height <= 6
    assert (d["as_of"] <= AS_OF - timedelta(days=91)).all()  # 13 weeks of outcomes known by D
    assert (d["homes_with_report"] > 0).all()
    s = backtest.summary()
    assert s["capture_top5_pct"] > 10  # well above the 5% that chance would find
    assert 0.6 < s["roc_auc"] < 0.95  # a signal, and not a suspiciously perfect one
    words = risk.describe_backtest(backtest)
    assert any("were in the top 5% of the list" in line for line in words)


def test_a_scoped_backtest_judges_the_scopes_homes_only(demo, backtest):
    # The same replays (the whole landlord's model) judged on one region's homes: fewer homes,
    # each date's reports those of the region; the whole landlord's judgement is unchanged.
    replays = risk.replay(demo, AS_OF)
    region = replays[0].scored["region"][0]
    regional = risk.backtest(demo, AS_OF, Scope(region=region), replays=replays)
    for r, row in zip(replays, regional.dates.iter_rows(named=True), strict=True):
        homes = r.scored.filter(pl.col("region") == region)
        assert row["homes"] == homes.height < r.scored.height
        assert row["homes_with_report"] == homes["property_id"].is_in(list(r.reported)).sum()
    assert risk.backtest(demo, AS_OF, replays=replays).dates.equals(backtest.dates)


def test_risk_store_works_each_week_out_once_for_every_caller(demo, monkeypatch):
    calls = []
    monkeypatch.setattr(risk, "score_homes", lambda extract, as_of: calls.append(as_of) or pl.DataFrame())
    store = risk.RiskStore(demo)
    earlier = AS_OF - timedelta(weeks=1)  # not prepared in the store: worked out on demand
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(store.scored, [earlier] * 8))
    assert calls == [earlier] and all(r is results[0] for r in results)
    assert store.scored(AS_OF).height > 1000 and calls == [earlier]  # the prepared week is read from the store


def test_the_store_holds_the_latest_weeks_scores_and_backtest(demo, demo_dir, backtest):
    """What prepare stored is what the model gives when learned again: the scores from the folder, the
    back-test's six replays from the store's own tables (the `backtest` fixture)."""
    from_folder = open_extract(demo_dir)
    stored = risk.RiskStore(demo)
    assert stored.scored(AS_OF).sort("property_id").equals(risk.score_homes(from_folder, AS_OF).sort("property_id"))
    assert risk.backtest(demo, AS_OF, replays=stored.replays(AS_OF)).dates.equals(backtest.dates)
    # a back-test reads four columns of 700,000 homes at 120,000 homes: only those are kept and read
    assert {tuple(r.scored.columns) for r in stored.replays(AS_OF)} == {risk.REPLAY_COLUMNS}


def test_every_listed_home_has_three_reasons(demo, scored):
    listed = risk.homes_at_risk(demo, AS_OF, scored=scored)
    assert listed.height == scored.height
    # Every home above the lower band, and the first 100 on the list, has three different reasons;
    # a lower-band home may have fewer factors above the average home, and shows only those.
    above_lower = listed.filter(pl.col("band") != "lower")
    assert above_lower.height >= 0.19 * listed.height
    for part in (above_lower, listed.head(100)):
        assert all(len(set(r)) == 3 and all(t.strip() for t in r) for r in part["reasons"].to_list())
    assert (listed["reasons"].list.len() <= 3).all()
    assert not listed["reasons"].list.eval(pl.element().str.starts_with("0 ")).list.any().any()
    # homes without an open case come first, each part by score
    assert listed["has_open_dm_case"].is_sorted()
    for part in listed.partition_by("has_open_dm_case", maintain_order=True):
        assert part["score"].is_sorted(descending=True)
    assert listed["rank"].to_list() == list(range(1, listed.height + 1))
    assert set(listed["band"]) <= {b for _, b in risk.BANDS}


def test_scope_keeps_the_homes_of_the_region_or_the_teams_region(demo, scored):
    region = scored["region"][0]
    listed = risk.homes_at_risk(demo, AS_OF, Scope(region=region), scored=scored)
    assert 0 < listed.height < scored.height and (listed["region"] == region).all()
    team = demo.sql("select team_id, region from teams where region = $r limit 1", r=region).row(0)[0]
    by_team = risk.homes_at_risk(demo, AS_OF, Scope(teams=(team,)), scored=scored)
    assert by_team["property_id"].to_list() == listed["property_id"].to_list()


def test_list_summary_counts_the_top_5_percent_without_a_case(demo, scored):
    listed = risk.homes_at_risk(demo, AS_OF, scored=scored)
    said = risk.summarise(listed)
    ranked = scored.sort("score", descending=True)
    top = ranked.head(math.ceil(risk.TOP_SHARE * ranked.height))  # the top 5% by score, whatever the band names
    assert said.homes == listed.height
    assert said.with_open_case == listed.filter(pl.col("has_open_dm_case")).height
    assert abs(said.top_share_without_case - top.filter(~pl.col("has_open_dm_case")).height) <= 1  # ties at the edge


def test_top_homes_for_the_pack(demo, scored):
    top = risk.top_homes_at_risk(demo, AS_OF, n=20, scored=scored)
    assert top.height == 20
    assert {"property_id", "area", "region", "property_type", "score", "reasons"} <= set(top.columns)
    assert not {"household_id", "address", "postcode", "uprn"} & set(top.columns)
    assert top["reasons"].dtype == pl.String and top["reasons"].str.count_matches("; ").eq(2).all()


# --- command line ------------------------------------------------------------------------------

def run(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_json_list(capsys, demo_dir):
    code, out, err = run(capsys, "risk", "--data", str(demo_dir), "--as-of", AS_OF.isoformat(), "--json",
                         "--top", "15")
    assert code == 0, err
    homes = json.loads(out)
    assert len(homes) == 15
    assert [h["rank"] for h in homes] == list(range(1, 16))
    for h in homes:
        assert {"property_id", "area", "region", "score", "rank", "reasons"} <= set(h)
        assert 0 <= h["score"] <= 1 and len(h["reasons"]) == 3


def test_cli_backtest_json(capsys, demo_dir, backtest, monkeypatch):
    monkeypatch.setattr(risk, "backtest", lambda extract, as_of, scope, **kw: backtest)  # computed once above
    code, out, err = run(capsys, "risk", "--data", str(demo_dir), "--as-of", AS_OF.isoformat(), "--backtest",
                         "--json")
    assert code == 0, err
    result = json.loads(out)
    assert len(result["dates"]) >= 4
    assert {"capture_top5_pct", "precision_top100_pct", "roc_auc"} <= set(result["mean"])
    assert {"as_of", "homes", "homes_with_report", "capture_top5_pct", "roc_auc"} <= set(result["dates"][0])
    code, out, _ = run(capsys, "risk", "--data", str(demo_dir), "--as-of", AS_OF.isoformat(), "--backtest")
    assert code == 0 and "were in the top 5% of the list" in out and "capture_top5_pct" in out


def test_cli_text_and_exit_codes(capsys, demo_dir, tmp_path):
    code, out, _ = run(capsys, "risk", "--data", str(demo_dir), "--as-of", AS_OF.isoformat(), "--top", "2")
    assert code == 0 and out.count("\n         - ") == 6
    code, _, err = run(capsys, "risk", "--data", str(tmp_path / "missing"), "--as-of", "2026-11-22")
    assert code == 1 and err.startswith("error:") and len(err.strip().splitlines()) == 1
    code, _, err = run(capsys, "risk", "--data", str(demo_dir), "--as-of", "2023-12-01")  # no history yet
    assert code == 1 and "history" in err and "Traceback" not in err
    for bad in (["--as-of", "2026-13-01"], ["--as-of", AS_OF.isoformat(), "--top", "0"], []):
        code, _, _ = run(capsys, "risk", "--data", str(demo_dir), *bad)
        assert code == 2
    code, out, _ = run(capsys, "risk", "--help")
    assert code == 0 and "--backtest" in out


# --- the page ------------------------------------------------------------------------------------

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def _page(monkeypatch, demo_dir: Path, **params: str):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("HOUSING_ASSURANCE_DATA", str(demo_dir))
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "1")
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(demo_dir / "access.toml"))
    at = AppTest.from_file(APP, default_timeout=180)
    at.query_params["as_of"] = params.get("as_of", AS_OF.isoformat())
    at.run()  # the pages are registered by the first run (st.navigation with url paths)
    at.switch_page("pages/homes_at_risk.py")
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


def test_page_lists_the_scope_with_reasons_links_and_the_backtest(monkeypatch, demo_dir, demo, scored):
    region = scored["region"][0]
    at = _page(monkeypatch, demo_dir, as_of=AS_OF.isoformat(), region=region, show="50")
    assert no_error(at)
    table = at.dataframe[0].value
    expected = risk.homes_at_risk(demo, AS_OF, Scope(region=region), scored=scored).head(50)
    assert table["Home"].tolist() == expected["property_id"].to_list()
    # every reason in full, in one column whose rows are tall enough to wrap them
    assert table["Why"].tolist() == [" · ".join(r[:1].upper() + r[1:] for r in reasons)
                                     for reasons in expected["reasons"].to_list()]
    assert all(text.count(" · ") == 2 for text in table["Why"].head(10))
    links = [u for u in table["History"].tolist() if isinstance(u, str)]
    assert links and all(u.startswith("case?") and "case=" in u and "kind=dm" in u for u in links)
    text = " ".join(m.value for m in at.markdown)
    assert "were in the top 5% of the list" in text
    assert at.query_params["region"] in (region, [region])  # the view stays in the address bar


def test_page_explains_when_there_is_too_little_history(monkeypatch, demo_dir):
    at = _page(monkeypatch, demo_dir, as_of="2024-01-07")
    assert no_error(at)
    assert any("history" in w.value for w in at.warning)


def test_reading_the_pack_or_the_app_data_does_not_import_scikit_learn():
    """scikit-learn takes about a second to import: only training needs it, never a reader of a prepared
    store's scores (the pack from `report`, the `kpis` command)."""
    probe = ("import sys; import housing_assurance.pack.content, housing_assurance.cli, housing_assurance.risk; "
             "print('sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_the_homes_at_risk_of_a_stores_latest_week_are_read_without_scikit_learn(demo_store):
    """The list and the back-test of the week a store holds are read, not learned, so the Homes at risk
    page's usual first view does not wait for scikit-learn's import (1-2 s)."""
    probe = ("import sys; from datetime import date; from housing_assurance import risk; "
             "from housing_assurance.store import open_store; "
             "ex = open_store(sys.argv[1]); store = risk.RiskStore(ex); d = date.fromisoformat(sys.argv[2]); "
             "homes = risk.homes_at_risk(ex, d, risk.WHOLE_LANDLORD, scored=store.scored(d)); "
             "bt = risk.backtest(ex, d, replays=store.replays(d)); "
             "print(homes.height > 0, bt.summary()['roc_auc'] is not None, 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(demo_store), AS_OF.isoformat()],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.split() == ["True", "True", "False"]


def test_an_extract_too_short_to_learn_from_is_prepared_without_scikit_learn(tmp_path):
    """Half a year of history is too little to learn from: preparing it trains nothing, so it does not wait
    for scikit-learn's import (1-2 s of every such `prepare`) either."""
    folder = write_extract(tmp_path / "extract", damp_mould_cases=[
        {"case_id": "D1", "reported_at": datetime(2026, 6, 1, 9)}])
    probe = ("import sys; from pathlib import Path; from housing_assurance import store; "
             "store.prepare(Path(sys.argv[1]), Path(sys.argv[2])); "
             "ex = store.open_store(Path(sys.argv[2])); "
             "print(store.has_table(ex, 'risk_scores'), 'sklearn' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe, str(folder), str(tmp_path / "store.duckdb")],
                         capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def test_roc_auc_by_hand_and_as_scikit_learn_has_it(backtest):
    """Two homes with a report (scores 0.9 and 0.4) against two without (0.8 and 0.4): of the four pairs,
    0.9 beats both, 0.4 loses to 0.8 and ties 0.4 (a half): 2.5 / 4."""
    import numpy as np
    from sklearn.metrics import roc_auc_score

    reported, score = np.array([True, False, True, False]), np.array([0.9, 0.8, 0.4, 0.4])
    assert risk.roc_auc(reported, score) == 0.625
    rng = np.random.default_rng(7)
    for _ in range(20):
        reported = rng.random(500) < 0.1
        score = rng.integers(0, 30, 500) / 30  # many ties
        assert risk.roc_auc(reported, score) == pytest.approx(roc_auc_score(reported, score), abs=1e-12)
    assert backtest.dates["roc_auc"].null_count() == 0
