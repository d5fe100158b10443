"""The weekly review from the command line, on the suite's demo, against both review databases (a SQLite
file and a real PostgreSQL server): who may write, the refused sign-off, the frozen pack, restatements
of a back-dated record, and the pack and digests sent to a real SMTP server."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from conftest import DEMO_AS_OF, email_to, pdf_page_texts

from housing_assurance import cli, due, pack
from housing_assurance.access import ROLES, User, managed_teams
from housing_assurance.db import open_extract
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import cases
from housing_assurance.review.restatements import ChangedRecord, restatements
from housing_assurance.review.store import Figure, open_store
from housing_assurance.review.weekly import red_kpis, sign_off_week
from housing_assurance.scope import WHOLE_LANDLORD, Scope

pytestmark = pytest.mark.slow  # sign-off builds and archives packs, on SQLite and on PostgreSQL

CEO = "chief.executive@example.org"
MANAGER = "dampmould.north@example.org"  # manages damp-mould-north only
WEEK = DEMO_AS_OF.isoformat()


def _strict(text: str):
    """JSON as interfaces.md asks: no NaN or Infinity."""
    return json.loads(text, parse_constant=lambda c: pytest.fail(f"not strict JSON: {c}"))


@pytest.fixture
def review(db_url, demo_dir, monkeypatch):
    """The review command on the demo, its users from the demo's access file, writing to db_url."""
    monkeypatch.setenv("HOUSING_ASSURANCE_DB", db_url)
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(demo_dir / "access.toml"))
    return db_url


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def comment(capsys, data: Path, kpi: str, text: str, user: str = CEO, *where: str) -> tuple[int, str, str]:
    return run(capsys, "review", "comment", "--data", data, "--as-of", WEEK, "--kpi", kpi, *where, "--text", text,
               "--as-user", user)


def test_a_manager_writes_on_their_own_teams_figures_only_and_an_analyst_reads(review, demo_dir, capsys):
    code, out, _ = comment(capsys, demo_dir, "dm.open_cases", "Storm on the 18th: 3 new reports.", MANAGER,
                           "--team", "damp-mould-north")
    assert code == 0
    written = _strict(out)
    assert (written["team"], written["version"], written["author"]) == ("damp-mould-north", 1, MANAGER)

    code, out, err = comment(capsys, demo_dir, "dm.open_cases", "Not mine.", MANAGER, "--team", "damp-mould-south")
    assert (code, out) == (1, "")
    assert "only on their own teams' figures" in err and err.count("\n") == 1
    code, _, err = comment(capsys, demo_dir, "dm.open_cases", "The region.", MANAGER, "--region", "North")
    assert code == 1 and "only on their own teams' figures" in err
    code, _, err = comment(capsys, demo_dir, "dm.open_cases", "Reading only.", "analyst@example.org")
    assert code == 1 and "may read the review but not write" in err

    code, out, _ = run(capsys, "review", "show", "--data", demo_dir, "--as-of", WEEK, "--json",
                       "--as-user", "dampmould.south@example.org")
    assert code == 0 and _strict(out)["commentaries"] == []  # another manager does not read it
    code, out, _ = run(capsys, "review", "show", "--data", demo_dir, "--as-of", WEEK, "--json")
    shown = _strict(out)
    assert [c["text"] for c in shown["commentaries"]] == ["Storm on the 18th: 3 new reports."]


def test_an_edit_from_an_old_version_is_a_conflict_that_loses_nothing(review, demo_dir, capsys):
    assert comment(capsys, demo_dir, "dm.open_cases", "First.")[0] == 0
    code, _, err = comment(capsys, demo_dir, "dm.open_cases", "Second, not having read the first.")
    assert code == 1 and '"First."' in err and "--based-on 1" in err
    code, out, _ = comment(capsys, demo_dir, "dm.open_cases", "Second, having read the first.", CEO,
                           "--based-on", "1")
    assert code == 0 and _strict(out)["version"] == 2
    store = open_store(review)
    [c] = store.commentaries(User(CEO, ROLES["executive"]), WHOLE_LANDLORD, DEMO_AS_OF)
    assert [v.text for v in store.history(User(CEO, ROLES["executive"]), WHOLE_LANDLORD, c.id)][-2:] == [
        "First.", "Second, having read the first."]
    store.close()


