"""The Weekly review page on the suite's demo (AppTest): a manager's commentary saved and shown as text, two
people saving from the same version, the refused sign-off, what an analyst may not do, and a signed-off
week's pack e-mailed from the page."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import as_read, email_to, no_error, open_app_at
from streamlit.testing.v1 import AppTest

from housing_assurance.access import ROLES, User
from housing_assurance.figures import FigureStore
from housing_assurance.kpis import KPIS
from housing_assurance.review.store import Figure, open_store
from housing_assurance.review.weekly import red_kpis, sign_off_week
from housing_assurance.scope import WHOLE_LANDLORD

AS_OF = date(2026, 11, 22)
PAGE = "pages/weekly_review.py"
CEO = "chief.executive@example.org"
MANAGER = "dampmould.north@example.org"

pytestmark = pytest.mark.usefixtures("demo_app")


@pytest.fixture
def review_db(tmp_path, monkeypatch) -> str:
    """A review database of this test's own (the app opens whatever HOUSING_ASSURANCE_DB names)."""
    url = f"sqlite:///{tmp_path / 'review.sqlite3'}"
    monkeypatch.setenv("HOUSING_ASSURANCE_DB", url)
    return url


def open_review(user: str, **params: str) -> AppTest:
    return open_app_at(PAGE, user, AS_OF, 120, **params)


def form_of(at: AppTest, kpi_id: str, team: str = "") -> tuple:
    """The commentary box on a figure (asked for first, as a reader asks for it), and its form's save button."""
    figure = f"{kpi_id}|{AS_OF.isoformat()}||{team}"
    if f"review:text:{figure}" not in [t.key for t in at.text_area]:
        at.button(key=f"review:edit:{figure}").click().run()
    box = at.text_area(key=f"review:text:{figure}")
    [save] = [b for b in at.button if b.proto.form_id and b.proto.form_id == box.proto.form_id]
    return box, save


def texts(at: AppTest) -> str:
    return " ".join(as_read(m.value) for m in [*at.markdown, *at.caption, *at.error, *at.warning, *at.success])


def test_a_manager_saves_a_commentary_on_their_team_and_it_reads_as_typed(review_db, demo_extract):
    at = open_review(MANAGER, team="damp-mould-north")
    hostile = "Storm [on the 18th](http://evil.example) **3 new** <b>reports</b> ask www.example.org"
    at.selectbox(key="review:other").set_value("dm.open_cases").run()  # a figure not off target: "another figure"
    box, save = form_of(at, "dm.open_cases", "damp-mould-north")
    box.input(hostile)
    save.click().run()
    assert no_error(at)
    assert "Saved (version 1)." in texts(at)
    [shown] = [m.value for m in at.markdown if "Storm" in m.value]
    assert as_read(shown) == hostile  # every character shown as itself
    assert "](" not in shown.replace("\\]\\(", "") and "**3" not in shown  # no link, no bold
    [saved] = open_store(review_db).commentaries(User(MANAGER, ROLES["manager"]),
                                                 WHOLE_LANDLORD, AS_OF, team="damp-mould-north")
    assert (saved.text, saved.author, saved.figure.kpi_id) == (hostile, MANAGER, "dm.open_cases")


def test_two_people_saving_from_the_same_version_the_second_is_shown_both_and_nothing_is_lost(review_db):
    first, second = open_review(CEO), open_review(CEO)
    box, save = form_of(first, "dm.overdue_open_cases")
    box.input("Two cases past the deadline: both have surveys booked.")
    save.click().run()
    box, save = form_of(second, "dm.overdue_open_cases")
    box.input("Contractor capacity in the North.")
    save.click().run()
    assert no_error(second)
    said = texts(second)
    assert "nothing was overwritten" in said
    assert "Two cases past the deadline: both have surveys booked." in said  # their text, to read
    box, save = form_of(second, "dm.overdue_open_cases")
    assert box.value == "Contractor capacity in the North."  # and theirs still in the box
    ceo = User(CEO, ROLES["executive"])
    store = open_store(review_db)
    [kept] = store.commentaries(ceo, WHOLE_LANDLORD, AS_OF)
    assert (kept.version, kept.text) == (1, "Two cases past the deadline: both have surveys booked.")

    assert save.label == "Save mine in their place"
    save.click().run()
    [kept] = store.commentaries(ceo, WHOLE_LANDLORD, AS_OF)
    assert (kept.version, kept.text) == (2, "Contractor capacity in the North.")
    assert [v.text for v in store.history(ceo, WHOLE_LANDLORD, kept.id)][-2:] == [
        "Two cases past the deadline: both have surveys booked.", "Contractor capacity in the North."]


