"""The app tried as an attacker would: hostile values in every URL parameter of every page, and link,
image, HTML and formula payloads in every free-text column of the data. Nothing may raise, and nothing
from a value may be rendered as a link, an image, HTML or a formula (app/markup.py, charts.shown)."""

from __future__ import annotations

import json
import re
import threading
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import PACK_MARGINS, as_read, environment, no_error, pdf_page_texts
from extract_factory import write_extract
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from streamlit.testing.v1 import AppTest

from housing_assurance import pack, routes, store
from housing_assurance.scope import WHOLE_LANDLORD

ROOT = Path(__file__).resolve().parent.parent
LINK = "[Session expired - sign in again](http://evil.example/login)"
IMAGE = "![x](http://evil.example/pixel.png)"
HTML = '<img src="http://evil.example/x.png" onerror="alert(1)"><a href="http://evil.example">go</a>'
FORMULA = "$\\frac{1}{0}$ :red[alarm] :material/warning:"
HOSTILE = [LINK, IMAGE, HTML, FORMULA, "x" * 500_000, "0001-01-01", "9999-12-31", "2026-02-30", "\u202e\u0000é漢字🏠",
           "'; drop table repairs; --", "../../etc/passwd", "dm.open_cases", "region", "id", "meets", "%s%n", ""]
PARAMS = ["as_of", "region", "team", "kpi", "by", "value", "case", "kind", "trend", "breakdown", "whole_home", "show"]
PAGES = [p for p in routes.PAGES if not p.administrators_only]


def sources(at: AppTest) -> list[str]:
    """Every text the app handed to Streamlit to render as markdown (titles, captions, notices, links)."""
    out = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "warning", "error", "info", "success",
                 "toast"):
        out += [str(e.value) for e in at.get(kind)]
    for container in (at.main, at.sidebar):
        out += [str(getattr(e, "label", "")) for e in container.get("page_link")]
    return out


def chart_specs(at: AppTest) -> list[str]:
    """Every chart's figure as text (decoded: the spec escapes < as \u003c)."""
    return [str(json.loads(e.proto.spec)) for e in at.get("plotly_chart")]


UNESCAPED = [
    re.compile(r"(?<!\\)\]\((?:http|/)"),  # the end of a markdown link
    re.compile(r"(?<!\\)!(?<!\\)\["),  # a markdown image
    re.compile(r"(?<!\\)<(?:img|a|script|iframe)\b", re.IGNORECASE),  # HTML
    re.compile(r"(?<!\\)\$\\frac"),  # a formula
    re.compile(r"(?<!\\):red(?<!\\)\["),  # a colour directive
]


def assert_nothing_rendered(at: AppTest) -> None:
    assert no_error(at), [e.message for e in at.exception] + [e.value for e in at.error]
    for text in sources(at):
        for pattern in UNESCAPED:
            assert not pattern.search(text), (pattern.pattern, text[:300])
        assert len(text) < 20_000, "a huge value reaches the page whole"
    for spec in chart_specs(at):
        assert "<img" not in spec and "<a href" not in spec, spec[:300]


@pytest.fixture(scope="module")
def app_env(demo_store, demo_dir):
    with environment({"HOUSING_ASSURANCE_DATA": str(demo_store), "HOUSING_ASSURANCE_DEMO_MODE": "1",
                      "HOUSING_ASSURANCE_ACCESS": str(demo_dir / "access.toml")}):
        yield


def open_page(page: routes.Page, params: dict[str, str]) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    if page.url_path:
        at.switch_page(page.file)
    for k, v in params.items():
        at.query_params[k] = v
    return at.run()


@pytest.mark.slow  # 45 pages drawn with hostile URL values
@settings(max_examples=45, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(page=st.sampled_from(PAGES), name=st.sampled_from(PARAMS),
       value=st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)),
       with_kpi=st.booleans())
def test_no_hostile_url_value_breaks_a_page_or_is_rendered(app_env, page, name, value, with_kpi):
    """Every page x parameter x hostile value: the page draws, and the value reads as plain text."""
    params = {name: value}
    if with_kpi and name in ("by", "value"):  # a drill-down, so that the split and the bar are read
        params |= {"kpi": "dm.open_cases" if page.key != "rp" else "rp.open_jobs", "by": "region"} | params
    assert_nothing_rendered(open_page(page, params))


@pytest.mark.parametrize("name,value", [("as_of", "0001-01-01"), ("by", "id"), ("by", "meets"),
                                        ("case", LINK), ("kpi", IMAGE)])
def test_the_findings_of_the_review_each_fail_no_more(app_env, name, value):
    """The reproduced findings: a date before time, a split by a column that is not a dimension, a link
    planted in a case id, an image planted in a KPI id."""
    page = routes.PAGE["dm"] if name != "case" else routes.PAGE["case"]
    params = {name: value} | ({"kpi": "dm.open_cases"} if name == "by" else {})
    at = open_page(page, params)
    assert_nothing_rendered(at)
    assert any(value[:10] in as_read(w.value) for w in at.warning), "the value is named, as text"


# ---------------------------------------------------------------------------------------------- the data