def test_sign_off_is_refused_naming_each_red_kpi_without_commentary_and_for_anyone_but_an_executive(
        review, demo_dir, demo_extract, capsys):
    red = red_kpis(FigureStore(demo_extract),
                   DEMO_AS_OF)
    assert len(red) >= 2  # the demo has red figures, or this test proves nothing
    for kpi in red[1:]:
        assert comment(capsys, demo_dir, kpi, f"Why {kpi} is red.")[0] == 0
    code, out, err = run(capsys, "review", "signoff", "--data", demo_dir, "--as-of", WEEK, "--as-user", CEO)
    assert (code, out) == (1, "")
    assert red[0] in err and not any(k in err for k in red[1:])
    code, _, err = run(capsys, "review", "signoff", "--data", demo_dir, "--as-of", WEEK,
                       "--as-user", "analyst@example.org")
    assert code == 1 and "only executives sign off" in err
    code, out, _ = run(capsys, "review", "show", "--data", demo_dir, "--as-of", WEEK, "--json")
    assert _strict(out)["signoff"] is None and _strict(out)["red_without_commentary"] == red[:1]


def test_a_signed_off_week_keeps_its_pack_byte_for_byte_and_sends_it(review, demo_dir, demo_extract, capsys,
                                                                     tmp_path, smtp_server, monkeypatch):
    inbox, port = smtp_server
    email_to(tmp_path, port, monkeypatch)
    out_pdf = tmp_path / "pack.pdf"
    with monkeypatch.context() as no_browser:  # a refused request starts no browser
        no_browser.setattr(pack, "ChartRenderer", lambda *a, **k: pytest.fail("a browser was started"))
        code, _, err = run(capsys, "report", "--data", demo_dir, "--as-of", WEEK, "--out", out_pdf, "--email")
    assert code == 1 and "not signed off" in err and not out_pdf.exists() and inbox.received == []

    for kpi in red_kpis(FigureStore(demo_extract), DEMO_AS_OF):
        assert comment(capsys, demo_dir, kpi, f"{kpi}: the committee's reading of it.")[0] == 0
    code, out, _ = run(capsys, "review", "signoff", "--data", demo_dir, "--as-of", WEEK, "--as-user", CEO)
    assert code == 0
    signed = _strict(out)
    assert signed["signed_by"] == CEO

    # The signed-off pack is written out as archived: nothing is drawn, so no browser starts.
    monkeypatch.setattr(pack, "ChartRenderer", lambda *a, **k: pytest.fail("a browser was started"))
    first, second = tmp_path / "first.pdf", tmp_path / "second.pdf"
    assert run(capsys, "report", "--data", demo_dir, "--as-of", WEEK, "--out", first)[0] == 0
    assert run(capsys, "report", "--data", demo_dir, "--as-of", WEEK, "--out", second, "--email")[0] == 0
    archived = first.read_bytes()
    assert archived == second.read_bytes()
    assert hashlib.sha256(archived).hexdigest() == signed["pdf_sha256"]
    text = " ".join(" ".join(page.split()) for page in pdf_page_texts(first))
    assert "dm.overdue_open_cases: the committee's reading of it." in text
    assert f"Signed off by {CEO}" in text

    [(sender, recipients, message)] = inbox.received
    assert sender == "assurance@example.org"
    assert sorted(recipients) == ["chair@example.org", "executive.committee@example.org"]
    assert "week ending 22 Nov 2026 (signed off)" in message["Subject"]
    [attached] = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_content() == archived


@pytest.fixture(scope="module")
def back_dated(demo_dir, tmp_path_factory) -> Path:
    """The demo as a later extract has it: one more damp and mould case, reported inside the signed-off week.

    Made once for the module: the tests only read it, so the review database of each parameter (SQLite,
    PostgreSQL) is compared with the same folder, whose store the first `review show` prepares and the
    second finds in the cache (the cache is keyed by the folder and its content)."""
    folder = tmp_path_factory.mktemp("later") / "later"
    shutil.copytree(demo_dir, folder)
    path = folder / "damp_mould_cases.parquet"
    frame = pl.read_parquet(path)
    late = frame.filter(pl.col("case_id") == "DM000425").with_columns(
        case_id=pl.lit("DM900001"), reported_at=pl.lit(datetime(2026, 11, 17, 8, 0)))
    assert late.height == 1  # the demo's case still open at the end of the week
    pl.concat([frame, late]).write_parquet(path)
    return folder