def test_sign_off_is_refused_naming_the_red_figures_and_an_analyst_only_reads(review_db, demo_extract):
    red = red_kpis(FigureStore(demo_extract), AS_OF)
    assert red  # the demo's week has red figures, or this test proves nothing
    at = open_review(CEO)
    [refusal] = [e.value for e in at.error if "cannot be signed off" in e.value]
    assert all(KPIS[k].title in as_read(refusal) for k in red)
    [button] = [b for b in at.button if b.label == "Sign off the week"]
    assert button.disabled
    why = [m for m in at.markdown if m.value.startswith("**Why:**")]
    reasons = [as_read(m.value) for m in why]
    assert len(reasons) >= len(red) and "2 cases" in " ".join(reasons)  # why.py's line beside each red figure
    assert not any(m.proto.allow_html for m in why)  # markdown escaped by plain, never read as HTML

    at = open_review("analyst@example.org")
    assert list(at.text_area) == []  # no form anywhere
    assert not [b for b in at.button if b.label in ("Sign off the week", "Save")]
    assert "Only an executive signs off the week." in texts(at)


def signed_off(review_db, demo_extract) -> bytes:
    """The week signed off by the chief executive (every red figure explained), with a stand-in pack."""
    ceo = User(CEO, ROLES["executive"])
    store = open_store(review_db)
    for kpi in red_kpis(FigureStore(demo_extract), AS_OF):
        store.comment(ceo, WHOLE_LANDLORD, Figure(kpi, AS_OF), "Explained.")
    pdf = b"%PDF-1.7 the pack as signed\n"
    sign_off_week(store, demo_extract, ceo, WHOLE_LANDLORD, AS_OF, build=lambda **_: pdf)
    return pdf


def test_a_signed_off_week_is_e_mailed_from_the_page_by_an_executive(review_db, demo_extract, tmp_path, smtp_server,
                                                                    monkeypatch):
    inbox, port = smtp_server
    email_to(tmp_path, port, monkeypatch)
    pdf = signed_off(review_db, demo_extract)

    at = open_review("analyst@example.org")
    assert not [b for b in at.button if "E-mail" in b.label]
    at = open_review(CEO)
    said = texts(at)
    assert f"signed off for the whole landlord by {CEO}" in said
    assert "1 signed-off week checked against this extract: 1 with every figure as signed off" in said
    [send] = [b for b in at.button if b.label == "E-mail the pack to the distribution list"]
    send.click().run()
    assert no_error(at)
    assert "The signed-off pack was sent to executive.committee@example.org, chair@example.org." in texts(at)
    [(_, recipients, message)] = inbox.received
    assert sorted(recipients) == ["chair@example.org", "executive.committee@example.org"]
    [attached] = list(message.iter_attachments())
    assert attached.get_content() == pdf


def test_the_sidebars_pack_of_a_signed_off_week_is_the_archived_pack(review_db, demo_extract):
    """As `report` does: once a week is signed off, the app's "Prepare the PDF pack" gives the pack exactly as
    signed (its bytes), never a new one that could differ from what the committee signed."""
    pdf = signed_off(review_db, demo_extract)

    at = open_app_at(None, CEO, AS_OF, 120)
    next(b for b in at.sidebar.button if b.key == "pack_build").click()
    at.run()
    assert no_error(at) and not at.error, [e.value for e in at.error]
    assert at.session_state["_pack"][1] == pdf


def test_a_form_is_drawn_once_asked_for_and_stays(review_db, demo_extract):
    """A page of thirty-odd figures draws no commentary form until one is asked for ("Write a commentary"):
    thirty forms took Streamlit 0.6-0.9 s a run. A form asked for stays on every run after, so the browser
    keeps what was typed in it while other forms are asked for."""
    at = open_review(CEO)
    red = red_kpis(FigureStore(demo_extract), AS_OF)
    assert len(red) >= 2 and list(at.text_area) == []
    assert len([b for b in at.button if b.label == "Write a commentary"]) >= len(red)
    box, save = form_of(at, red[0])
    box.input("Explained.")
    save.click().run()  # the figure's label now says so; it stays open on its "Saved"
    [opened] = [e for e in at.expander if as_read(e.label).startswith(f"✕ Off target · {KPIS[red[0]].title}:")]
    assert opened.proto.expanded and "commentary written" in opened.label and "Saved (version 1)." in texts(at)
    form_of(at, red[1])
    at.run()
    assert [t.key for t in at.text_area] == [f"review:text:{k}|{AS_OF.isoformat()}||" for k in red[:2]]