@pytest.fixture(scope="module")
def listener():
    """A web server on this machine that records every request: a payload points here, and must never be
    fetched (by the app, or by the Chromium that prints the pack)."""
    requests: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
            requests.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", requests
    server.shutdown()


def style_payload(address: str) -> str:
    """Text that would end the pack's CSS string and <style> element, restyle its pages and fetch from
    `address`, were it written into the page as it is."""
    return (f'"; }} @page {{ @top-center {{ content: "forged"; }} }} </style><link rel="stylesheet" '
            f'href="{address}/sheet.css"><img src="{address}/pixel.png"><style>')


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory, listener):
    """A small landlord whose every free-text value is a payload."""
    when = datetime(2026, 11, 17, 9)
    every = f"{LINK} {IMAGE} {HTML} {FORMULA} {style_payload(listener[0])}"
    folder = write_extract(
        tmp_path_factory.mktemp("hostile") / "extract", extracted_at="2026-11-23T06:00:00",
        properties=[{"property_id": "P1", "address": every, "postcode": every, "region": "North", "area": every}],
        households=[{"household_id": "H1", "property_id": "P1"}],
        vulnerabilities=[{"household_id": "H1", "reasonable_adjustment": every}],
        teams=[{"team_id": "T1", "team_name": every, "region": "North", "manager_email": "m@example.org"}],
        contractors=[{"contractor_id": "C1", "contractor_name": every, "trades": every}],
        repairs=[{"job_id": "J1", "property_id": "P1", "household_id": "H1", "reported_at": when,
                  "target_at": datetime(2026, 11, 18, 9)},
                 # done weeks before: the week ending 22 Nov is then one the pack may report
                 {"job_id": "J0", "property_id": "P1", "household_id": "H1", "reported_at": datetime(2026, 11, 2, 9),
                  "target_at": datetime(2026, 11, 3, 9), "completed_at": datetime(2026, 11, 3, 8)}],
        damp_mould_cases=[{"case_id": "D1", "property_id": "P1", "reported_at": when, "hazard_level": "significant"}],
        complaints=[{"complaint_id": "CX1", "property_id": "P1", "received_at": when, "learning_action": every}])
    manifest = json.loads((folder / "manifest.json").read_text())
    landlord = f"{LINK} {HTML} {style_payload(listener[0])}"
    (folder / "manifest.json").write_text(json.dumps(manifest | {"landlord": landlord}))
    (folder / "access.toml").write_text('[[user]]\nemail = "exec@example.org"\nrole = "executive"\n')
    return store.prepare(folder, tmp_path_factory.mktemp("hostile-store") / "store.duckdb"), folder


def test_the_pack_prints_free_text_as_text_and_fetches_nothing(hostile_store, listener):
    """The landlord's name is in every page's footer, written into the pack's CSS (render.css_string), and
    the team, area and contractor names are in its tables: each is printed as the text it is, and the
    Chromium that prints the pack runs no script and fetches nothing."""
    path, folder = hostile_store
    landlord = json.loads((folder / "manifest.json").read_text())["landlord"]
    pdf = pack.build_pack(store.open_store(path), date(2026, 11, 22), WHOLE_LANDLORD)
    pages = pdf_page_texts(pdf)
    for text in pages:
        margins = re.match(PACK_MARGINS, text)
        assert margins, text[:200]
        footer = f"{landlord} · week ending 22 Nov 2026 · Whole landlord".split()
        first_line = margins.group(3).split()  # a name this long wraps: its first line, as it is
        assert len(first_line) > 5 and first_line == footer[:len(first_line)]
        assert "forged" not in text[:margins.start(3)]  # no margin box of the payload's own
    assert "evil.example" in "".join(pages)  # the payloads are printed, as text
    assert listener[1] == []


@pytest.mark.parametrize("page,params", [
    ("overview", {}), ("dm", {}), ("rp", {}), ("cx", {}), ("ct", {}), ("vu", {}), ("risk", {}), ("about", {}),
    ("case", {"case": "D1"}), ("case", {"case": "J1", "whole_home": "1"}), ("case", {"case": "CX1"}),
    ("rp", {"kpi": "rp.open_jobs", "by": "team_id", "value": "T1"}),
    ("rp", {"kpi": "rp.open_jobs", "by": "contractor_id", "value": "C1"}),
    ("rp", {"breakdown": "rp.open_jobs", "by": "team_id"}), ("ct", {"breakdown": "ct.in_house_on_time_pct",
                                                               "by": "contractor_id"}),
])
def test_no_free_text_from_the_data_is_rendered(hostile_store, monkeypatch, page, params):
    path, folder = hostile_store
    monkeypatch.setenv("HOUSING_ASSURANCE_DATA", str(path))
    monkeypatch.setenv("HOUSING_ASSURANCE_DEMO_MODE", "1")
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(folder / "access.toml"))
    at = open_page(routes.PAGE[page], {"as_of": "2026-11-22"} | params)
    assert_nothing_rendered(at)
    shown = " ".join(sources(at)).replace("\\", "")
    assert "evil.example" in shown or page in ("dm", "cx", "ct", "vu", "risk", "overview"), \
        "the payload is shown (as text), not dropped"
