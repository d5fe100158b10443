"""Who sees what: roles, scope narrowing, redaction and `--as-user` (the audit trail: test_audit.py)."""

import json
import os
from datetime import datetime

import polars as pl
import pytest
from conftest import command
from extract_factory import write_extract

from housing_assurance import audit
from housing_assurance.access import (
    AccessError,
    find_user,
    load_users,
    managers_without_teams,
    redact,
    user_scope,
)
from housing_assurance.db import open_extract
from housing_assurance.scope import WHOLE_LANDLORD, Scope, narrow

ACCESS = """
[[user]]
email = "Chief.Executive@example.org"
role = "executive"

[[user]]
email = "north.manager@example.org"
role = "manager"

[[user]]
email = "analyst@example.org"
role = "analyst"
"""


@pytest.fixture
def access_file(tmp_path, monkeypatch):
    path = tmp_path / "access.toml"
    path.write_text(ACCESS)
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(path))
    return path


@pytest.fixture
def two_region_extract(tmp_path):
    return write_extract(
        tmp_path / "extract",
        properties=[{"property_id": "P1", "region": "North"}, {"property_id": "P2", "region": "South"}],
        teams=[{"team_id": "T1", "region": "North", "manager_email": "North.Manager@example.org"},
               {"team_id": "T2", "region": "North", "manager_email": "north.manager@example.org"},
               {"team_id": "T3", "region": "South", "manager_email": "south@example.org"}],
        damp_mould_cases=[
            {"case_id": "D1", "property_id": "P1", "team_id": "T1", "reported_at": datetime(2026, 11, 17, 9)},
            {"case_id": "D2", "property_id": "P1", "team_id": "T2", "reported_at": datetime(2026, 11, 18, 9)},
            {"case_id": "D3", "property_id": "P2", "team_id": "T3", "reported_at": datetime(2026, 11, 18, 9)},
        ])


def test_users_roles_and_case_insensitive_emails(access_file):
    users = load_users()
    assert find_user("chief.executive@EXAMPLE.org", users).role.name == "executive"
    with pytest.raises(AccessError, match="not listed"):
        find_user("stranger@example.org", users)


def test_malformed_access_file_is_an_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[[user]]\nemail = "x@example.org"\nrole = "superuser"\n')
    with pytest.raises(AccessError, match="role"):
        load_users(bad)
    with pytest.raises(AccessError, match="no access file"):
        load_users(tmp_path / "missing.toml")


def entries(*users: str) -> str:
    return "\n".join(f"[[user]]\n{u}\n" for u in users)


FINE = ['email = "a@example.org"\nrole = "executive"', 'email = "b@example.org"\nrole = "analyst"']


@pytest.mark.parametrize(("third", "problem"), [
    ('email = "x@y.org"\nrole = "admin"',
     'user entry 3 (x@y.org): role "admin" is not one of executive, manager, analyst, administrator'),
    ('role = "executive"', "user entry 3: no email"),
    ('email = "  "\nrole = "executive"', "user entry 3: no email"),
    ('email = "x@y.org"', "user entry 3 (x@y.org): no role (one of executive, manager, analyst, administrator)"),
    ('email = "A@Example.org "\nrole = "manager"',
     "user entry 3 (a@example.org): the same e-mail as entry 1 (each person once, with one role)"),
    ('email = "x@y.org"\nrole = "manager"\nteam = "T1"',
     'user entry 3 (x@y.org): unknown key "team" (an entry has only email and role)'),
    ('email = "x.y.org"\nrole = "manager"', 'user entry 3 (x.y.org): "x.y.org" is not an e-mail address'),
])
def test_each_problem_in_the_access_file_is_one_line_naming_file_and_entry(tmp_path, monkeypatch, third, problem):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "settings").mkdir()
    path = tmp_path / "settings" / "access.toml"
    path.write_text(entries(*FINE, third))
    with pytest.raises(AccessError) as raised:
        load_users(path)
    assert str(raised.value) == f"settings/access.toml: {problem}"


def test_a_duplicated_email_is_refused_not_silently_overwritten(tmp_path):
    path = tmp_path / "access.toml"
    path.write_text(entries('email = "boss@example.org"\nrole = "analyst"',
                            'email = "Boss@Example.org"\nrole = "executive"'))
    with pytest.raises(AccessError, match=r"user entry 2 \(boss@example.org\): the same e-mail as entry 1"):
        load_users(path)


def test_access_path_that_is_a_folder_or_unreadable_is_one_line(tmp_path):
    with pytest.raises(AccessError, match="is a folder, not an access file") as raised:
        load_users(tmp_path)
    assert str(tmp_path) in str(raised.value) and "\n" not in str(raised.value)
    (tmp_path / "a_file").write_text("")
    with pytest.raises(AccessError, match="cannot be read"):
        load_users(tmp_path / "a_file" / "access.toml")  # a path through a file
    (tmp_path / "latin1.toml").write_bytes('[[user]]\nemail = "caf\xe9@example.org"\n'.encode("latin-1"))
    with pytest.raises(AccessError, match="is not UTF-8 text"):
        load_users(tmp_path / "latin1.toml")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a file whatever its permissions")
def test_access_file_without_read_permission_is_one_line(tmp_path):
    path = tmp_path / "access.toml"
    path.write_text(entries(*FINE))
    path.chmod(0)
    with pytest.raises(AccessError, match="cannot be read"):
        load_users(path)


def test_a_misspelt_section_is_refused(tmp_path):
    path = tmp_path / "access.toml"
    path.write_text("[[users]]\nemail = \"a@example.org\"\nrole = \"executive\"\n")
    with pytest.raises(AccessError, match='unknown section "users"'):
        load_users(path)