def test_a_back_dated_record_is_a_restatement_of_the_signed_off_week(review, demo_extract, back_dated, capsys):
    ceo = User(CEO, ROLES["executive"])
    store = open_store(review)
    for kpi in red_kpis(FigureStore(demo_extract),
                        DEMO_AS_OF):
        store.comment(ceo, WHOLE_LANDLORD, Figure(kpi, DEMO_AS_OF), "Explained.")
    sign_off_week(store, demo_extract, ceo, WHOLE_LANDLORD, DEMO_AS_OF, build=lambda **_: b"%PDF-1.7 signed\n")
    [unchanged] = restatements(store, demo_extract, ceo, WHOLE_LANDLORD)
    assert unchanged.figures == [] and unchanged.problem is None  # the same extract restates nothing

    later = back_dated
    code, out, _ = run(capsys, "review", "show", "--data", later, "--as-of", WEEK, "--json")
    assert code == 0
    [week] = _strict(out)["restatements"]
    figures = {f["kpi_id"]: f for f in week["figures"]}
    open_cases = figures["dm.open_cases"]
    assert open_cases["now"]["value"] == open_cases["signed"]["value"] + 1
    assert open_cases["records"] == [{"id": "DM900001", "change": "back-dated", "dated": "2026-11-17"}]
    back_dated = {"id": "DM900001", "change": "back-dated", "dated": "2026-11-17"}
    # Every figure that moved names the late case first; a repeat-case figure also names the case it repeats
    # (same home, reported the same week), which now counts as a repeat.
    assert {f["records"][0] == back_dated for f in figures.values()} == {True}
    assert {r["id"] for f in figures.values() for r in f["records"][1:]} == {"DM000425"}
    assert figures["dm.repeat_cases_pct"]["records"][1]["change"] == "changed"
    assert "dq.validation_error_rows" not in figures  # about the extract in hand, never a restatement

    [week] = restatements(store, open_extract(later), ceo, WHOLE_LANDLORD)
    restated = {r.kpi_id: r for r in week.figures}
    assert restated["dm.open_cases"].records == [ChangedRecord("DM900001", "back-dated", date(2026, 11, 17))]
    store.close()


def test_each_manager_gets_their_teams_overdue_and_due_soon_clocks(review, demo_dir, demo_extract, capsys,
                                                                 tmp_path, smtp_server, monkeypatch):
    inbox, port = smtp_server
    email_to(tmp_path, port, monkeypatch)
    code, out, _ = run(capsys, "review", "digest", "--data", demo_dir, "--as-of", WEEK)
    assert code == 0
    listed = {d["manager"]: d for d in _strict(out)}
    received = {tuple(recipients): message for _, recipients, message in inbox.received}
    assert sorted(received) == sorted((m,) for m, d in listed.items() if d["sent"])

    teams = managed_teams(demo_extract, MANAGER)
    scope = Scope(teams=teams)
    overdue = cases(demo_extract, DEMO_AS_OF, "dm.overdue_open_cases", scope)["id"].to_list() + \
        cases(demo_extract, DEMO_AS_OF, "cx.open_overdue", scope)["id"].to_list()
    soon = due.due_soon(demo_extract, DEMO_AS_OF, scope)["id"].to_list()
    assert overdue or soon  # the demo's team has clocks to report, or this test proves nothing
    assert (listed[MANAGER]["overdue"], listed[MANAGER]["due_soon"]) == (len(overdue), len(soon))
    body = received[(MANAGER,)].get_body(("plain",)).get_content()
    assert all(case_id in body for case_id in overdue + soon)
    other = cases(demo_extract, DEMO_AS_OF, "dm.overdue_open_cases", WHOLE_LANDLORD)["id"].to_list()
    assert not any(c in body for c in set(other) - set(overdue))  # no other team's cases
