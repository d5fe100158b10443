"""Issue 16's polish: breakdowns per 1,000 homes (hand-worked and in the app), case words instead of "rows",
years on long date axes, the About page's definitions, no-target words and thousands separators."""

from __future__ import annotations

import json
from datetime import date, timedelta

import polars as pl
import pytest
from conftest import open_app_at
from extract_factory import write_extract

from housing_assurance import breakdowns, charts
from housing_assurance.db import open_extract
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import KPIS
from housing_assurance.routes import domain_name
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.targets import targets
from housing_assurance.words import definition

D = date(2026, 1, 11)  # the factory's rows are reported on Monday 5 Jan 2026
AS_OF = date(2026, 11, 22)


@pytest.fixture(scope="module")
def places(tmp_path_factory):
    """North: two homes counted (a leasehold home and one sold before D are not); South: two homes;
    West: a team and no homes. Open damp and mould cases: two in North (team T1), one in South (T2), one of
    the West team's."""
    folder = write_extract(
        tmp_path_factory.mktemp("places"),
        properties=[{"property_id": "P1"}, {"property_id": "P2", "area": "Northend"},
                    {"property_id": "P3", "tenure": "leasehold"},
                    {"property_id": "P4", "in_stock_to": date(2026, 1, 1)},
                    {"property_id": "P5", "region": "South", "area": "Southtown"},
                    {"property_id": "P6", "region": "South", "area": "Southtown", "tenure": "shared_ownership"}],
        teams=[{"team_id": "T1"}, {"team_id": "T2", "region": "South", "team_name": "South team"},
               {"team_id": "T3", "region": "West", "team_name": "West team"}],
        damp_mould_cases=[{"case_id": "D1", "property_id": "P1"}, {"case_id": "D2", "property_id": "P2"},
                          {"case_id": "D3", "property_id": "P5", "team_id": "T2"},
                          {"case_id": "D4", "property_id": "P6", "team_id": "T3"}])
    return open_extract(folder)


def _per_homes(extract, by: str, scope: Scope = WHOLE_LANDLORD) -> dict[str, tuple[int, int | None, float | None]]:
    bars = breakdowns.breakdown_per_homes(FigureStore(extract), "dm.open_cases", D, scope, by)
    return {r["label"]: (r["cases"], r["homes"], r["value"]) for r in bars.iter_rows(named=True)}


def test_homes_of_each_place_leave_out_leasehold_and_homes_not_in_stock(places):
    homes = breakdowns.homes_by(places, D, WHOLE_LANDLORD, "region")
    assert dict(homes.iter_rows()) == {"North": 2, "South": 2}
    assert dict(breakdowns.homes_by(places, D, WHOLE_LANDLORD, "area").iter_rows()) == {
        "Northtown": 1, "Northend": 1, "Southtown": 2}
    # A team's homes are its region's; a region scope keeps its own homes only.
    assert dict(breakdowns.homes_by(places, D, WHOLE_LANDLORD, "team_id").iter_rows()) == {"T1": 2, "T2": 2}
    assert dict(breakdowns.homes_by(places, D, Scope(region="South"), "team_id").iter_rows()) == {"T2": 2}


def test_a_count_per_1000_homes_of_each_place(places):
    assert _per_homes(places, "region") == {"North": (2, 2, 1000.0), "South": (2, 2, 1000.0)}
    assert _per_homes(places, "area") == {"Northtown": (1, 1, 1000.0), "Northend": (1, 1, 1000.0),
                                          "Southtown": (2, 2, 1000.0)}
    by_team = _per_homes(places, "team_id")
    # West has no homes: its team's case is listed, with no rate rather than a division by zero; last.
    assert by_team == {"Test team": (2, 2, 1000.0), "South team": (1, 2, 500.0), "West team": (1, None, None)}
    assert list(by_team)[-1] == "West team"
    # In South, the West team's case at a South home is counted; its homes are still West's (none).
    assert _per_homes(places, "team_id", Scope(region="South")) == {"South team": (1, 2, 500.0),
                                                                     "West team": (1, None, None)}


def test_only_counts_split_by_a_place_are_offered_per_1000_homes(places):
    assert breakdowns.offers_per_homes(KPIS["dm.open_cases"], "region")
    assert breakdowns.offers_per_homes(KPIS["dm.open_cases_per_1000_homes"], "team_id")
    assert not breakdowns.offers_per_homes(KPIS["dm.investigated_10wd_pct"], "region")  # a percentage
    assert not breakdowns.offers_per_homes(KPIS["dm.resolved_median_days"], "region")
    assert not breakdowns.offers_per_homes(KPIS["dm.open_cases"], "hazard_level")  # not a place with homes
    with pytest.raises(ValueError, match="per 1,000 homes"):
        breakdowns.breakdown_per_homes(FigureStore(places), "dm.investigated_10wd_pct", D, WHOLE_LANDLORD,
                                       "region")


# --------------------------------------------------------------------------------------------- charts

def _weeks(n: int) -> pl.DataFrame:
    return pl.DataFrame({"as_of": [AS_OF - timedelta(weeks=i) for i in reversed(range(n))],
                         "value": [1234.0 + i for i in range(n)]})


def test_the_52_week_axis_names_the_year_and_the_13_week_axis_the_day():
    k = KPIS["dm.open_cases"]
    long = charts.trend_chart(_weeks(52), k)
    assert long.layout.xaxis.tickformat == "%b %Y"  # "Jan 2026"
    assert charts.trend_chart(_weeks(13), k).layout.xaxis.tickformat == "%-d %b"
    # the pack draws a trend with the same builder: the axis depends on the dates alone
    assert charts.trend_chart(_weeks(52), k, title="Pack").layout.xaxis.tickformat == "%b %Y"