def test_users_come_only_from_the_operator_never_from_the_extract(tmp_path, monkeypatch, two_region_extract):
    """An extract that ships its own access.toml does not decide who reads it (settings has none here)."""
    (two_region_extract / "access.toml").write_text(entries('email = "intruder@example.org"\nrole = "executive"'))
    monkeypatch.delenv("HOUSING_ASSURANCE_ACCESS", raising=False)
    monkeypatch.setenv("HOUSING_ASSURANCE_SETTINGS", str(tmp_path / "settings"))
    with pytest.raises(AccessError, match="no access file at"):
        load_users()
    common = ["--data", str(two_region_extract), "--as-of", "2026-11-22", "--kpi", "dm.new_cases", "--json"]
    intruder = command("cases", *common, "--as-user", "intruder@example.org")
    assert intruder.returncode == 1 and intruder.stdout == ""
    assert intruder.stderr.startswith("error: no access file at") and "Traceback" not in intruder.stderr
    assert audit.read_entries() == []


def test_cli_shows_a_bad_access_file_as_one_error_line(tmp_path, monkeypatch, two_region_extract):
    path = tmp_path / "access.toml"
    path.write_text(entries('email = "north.manager@example.org"\nrole = "manager"',
                            'email = "North.Manager@example.org"\nrole = "executive"'))
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(path))
    done = command("cases", "--data", str(two_region_extract), "--as-of", "2026-11-22", "--kpi", "dm.new_cases",
                   "--as-user", "north.manager@example.org")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(f"error: {path}: user entry 2 ")


def test_managers_no_team_names_are_listed_and_see_nothing(tmp_path, monkeypatch, two_region_extract):
    path = tmp_path / "access.toml"
    path.write_text(entries('email = "north.manager@example.org"\nrole = "manager"',
                            'email = "gone@example.org"\nrole = "manager"',
                            'email = "chief@example.org"\nrole = "executive"'))
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(path))
    extract = open_extract(two_region_extract)
    assert managers_without_teams(extract, load_users()) == ["gone@example.org"]
    assert user_scope(extract, find_user("gone@example.org")) == Scope(teams=())
    done = command("cases", "--data", str(two_region_extract), "--as-of", "2026-11-22", "--kpi", "dm.new_cases",
                   "--json", "--as-user", "gone@example.org")
    assert done.returncode == 0 and json.loads(done.stdout) == []
    assert "note: No team in this extract names gone@example.org as its manager" in done.stderr


def test_manager_sees_their_teams_and_the_narrower_scope_applies(access_file, two_region_extract):
    extract = open_extract(two_region_extract)
    manager = find_user("north.manager@example.org")
    allowed = user_scope(extract, manager)
    assert allowed == Scope(teams=("T1", "T2"))
    assert user_scope(extract, find_user("analyst@example.org")) == WHOLE_LANDLORD
    assert narrow(allowed, team="T1") == Scope(teams=("T1",))
    assert narrow(allowed, team="T3") == Scope(teams=())  # outside their scope: nothing
    assert narrow(allowed, region="South") == Scope(region="South", teams=("T1", "T2"))
    assert narrow(WHOLE_LANDLORD, team="T3") == Scope(teams=("T3",))
    # `kpis --json` names the scope its figures are for, not the arguments: a manager's teams without
    # --team (it said region null, team null, which reads as the whole landlord), or the one team asked for.
    common = ["--data", str(two_region_extract), "--as-of", "2026-11-22", "--json", "--as-user", manager.email]
    assert json.loads(command("kpis", *common).stdout)["scope"] == {"region": None, "team": ["T1", "T2"]}
    assert json.loads(command("kpis", *common, "--team", "T1").stdout)["scope"] == {"region": None, "team": "T1"}
    assert json.loads(command("kpis", *common[:-2], "--region", "North").stdout)["scope"] == {
        "region": "North", "team": None}


def test_vulnerability_details_hidden_from_analysts(access_file):
    frame = pl.DataFrame({"id": ["V1"], "vulnerability_type": ["mental_health"], "reasonable_adjustment": ["x"]})
    # One rule for the app and the command line: the columns are left out, not overwritten.
    assert redact(frame, find_user("analyst@example.org")).columns == ["id"]
    assert redact(frame, find_user("chief.executive@example.org"))["vulnerability_type"][0] == "mental_health"
    assert redact(frame, find_user("chief.executive@example.org"), details_here=False).columns == ["id"]
    assert redact(frame, None).columns == ["id"]


def test_cli_as_user_scopes_cases_and_refuses_strangers(access_file, two_region_extract):
    common = ["--data", str(two_region_extract), "--as-of", "2026-11-22", "--kpi", "dm.new_cases", "--json"]
    manager = command("cases", *common, "--as-user", "north.manager@example.org")
    assert manager.returncode == 0, manager.stderr
    assert sorted(r["id"] for r in json.loads(manager.stdout)) == ["D1", "D2"]
    narrowed = command("cases", *common, "--as-user", "north.manager@example.org", "--team", "T3")
    assert json.loads(narrowed.stdout) == []
    stranger = command("cases", *common, "--as-user", "stranger@example.org")
    assert stranger.returncode == 1
    assert stranger.stdout == ""
    assert "not listed" in stranger.stderr and "Traceback" not in stranger.stderr
    entries = audit.read_entries()  # who ran the command and what else is logged: tests/test_audit.py
    assert [e["on_behalf_of"] for e in entries] == ["north.manager@example.org"] * 2
