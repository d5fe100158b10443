"""The review store against real databases: a SQLite file and a PostgreSQL server started here.

Every store test runs on both (`-m postgres` selects the PostgreSQL runs, `-m "not postgres"` skips
them). The PostgreSQL cluster is Debian's server in a temporary folder, with no TCP port: a Unix
socket in that folder only.
"""

from __future__ import annotations

import hashlib
import sqlite3
import subprocess
import sys
import threading
import warnings
from datetime import UTC, date, datetime, timedelta

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, update
from sqlalchemy import text as sql
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from housing_assurance import audit
from housing_assurance.access import ROLES, User
from housing_assurance.review.database import (
    DB_ENV,
    HEAD_REVISION,
    alembic_config,
    database_url,
    make_engine,
    upgrade_to_head,
)
from housing_assurance.review.models import Base, CommentaryRow, SignOffRow
from housing_assurance.review.store import (
    Action,
    Commentary,
    EditConflict,
    Figure,
    ReviewError,
    ReviewInputError,
    ReviewPermissionError,
    SignedFigure,
    SignOffRefused,
    missing_commentary,
    open_store,
)
from housing_assurance.scope import WHOLE_LANDLORD, Scope
from housing_assurance.settings import PROJECT_ROOT

CEO = User("chief.executive@example.org", ROLES["executive"])
FD = User("finance.director@example.org", ROLES["executive"])
MANAGER = User("repairs.north@example.org", ROLES["manager"])
MANAGER_SCOPE = Scope(teams=("RN1", "RN2"))
ANALYST = User("analyst@example.org", ROLES["analyst"])
ADMIN = User("administrator@example.org", ROLES["administrator"])
AS_OF = date(2026, 11, 22)  # the week 16-22 November 2026
LAST_WEEK, NEXT_WEEK = AS_OF - timedelta(days=7), AS_OF + timedelta(days=7)
TABLES = {"commentaries", "commentary_versions", "signoffs", "signoff_figures"}
HEAD = "0002"  # the newest migration
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"  # every byte value, NUL included


@pytest.fixture
def store(db_url):
    s = open_store(db_url)
    yield s
    s.close()


def figure(kpi_id: str = "dm.open_cases", as_of: date = AS_OF, region: str | None = None,
           team: str | None = None) -> Figure:
    return Figure(kpi_id, as_of, region, team)


def audited() -> list[dict]:
    return audit.read_entries()


# Migrations

def _schema_differences(engine) -> list:
    with engine.connect() as conn, warnings.catch_warnings():
        # The one-commentary-per-figure index is on expressions, which reflection cannot compare.
        warnings.filterwarnings("ignore", message=".*expression-based index.*")
        return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)


def test_migrations_create_the_schema_from_empty_and_a_second_open_changes_nothing(db_url):
    engine = make_engine(db_url)
    assert set(inspect(engine).get_table_names()) == set()
    store = open_store(db_url)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    head = ScriptDirectory(str(PROJECT_ROOT / "housing_assurance/review/migrations")).get_current_head()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == head == HEAD == HEAD_REVISION
    assert _schema_differences(engine) == []  # the migration builds exactly the tables the code maps
    written = store.comment(CEO, WHOLE_LANDLORD, figure(), "Up two on last week: the storm on the 18th.")
    store.close()

    again = open_store(db_url)  # what every app server does on start
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD
    assert again.commentaries(CEO, WHOLE_LANDLORD, AS_OF) == [written]
    again.close()

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    upgrade_to_head(db_url)
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    engine.dispose()