def test_trend_hover_and_axis_separate_thousands():
    fig = charts.trend_chart(_weeks(13), KPIS["dm.open_cases"])
    assert "%{y:,.0f}" in fig.data[0].hovertemplate and fig.layout.yaxis.tickformat == ","
    pct = charts.trend_chart(_weeks(13), KPIS["dm.investigated_10wd_pct"])
    assert "%{y:,.1f}%" in pct.data[0].hovertemplate
    money = charts.trend_chart(_weeks(13), KPIS["cx.compensation_offered_gbp"])
    assert "£%{y:,.2f}" in money.data[0].hovertemplate


# ------------------------------------------------------------------------------------------------ app

in_app = pytest.mark.usefixtures("demo_app")  # the suite's demo, in AppTest


def _columns(element) -> dict:
    """A dataframe's column configuration as the browser receives it."""
    return json.loads(element.proto.columns)


@in_app
def test_a_breakdown_per_1000_homes_is_in_the_url_and_says_cases(demo_extract):
    at = open_app_at("pages/damp_mould.py", None, AS_OF, breakdown="dm.open_cases", by="region",
                     measure="per_1000_homes")
    show = [r for r in at.radio if r.label == "Show"]
    assert show and show[0].value == "per_1000_homes"
    table = next(d for d in at.dataframe if "Per 1,000 homes" in d.value.columns)
    assert list(table.value.columns) == ["Region", "Homes", "Cases", "Per 1,000 homes", "open"]
    expected = breakdowns.breakdown_per_homes(FigureStore(demo_extract), "dm.open_cases", AS_OF, WHOLE_LANDLORD,
                                              "region")
    assert table.value["Region"].tolist() == expected["label"].to_list()
    assert table.value["Per 1,000 homes"].tolist() == pytest.approx(expected["value"].to_list())
    assert _columns(table)["open"]["type_config"]["display_text"] == "Open these cases"
    assert at.query_params["measure"] in ("per_1000_homes", ["per_1000_homes"])
    assert all("open their rows" not in c.value and " rows " not in c.value for c in at.caption)
    # each bar's list leads back to the breakdown as it was, per 1,000 homes
    link = table.value["open"][0]
    assert "measure=per_1000_homes" in link and "by=region" in link


@in_app
def test_a_percentage_is_not_offered_per_1000_homes_and_counts_default_to_numbers():
    at = open_app_at("pages/damp_mould.py", None, AS_OF, breakdown="dm.investigated_10wd_pct", by="region")
    assert not [r for r in at.radio if r.label == "Show"]
    table = next(d for d in at.dataframe if "Figure" in d.value.columns)
    assert list(table.value.columns) == ["Region", "Figure", "Cases", "open"]
    at = open_app_at("pages/repairs.py", None, AS_OF, breakdown="rp.open_overdue_jobs", by="region")
    assert [r for r in at.radio if r.label == "Show"][0].value == "count"
    table = next(d for d in at.dataframe if "Jobs" in d.value.columns)
    assert _columns(table)["open"]["type_config"]["display_text"] == "Open these jobs"


@in_app
def test_about_lists_every_kpi_definition_by_domain():
    at = open_app_at("pages/about.py", None, AS_OF)
    assert [t.label for t in at.tabs] == list(dict.fromkeys(domain_name(k) for k in KPIS))
    text = " ".join(m.value for m in at.markdown)
    goals = targets()
    for k in KPIS.values():
        assert k.id in text
        for line in definition(k, goals.get(k.id)):
            assert line in text, (k.id, line)
    assert "No target: a rate to watch." in text and "A volume: no target" not in text
    rows = next(d for d in at.dataframe if "usable" in d.value.columns)
    assert _columns(rows)["rows"]["type_config"]["format"] == "localized"  # 6,900, not 6900


@in_app
def test_a_percentage_with_no_target_is_not_called_a_volume():
    at = open_app_at("pages/complaints.py", None, AS_OF)
    captions = [c.value for c in at.caption]
    assert any(c.startswith("No target: a rate to watch") for c in captions)  # complaints upheld
    assert not any("A volume" in c for c in captions)


@in_app
def test_money_in_case_lists_separates_thousands():
    at = open_app_at("pages/complaints.py", None, AS_OF, kpi="cx.compensation_offered_gbp")
    table = next(d for d in at.dataframe if "compensation_offered_gbp" in d.value.columns)
    money = _columns(table)["compensation_offered_gbp"]
    assert money["label"] == "Compensation offered £"
    assert money["type_config"]["format"] == "accounting"  # 1,234.50, where "£%.2f" wrote £1234.50


@in_app
def test_a_case_opened_from_a_bar_per_1000_homes_leads_back_to_it(demo_extract):
    from housing_assurance.kpis import cases

    rows = cases(demo_extract, AS_OF, "dm.open_cases")
    case_id, region = rows["id"][0], rows["region"][0]
    at = open_app_at("pages/case.py", None, AS_OF, case=case_id, kind="dm", kpi="dm.open_cases", by="region",
                     value=region, measure="per_1000_homes", **{"from": "dm"})
    assert any("Back to the list" in p.proto.label for p in at.get("page_link"))
    assert at.query_params["measure"] in ("per_1000_homes", ["per_1000_homes"])  # kept for the way back
    at = open_app_at("pages/damp_mould.py", None, AS_OF, kpi="dm.open_cases", by="region", value=region,
                     measure="per_1000_homes")
    back = next(p for p in at.get("page_link") if "Back to" in p.proto.label)
    assert "measure=per_1000_homes" in back.proto.query_string
    assert at.query_params["measure"] in ("per_1000_homes", ["per_1000_homes"])