def test_an_up_to_date_database_opens_without_loading_alembic(db_url):
    """Alembic is a third of a second to import (each app server's first Weekly review paid it): a database
    already at the newest migration is opened without it, one a migration behind is brought up to date."""
    open_store(db_url).close()
    opened = subprocess.run(
        [sys.executable, "-c", "import sys; from housing_assurance.review.store import open_store; "
                               f"open_store({str(db_url)!r}).close(); print('alembic' in sys.modules)"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert opened.stdout.strip() == "False", opened.stderr
    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0001")
    open_store(db_url).close()
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == HEAD_REVISION
    engine.dispose()


def test_a_server_opening_a_new_sqlite_database_while_another_writes_waits_for_it(tmp_path):
    """Turning a new SQLite database to WAL while another connection writes is refused at once, whatever the
    timeout (it failed so, now and then, three servers starting together): opening it waits for the writer."""
    path = tmp_path / "review.sqlite3"
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("CREATE TABLE first_server_was_here (x)")
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO first_server_was_here VALUES (1)")
    finished = threading.Timer(0.3, writer.execute, ["COMMIT"])
    finished.start()
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("SELECT x FROM first_server_was_here").scalars().all() == [1]
    finished.join()
    engine.dispose()
    writer.close()


def test_several_servers_opening_a_new_database_at_once_migrate_it_once(db_url):
    """Three processes, as three app servers starting together: the migration runs once, the others wait.

    Each process imports first and then waits for the word go, so the three migrations really start together.
    """
    code = ("import sys; from housing_assurance.review.database import upgrade_to_head; print('ready', flush=True); "
            "sys.stdin.readline(); upgrade_to_head(sys.argv[1])")
    servers = [subprocess.Popen([sys.executable, "-c", code, db_url], cwd=PROJECT_ROOT, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    assert [server.stdout.readline() for server in servers] == ["ready\n"] * 3
    for server in servers:
        server.stdin.write("go\n")
        server.stdin.flush()
    errors = [server.communicate(timeout=120)[1] for server in servers]
    assert [server.returncode for server in servers] == [0, 0, 0], errors
    engine = make_engine(db_url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").all() == [(HEAD,)]
    assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}
    engine.dispose()


def test_the_default_database_is_a_sqlite_file_under_data_in_wal_mode_with_foreign_keys(tmp_path, monkeypatch):
    monkeypatch.delenv(DB_ENV, raising=False)
    assert database_url() == f"sqlite:///{PROJECT_ROOT / 'data' / 'review.sqlite3'}"
    path = tmp_path / "new-folder" / "review.sqlite3"
    monkeypatch.setenv(DB_ENV, f"sqlite:///{path}")
    store = open_store()
    assert path.exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO signoff_figures (signoff_id, kpi_id) VALUES (99, 'dm.open_cases')")
    store.close()


def test_the_database_keeps_one_commentary_per_figure_even_for_the_whole_landlord(store):
    def row(team: str | None) -> CommentaryRow:
        return CommentaryRow(kpi_id="dm.open_cases", as_of=AS_OF, scope_region=None, scope_team=team, version=1,
                             text="x", author_email=CEO.email, written_at=datetime.now(UTC))

    with Session(store.engine) as session, session.begin():
        session.add_all([row(None), row("RN1")])
    with pytest.raises(IntegrityError), Session(store.engine) as session, session.begin():
        session.add(row(None))  # NULL scopes are one scope here: a plain unique constraint would let it in


# Writing and reading commentary

def test_a_commentary_with_its_action_is_read_back_for_its_week_and_scope(store):
    action = Action("Survey the 14 homes hit by the storm", "Repairs.North@example.org ", date(2026, 11, 27))
    written = store.comment(CEO, WHOLE_LANDLORD, figure(), " Up two: storm damage. ", action=action)
    team = store.comment(CEO, WHOLE_LANDLORD, figure(team="RN1"), "Both new cases are in Hull Road.")
    assert (written.version, written.text, written.author) == (1, "Up two: storm damage.", CEO.email)
    assert written.action == Action("Survey the 14 homes hit by the storm", "repairs.north@example.org",
                                    date(2026, 11, 27), "open")
    assert store.commentaries(ANALYST, WHOLE_LANDLORD, AS_OF) == [written]
    assert store.commentaries(ANALYST, WHOLE_LANDLORD, AS_OF, team="RN1") == [team]
    assert store.commentaries(ANALYST, WHOLE_LANDLORD, LAST_WEEK) == []
    assert store.week_commentaries(ANALYST, WHOLE_LANDLORD, AS_OF) == [written, team]


def test_wrong_requests_are_refused_in_one_line(store):
    cases = [
        (figure("dm.no_such_kpi"), "x", None, "unknown KPI id 'dm.no_such_kpi'"),
        (figure(region="North", team="RN1"), "x", None, "not both"),
        (figure(), "   ", None, "empty"),
        (figure(), "x", Action("Call back", "Jo Bloggs", AS_OF), "e-mail address"),
        (figure(), "x", Action("Call back", "jo@example.org", AS_OF, "closed"), "open, done, dropped"),
    ]
    for fig, text, action, message in cases:
        with pytest.raises(ReviewInputError, match=message) as caught:
            store.comment(CEO, WHOLE_LANDLORD, fig, text, action=action)
        assert "\n" not in str(caught.value)
    assert store.week_commentaries(CEO, WHOLE_LANDLORD, AS_OF) == []


# Permissions

def test_a_manager_writes_commentary_only_on_their_own_teams_figures(store):
    own = store.comment(MANAGER, MANAGER_SCOPE, figure(team="RN1"), "Both cases inspected on Friday.")
    assert own.author == MANAGER.email
    for fig in (figure(team="SOUTH1"), figure(), figure(region="North")):
        with pytest.raises(ReviewPermissionError, match="only on their own teams' figures") as caught:
            store.comment(MANAGER, MANAGER_SCOPE, fig, "Not mine to write.")
        assert MANAGER.email in str(caught.value) and "\n" not in str(caught.value)
    assert store.week_commentaries(CEO, WHOLE_LANDLORD, AS_OF) == [own]
    assert [e["action"] for e in audited()] == ["review_comment"]


def test_analysts_and_administrators_only_read(store):
    written = store.comment(CEO, WHOLE_LANDLORD, figure(), "Storm damage.",
                            action=Action("Survey the homes", MANAGER.email, date(2026, 11, 27)))
    for user in (ANALYST, ADMIN):
        with pytest.raises(ReviewPermissionError, match="may read the review but not write to it"):
            store.comment(user, WHOLE_LANDLORD, figure("rp.open_jobs"), "A note.")
        with pytest.raises(ReviewPermissionError, match="may read the review but not write to it"):
            store.comment(user, WHOLE_LANDLORD, figure(), "An edit.", based_on=1)
        with pytest.raises(ReviewPermissionError, match="may read the review but not write to it"):
            store.update_action(user, WHOLE_LANDLORD, written.id, 1, status="done")
        assert store.commentaries(user, WHOLE_LANDLORD, AS_OF) == [written]
    assert [(c.text, c.version) for c in store.week_commentaries(CEO, WHOLE_LANDLORD, AS_OF)] == [("Storm damage.", 1)]


def test_a_manager_reads_their_own_teams_commentary_only(store):
    landlord = store.comment(CEO, WHOLE_LANDLORD, figure(), "Landlord-wide.")
    own = store.comment(CEO, WHOLE_LANDLORD, figure(team="RN2"), "North team 2.")
    store.comment(CEO, WHOLE_LANDLORD, figure(team="SOUTH1"), "South team 1.")
    store.comment(CEO, WHOLE_LANDLORD, figure(region="North"), "North region.")
    assert store.week_commentaries(MANAGER, MANAGER_SCOPE, AS_OF) == [own]
    assert store.commentaries(MANAGER, MANAGER_SCOPE, AS_OF) == []
    assert len(store.history(MANAGER, MANAGER_SCOPE, own.id)) == 1
    with pytest.raises(ReviewPermissionError, match="may not read"):
        store.history(MANAGER, MANAGER_SCOPE, landlord.id)


def test_only_executives_sign_off(store):
    figures = [SignedFigure("dm.open_cases", 42, rag=None)]
    for user, scope in ((MANAGER, MANAGER_SCOPE), (ANALYST, WHOLE_LANDLORD), (ADMIN, WHOLE_LANDLORD)):
        with pytest.raises(ReviewPermissionError, match=f"only executives sign off a week; {user.email}"):
            store.sign_off(user, scope, AS_OF, PDF, "pack-2026-11-22.pdf", figures, [])
    assert store.signoff_for(AS_OF) is None
    assert store.sign_off(CEO, WHOLE_LANDLORD, AS_OF, PDF, "pack-2026-11-22.pdf", figures, []).signed_by == CEO.email
    assert store.signoff_for(AS_OF).signed_by == CEO.email


# History and conflicts

def test_every_edit_keeps_the_versions_before_it(store):
    fig = figure(team="RN1")
    action = Action("Inspect both homes", MANAGER.email, date(2026, 11, 27))
    store.comment(MANAGER, MANAGER_SCOPE, fig, "Two new cases.", action=action)
    store.comment(CEO, WHOLE_LANDLORD, fig, "Two new cases, both after the storm.", based_on=1)
    latest = store.comment(MANAGER, MANAGER_SCOPE, fig, "Two new cases after the storm; both inspected.",
                           based_on=2)
    assert (latest.version, latest.author, latest.action) == (3, MANAGER.email, action)  # an edit keeps the action
    history = store.history(CEO, WHOLE_LANDLORD, latest.id)
    assert [(v.version, v.change, v.text, v.author) for v in history] == [
        (1, "comment", "Two new cases.", MANAGER.email),
        (2, "comment", "Two new cases, both after the storm.", CEO.email),
        (3, "comment", "Two new cases after the storm; both inspected.", MANAGER.email),
    ]
    assert all(v.action == action for v in history)
    assert history[0].written_at <= history[1].written_at <= history[2].written_at == latest.written_at
    assert latest.written_at.tzinfo is not None


def test_two_users_editing_the_same_version_the_second_is_told_and_nothing_is_lost(db_url):
    """Two app servers (two stores) on one database, as in production."""
    server1, server2 = open_store(db_url), open_store(db_url)
    server1.comment(CEO, WHOLE_LANDLORD, figure(), "Up two on last week.")
    ceo_sees = server1.commentaries(CEO, WHOLE_LANDLORD, AS_OF)[0]
    fd_sees = server2.commentaries(FD, WHOLE_LANDLORD, AS_OF)[0]
    assert ceo_sees.version == fd_sees.version == 1

    fd_saved = server2.comment(FD, WHOLE_LANDLORD, figure(), "Up two: storm damage, both made safe.",
                               based_on=fd_sees.version)
    with pytest.raises(EditConflict) as caught:
        server1.comment(CEO, WHOLE_LANDLORD, figure(), "Up two on last week; see the storm note.",
                        based_on=ceo_sees.version)
    current = caught.value.current
    assert (current.version, current.text, current.author) == (2, "Up two: storm damage, both made safe.", FD.email)
    assert current.written_at == fd_saved.written_at
    assert FD.email in str(caught.value) and "version 2" in str(caught.value)
    assert server1.commentaries(CEO, WHOLE_LANDLORD, AS_OF)[0].text == "Up two: storm damage, both made safe."

    merged = server1.comment(CEO, WHOLE_LANDLORD, figure(), "Up two: storm damage, both made safe; see the note.",
                             based_on=current.version)
    assert merged.version == 3
    assert [v.text for v in server1.history(CEO, WHOLE_LANDLORD, merged.id)] == [
        "Up two on last week.", "Up two: storm damage, both made safe.",
        "Up two: storm damage, both made safe; see the note."]
    assert [e["actor"] for e in audited()] == [CEO.email, FD.email, CEO.email]  # the refused save wrote nothing
    server1.close()
    server2.close()


def test_two_first_commentaries_on_one_figure_the_second_is_a_conflict(store):
    store.comment(CEO, WHOLE_LANDLORD, figure(), "First.")
    with pytest.raises(EditConflict) as caught:
        store.comment(FD, WHOLE_LANDLORD, figure(), "Also first.")
    assert (caught.value.current.text, caught.value.current.author) == ("First.", CEO.email)
    with pytest.raises(ReviewInputError, match="no commentary on rp.open_jobs"):
        store.comment(CEO, WHOLE_LANDLORD, figure("rp.open_jobs"), "An edit of nothing.", based_on=1)


@pytest.mark.postgres
@pytest.mark.parametrize("save", ["first commentary", "edit", "action update"])
def test_a_save_that_loses_a_race_after_its_check_is_a_conflict_too(postgres_url, save):
    """Another server saves between this save's read and its write: the database's own checks catch it.

    (SQLite cannot get here: each write takes the database's write lock before it reads.)
    """
    server1, server2 = open_store(postgres_url), open_store(postgres_url)
    if save != "first commentary":
        server1.comment(CEO, WHOLE_LANDLORD, figure(), "Version 1.", action=Action("Call", CEO.email, AS_OF))
    based_on = None if save == "first commentary" else 1
    raced = []

    @event.listens_for(server1.engine, "before_cursor_execute")
    def other_server_saves_first(conn, cursor, sql, params, context, executemany):
        if sql.startswith(("INSERT INTO commentaries", "UPDATE commentaries")) and not raced:
            raced.append(sql)
            server2.comment(FD, WHOLE_LANDLORD, figure(), "The finance director's text.", based_on=based_on)

    with pytest.raises(EditConflict) as caught:
        if save == "action update":
            server1.update_action(CEO, WHOLE_LANDLORD, 1, 1, status="done")
        else:
            server1.comment(CEO, WHOLE_LANDLORD, figure(), "The chief executive's text.", based_on=based_on)
    assert raced and caught.value.current.text == "The finance director's text."
    [current] = server1.commentaries(CEO, WHOLE_LANDLORD, AS_OF)
    assert (current.text, current.version) == ("The finance director's text.", 1 if based_on is None else 2)
    assert current.action is None or current.action.status == "open"
    server1.close()
    server2.close()


def test_actions_are_updated_with_history_and_the_same_conflict_rule(store):
    written = store.comment(CEO, WHOLE_LANDLORD, figure(team="RN1"), "Two new cases.",
                            action=Action("Inspect both homes", MANAGER.email, date(2026, 11, 27)))
    moved = store.update_action(MANAGER, MANAGER_SCOPE, written.id, 1, due=date(2026, 12, 4))
    done = store.update_action(CEO, WHOLE_LANDLORD, written.id, 2, status="done", owner="Repairs.South@example.org")
    assert done.action == Action("Inspect both homes", "repairs.south@example.org", date(2026, 12, 4), "done")
    assert (done.version, done.text, done.author) == (3, "Two new cases.", CEO.email)
    history = store.history(CEO, WHOLE_LANDLORD, written.id)
    assert [(v.change, v.action.status, v.action.due, v.author) for v in history] == [
        ("comment", "open", date(2026, 11, 27), CEO.email),
        ("action", "open", date(2026, 12, 4), MANAGER.email),
        ("action", "done", date(2026, 12, 4), CEO.email),
    ]
    with pytest.raises(EditConflict) as caught:
        store.update_action(MANAGER, MANAGER_SCOPE, written.id, moved.version, status="dropped")
    assert (caught.value.current.version, caught.value.current.action.status) == (3, "done")
    with pytest.raises(ReviewInputError, match="open, done, dropped"):
        store.update_action(CEO, WHOLE_LANDLORD, written.id, 3, status="finished")
    with pytest.raises(ReviewInputError, match="nothing to change"):
        store.update_action(CEO, WHOLE_LANDLORD, written.id, 3)
    bare = store.comment(CEO, WHOLE_LANDLORD, figure(), "No action needed.")
    with pytest.raises(ReviewInputError, match="no action to update"):
        store.update_action(CEO, WHOLE_LANDLORD, bare.id, 1, status="done")
    landlord = store.comment(CEO, WHOLE_LANDLORD, figure("rp.open_jobs"), "Backlog up.",
                             action=Action("Clear the backlog", MANAGER.email, date(2026, 12, 18)))
    with pytest.raises(ReviewPermissionError):
        store.update_action(MANAGER, MANAGER_SCOPE, landlord.id, 1, status="done")
    assert store.history(CEO, WHOLE_LANDLORD, written.id)[-1].version == 3


# The action tracker

def test_the_action_tracker_lists_due_this_week_overdue_and_carries_open_actions_forward(store):
    def act(kpi_id: str, as_of: date, what: str, due: date, owner: str = CEO.email, team: str | None = None):
        return store.comment(CEO, WHOLE_LANDLORD, figure(kpi_id, as_of, team=team), f"About {what}.",
                             action=Action(what, owner, due))

    overdue = act("dm.open_cases", LAST_WEEK, "overdue", date(2026, 11, 13))  # due before this week, still open
    due_now = act("rp.open_jobs", LAST_WEEK, "due now", date(2026, 11, 18), owner=MANAGER.email)
    done = act("cx.open_complaints", AS_OF, "done", date(2026, 11, 16))  # due this week, done
    store.update_action(CEO, WHOLE_LANDLORD, done.id, 1, status="done")
    later = act("cx.open_overdue", AS_OF, "later", date(2026, 12, 10), owner=FD.email)
    team = act("dm.new_cases", AS_OF, "team", date(2026, 11, 22), owner=FD.email, team="RN1")  # the week's last day
    act("dm.open_emergency_cases", NEXT_WEEK, "raised next week", date(2026, 11, 20))
    dropped = act("rp.open_overdue_jobs", LAST_WEEK, "dropped", date(2026, 11, 10))
    store.update_action(CEO, WHOLE_LANDLORD, dropped.id, 1, status="dropped")

    tracker = store.action_tracker(CEO, WHOLE_LANDLORD, AS_OF)
    whats = lambda tracked: [t.action.what for t in tracked]  # noqa: E731
    assert whats(tracker.open) == ["overdue", "due now", "team", "later"]  # by due date
    assert whats(tracker.due_this_week) == ["done", "due now", "team"]  # 16-22 Nov, done ones included
    assert whats(tracker.overdue) == ["overdue"]
    assert {o: whats(ts) for o, ts in tracker.by_owner.items()} == {
        CEO.email: ["overdue"], FD.email: ["team", "later"], MANAGER.email: ["due now"]}
    assert list(tracker.by_owner) == sorted(tracker.by_owner)
    assert [(t.action.what, t.carried_forward) for t in tracker.open] == [
        ("overdue", True), ("due now", True), ("team", False), ("later", False)]
    assert tracker.open[0].commentary_id == overdue.id and tracker.open[1].commentary_id == due_now.id
    assert (tracker.open[2].figure, tracker.open[2].version) == (team.figure, 1)
    assert later.id in [t.commentary_id for t in tracker.open]

    last_week = store.action_tracker(CEO, WHOLE_LANDLORD, LAST_WEEK)  # 9-15 Nov: nothing raised later shows
    assert whats(last_week.open) == ["overdue", "due now"]
    assert whats(last_week.due_this_week) == ["dropped", "overdue"]  # by due date
    assert last_week.overdue == []

    next_week = store.action_tracker(CEO, WHOLE_LANDLORD, NEXT_WEEK)  # still open: carried forward again
    assert whats(next_week.overdue) == ["overdue", "due now", "raised next week", "team"]
    assert next_week.due_this_week == []

    managers = store.action_tracker(MANAGER, MANAGER_SCOPE, AS_OF)  # their teams' actions and their own
    assert whats(managers.open) == ["due now", "team"]


# Sign-off

def test_sign_off_is_refused_naming_each_red_kpi_without_a_landlord_commentary(store):
    red = ["rp.open_jobs", "dm.open_cases", "cx.open_complaints"]
    figures = [SignedFigure(k, 10, rag="red") for k in red] + [SignedFigure("rp.no_access_pct", 9.5, 19, 200, "red")]
    store.comment(CEO, WHOLE_LANDLORD, figure("dm.open_cases"), "Storm damage.")
    store.comment(MANAGER, MANAGER_SCOPE, figure("rp.open_jobs", team="RN1"), "A team's note is not the landlord's.")
    store.comment(CEO, WHOLE_LANDLORD, figure("cx.open_complaints", LAST_WEEK), "Last week's note.")
    with pytest.raises(SignOffRefused) as caught:
        store.sign_off(CEO, WHOLE_LANDLORD, AS_OF, PDF, "pack.pdf", figures, red)
    # In the order given; a figure signed off as red counts even when the caller left it out of the list.
    assert caught.value.missing == ["rp.open_jobs", "cx.open_complaints", "rp.no_access_pct"]
    assert str(caught.value) == ("the week ending 22 Nov 2026 cannot be signed off: no whole-landlord commentary on "
                                 "red KPIs rp.open_jobs, cx.open_complaints, rp.no_access_pct")
    assert store.signoff_for(AS_OF) is None

    for kpi_id in caught.value.missing:
        store.comment(CEO, WHOLE_LANDLORD, figure(kpi_id), f"Why {kpi_id} is red.")
    assert store.sign_off(CEO, WHOLE_LANDLORD, AS_OF, PDF, "pack.pdf", figures, red).as_of == AS_OF
    assert [e["action"] for e in audited()].count("review_signoff") == 1


def test_missing_commentary_keeps_the_order_given_and_counts_landlord_commentary_only():
    def c(kpi_id: str, text: str = "Explained.", team: str | None = None, region: str | None = None) -> Commentary:
        return Commentary(1, Figure(kpi_id, AS_OF, region, team), 1, text, CEO.email, datetime.now(UTC), None)

    red = ["cx.open_overdue", "dm.open_cases", "rp.open_jobs", "dm.open_cases", "cx.upheld_pct"]
    given = [c("dm.open_cases"), c("rp.open_jobs", team="RN1"), c("cx.upheld_pct", region="North"),
             c("cx.open_overdue", text="  ")]
    assert missing_commentary(red, given) == ["cx.open_overdue", "rp.open_jobs", "cx.upheld_pct"]
    assert missing_commentary([], given) == []
    assert missing_commentary(red, [c(k) for k in red]) == []


def test_a_sign_off_keeps_the_pack_unchanged_and_the_figures_and_a_week_is_signed_off_once(store):
    figures = [
        SignedFigure("dm.investigated_10wd_pct", 87.5, 7, 8, "red"),
        SignedFigure("dm.open_cases", 42),
        SignedFigure("cx.compensation_offered_gbp", 1250.75, rag="green"),
        SignedFigure("cx.stage2_on_time_pct", None, 0, 0, None),  # no cases due: no value, never a made-up 0
    ]
    store.comment(CEO, WHOLE_LANDLORD, figure("dm.investigated_10wd_pct"), "One case missed by a day.")
    signed = store.sign_off(CEO, WHOLE_LANDLORD, AS_OF, PDF, "pack-2026-11-22.pdf", figures,
                            ["dm.investigated_10wd_pct"])
    assert signed.pdf_sha256 == hashlib.sha256(PDF).hexdigest()
    assert (signed.signed_by, signed.pdf_filename) == (CEO.email, "pack-2026-11-22.pdf")
    assert store.signoff_for(AS_OF) == signed
    assert store.signed_off_pdf(ANALYST, WHOLE_LANDLORD, AS_OF) == PDF
    assert store.signed_off_figures(ANALYST, WHOLE_LANDLORD, AS_OF) == figures

    with pytest.raises(SignOffRefused) as caught:
        store.sign_off(FD, WHOLE_LANDLORD, AS_OF, PDF + b" ", "pack-again.pdf", figures[1:], [])
    assert str(caught.value).startswith(
        f"the week ending 22 Nov 2026 was already signed off by {CEO.email} at ")
    assert str(caught.value).endswith("; a week is signed off once")
    assert store.signoff_for(AS_OF) == signed
    assert store.signed_off_figures(CEO, WHOLE_LANDLORD, AS_OF) == figures

    assert store.signoff_for(LAST_WEEK) is None
    assert store.signed_off_figures(CEO, WHOLE_LANDLORD, LAST_WEEK) == []
    assert store.signed_off_pdf(CEO, WHOLE_LANDLORD, LAST_WEEK) is None
    with pytest.raises(ReviewPermissionError):
        store.signed_off_figures(MANAGER, MANAGER_SCOPE, AS_OF)
    with pytest.raises(ReviewInputError, match="not a PDF"):
        store.sign_off(CEO, WHOLE_LANDLORD, LAST_WEEK, b"<html>", "pack.html", figures[1:], [])

    with Session(store.engine) as session, session.begin():  # someone edits the archive behind the app's back
        session.execute(update(SignOffRow).values(pdf=PDF.replace(b"%%EOF", b"%%EOX")))
    with pytest.raises(ReviewError, match="no longer matches the SHA-256"):
        store.signed_off_pdf(CEO, WHOLE_LANDLORD, AS_OF)


# The audit trail

def test_every_write_is_audited_and_refused_writes_are_not(store):
    written = store.comment(MANAGER, MANAGER_SCOPE, figure(team="RN1"), "Two new cases.",
                            action=Action("Inspect both homes", MANAGER.email, date(2026, 11, 27)))
    store.comment(CEO, WHOLE_LANDLORD, figure(team="RN1"), "Two new cases, storm.", based_on=1)
    store.update_action(MANAGER, MANAGER_SCOPE, written.id, 2, status="done")
    with pytest.raises(ReviewPermissionError):
        store.comment(ANALYST, WHOLE_LANDLORD, figure(), "Refused.")
    with pytest.raises(EditConflict):
        store.comment(CEO, WHOLE_LANDLORD, figure(team="RN1"), "Stale.", based_on=1)
    store.sign_off(CEO, WHOLE_LANDLORD, AS_OF, PDF, "pack-2026-11-22.pdf", [SignedFigure("dm.open_cases", 3)], [])
    with pytest.raises(SignOffRefused):
        store.sign_off(CEO, WHOLE_LANDLORD, AS_OF, PDF, "pack-2026-11-22.pdf", [SignedFigure("dm.open_cases", 3)], [])

    entries = audited()
    assert [(e["action"], e["actor"], e["target"], e["as_of"], e["scope"]) for e in entries] == [
        ("review_comment", MANAGER.email, "dm.open_cases", "2026-11-22", {"region": None, "teams": ["RN1"]}),
        ("review_comment", CEO.email, "dm.open_cases", "2026-11-22", {"region": None, "teams": ["RN1"]}),
        ("review_action_update", MANAGER.email, "dm.open_cases", "2026-11-22", {"region": None, "teams": ["RN1"]}),
        ("review_signoff", CEO.email, "pack-2026-11-22.pdf", "2026-11-22", {"region": None, "teams": None}),
    ]
    assert all(e["chain_ok"] for e in entries)


# What restatements need (revision 0002)

def test_a_sign_off_keeps_the_rows_behind_each_figure_and_when_the_extract_was_taken(store):
    taken = datetime(2026, 11, 23, 6, tzinfo=UTC)
    at = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
    rows = {f"DM{i:06d}": f"{i:012x}" for i in range(500)}
    figures = [SignedFigure("dm.open_cases", 500, rows=rows), SignedFigure("rp.open_jobs", 7, rows={}),
               SignedFigure("cx.open_complaints", 3)]  # rows not kept: None, not empty
    signed = store.sign_off(CEO, WHOLE_LANDLORD, AS_OF, PDF, "pack.pdf", figures, [], at=at, extract_taken_at=taken)
    assert (signed.signed_at, signed.extract_taken_at) == (at, taken)
    assert store.signoffs() == [signed] == [store.signoff_for(AS_OF)]
    assert store.signed_off_rows(ANALYST, WHOLE_LANDLORD, AS_OF) == {
        "dm.open_cases": rows, "rp.open_jobs": {}, "cx.open_complaints": None}
    assert store.signed_off_figures(ANALYST, WHOLE_LANDLORD, AS_OF) == figures  # rows are not part of equality
    assert store.signed_off_rows(ANALYST, WHOLE_LANDLORD, LAST_WEEK) == {}
    with pytest.raises(ReviewPermissionError):
        store.signed_off_rows(MANAGER, MANAGER_SCOPE, AS_OF)
    later = store.sign_off(CEO, WHOLE_LANDLORD, NEXT_WEEK, PDF, "pack.pdf", figures[1:], [])
    assert [s.as_of for s in store.signoffs()] == [NEXT_WEEK, AS_OF] and later.extract_taken_at is None


def test_check_sign_off_refuses_as_sign_off_would_and_writes_nothing(store):
    with pytest.raises(ReviewPermissionError, match="only executives sign off"):
        store.check_sign_off(MANAGER, MANAGER_SCOPE, AS_OF, [])
    with pytest.raises(SignOffRefused) as caught:
        store.check_sign_off(CEO, WHOLE_LANDLORD, AS_OF, ["rp.open_jobs", "dm.open_cases"])
    assert caught.value.missing == ["rp.open_jobs", "dm.open_cases"]
    store.comment(CEO, WHOLE_LANDLORD, figure("rp.open_jobs"), "Backlog after the storm.")
    with pytest.raises(SignOffRefused, match="red KPI dm.open_cases$"):
        store.check_sign_off(CEO, WHOLE_LANDLORD, AS_OF, ["rp.open_jobs", "dm.open_cases"])
    store.check_sign_off(CEO, WHOLE_LANDLORD, AS_OF, ["rp.open_jobs"])  # nothing missing: no exception
    store.sign_off(CEO, WHOLE_LANDLORD, AS_OF, PDF, "pack.pdf", [SignedFigure("rp.open_jobs", 9, rag="red")], [])
    with pytest.raises(SignOffRefused, match="already signed off"):
        store.check_sign_off(CEO, WHOLE_LANDLORD, AS_OF, [])
    assert [e["action"] for e in audited()] == ["review_comment", "review_signoff"]


def test_a_week_signed_off_before_revision_0002_keeps_its_figures_without_rows(db_url):
    engine = make_engine(db_url)
    with engine.begin() as conn:
        command.upgrade(alembic_config(conn), "0001")
        conn.execute(sql("INSERT INTO signoffs (as_of, signed_by, signed_at, pdf_filename, pdf_sha256, pdf) "
                          "VALUES (:as_of, :who, :at, 'pack.pdf', :sha, :pdf)"),
                     {"as_of": AS_OF, "who": CEO.email, "at": datetime(2026, 11, 23, 9), "sha": "0" * 64, "pdf": PDF})
        conn.execute(sql("INSERT INTO signoff_figures (signoff_id, kpi_id, value) VALUES (1, 'dm.open_cases', 42)"))
    store = open_store(db_url)
    assert store.signed_off_figures(CEO, WHOLE_LANDLORD, AS_OF) == [SignedFigure("dm.open_cases", 42)]
    assert store.signed_off_rows(CEO, WHOLE_LANDLORD, AS_OF) == {"dm.open_cases": None}
    assert store.signoff_for(AS_OF).extract_taken_at is None
    store.close()
    engine.dispose()
