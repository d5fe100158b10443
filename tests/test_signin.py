"""Who gets in: demo mode only when the operator says so, users only from the operator's access file."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from extract_factory import write_extract
from streamlit.testing.v1 import AppTest

from housing_assurance import app_support as app
from housing_assurance import signin
from housing_assurance.demo import LANDLORD as DEMO_LANDLORD

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
END = date(2026, 11, 23)
TIMEOUT = 60
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": secrets.token_hex(16),
        "client_id": "x", "client_secret": "x",
        "server_metadata_url": "http://localhost:9400/.well-known/openid-configuration"}


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory) -> Path:
    """The demo landlord, small: 300 homes, one year (it keeps the demo's name and ships its access.toml)."""
    from housing_assurance.demo import generate

    folder = tmp_path_factory.mktemp("signin") / "demo"
    generate(folder, homes=300, years=1, seed=5, end=END)
    return folder


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    """Nothing from the developer's shell: no demo mode, no access file, settings in an empty folder."""
    monkeypatch.delenv(signin.DEMO_MODE_ENV, raising=False)
    monkeypatch.delenv("HOUSING_ASSURANCE_ACCESS", raising=False)
    monkeypatch.setenv("HOUSING_ASSURANCE_SETTINGS", str(tmp_path / "settings"))
    monkeypatch.setenv(app.PREFETCH_ENV, "0")


def access(path: Path, *users: tuple[str, str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f'[[user]]\nemail = "{e}"\nrole = "{r}"\n\n' for e, r in users))
    return path


def run_app(user: str | None = None) -> AppTest:
    """One run of the app, signed in as `user` through a faked [auth] section when given."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    if user is not None:
        at.secrets["auth"] = AUTH
        at.user = {"is_logged_in": True, "email": user}
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def shows_no_data(at: AppTest) -> bool:
    return not at.metric and not at.dataframe and not at.sidebar.selectbox and not at.sidebar.markdown


# ---------------------------------------------------------------------------------------- demo mode


@pytest.mark.parametrize(("value", "on"), [(None, False), ("0", False), ("", False), ("yes", False), ("1", True)])
def test_demo_mode_is_on_only_when_the_operator_sets_it(monkeypatch, value, on):
    if value is not None:
        monkeypatch.setenv(signin.DEMO_MODE_ENV, value)
    assert signin.demo_mode() is on


@pytest.mark.parametrize("named_by", ["manifest", "folder"])
def test_an_extract_named_like_the_demo_is_never_served_without_sign_in(small_demo, tmp_path, monkeypatch,
                                                                        named_by):
    """A production extract that kept the demo's name (in its manifest, or as its folder's name), with real
    users configured and no sign-in set up: one clear error, no demo mode, no data."""
    folder = small_demo
    if named_by == "folder":
        folder = tmp_path / DEMO_LANDLORD
        shutil.copytree(small_demo, folder)
        manifest = json.loads((folder / "manifest.json").read_text())
        del manifest["landlord"]
        (folder / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setenv(app.DATA_ENV, str(folder))
    access(tmp_path / "settings" / "access.toml", ("chief.executive@landlord.example", "executive"))
    at = run_app()
    assert not any("Demo mode" in w.value for w in at.sidebar.warning)
    assert [e.value for e in at.error] == [
        "Sign-in is not configured, so no data is shown. Add an [auth] section to .streamlit/secrets.toml "
        "(see docs/security.md). To try the built-in demo, use `make run`."]
    assert shows_no_data(at)


def test_make_run_switches_demo_mode_on_only_for_the_built_in_demo():
    def run_line(*args: str) -> str:
        done = subprocess.run(["make", "-n", "run", *args], cwd=ROOT, capture_output=True, text=True, check=True)
        return next(line for line in done.stdout.splitlines() if "streamlit run app.py" in line)

    demo = run_line()
    assert "HOUSING_ASSURANCE_DEMO_MODE=1" in demo
    assert f"HOUSING_ASSURANCE_ACCESS={ROOT}/data/demo/access.toml" in demo
    for other in ("DATA=/srv/extracts/latest", "DATA=data/landlord"):
        line = run_line(other)
        assert "HOUSING_ASSURANCE_DEMO_MODE" not in line and "HOUSING_ASSURANCE_ACCESS" not in line, other


# ---------------------------------------------------------------------------------------- users


@pytest.fixture
def intruders_extract(tmp_path) -> Path:
    """An extract that names its own executive in an access.toml of its own."""
    folder = write_extract(tmp_path / "extract")
    access(folder / "access.toml", ("intruder@example.org", "executive"))
    return folder


def test_an_extracts_own_access_file_lets_nobody_in(intruders_extract, monkeypatch):
    monkeypatch.setenv(app.DATA_ENV, str(intruders_extract))
    at = run_app("intruder@example.org")
    assert [e.value for e in at.error] == [
        f"Access is not set up: no access file at {os.environ['HOUSING_ASSURANCE_SETTINGS']}/access.toml: "
        "nobody may see data until it lists them"]
    assert shows_no_data(at)
    monkeypatch.setenv(signin.DEMO_MODE_ENV, "1")  # demo mode does not read the extract's users either
    at = run_app()
    assert len(at.error) == 1 and "no access file" in at.error[0].value
    assert shows_no_data(at)


def test_a_bad_access_file_is_one_error_in_the_app(small_demo, tmp_path, monkeypatch):
    monkeypatch.setenv(app.DATA_ENV, str(small_demo))
    path = access(tmp_path / "access.toml", ("chief.executive@example.org", "analyst"),
                  ("Chief.Executive@example.org", "executive"))
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(path))
    at = run_app("chief.executive@example.org")
    assert [e.value for e in at.error] == [
        f"Access is not set up: {path}: user entry 2 (chief.executive@example.org): the same e-mail as entry 1 "
        "(each person once, with one role)"]
    assert shows_no_data(at)
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(tmp_path))  # a folder, not a file
    at = run_app("chief.executive@example.org")
    assert len(at.error) == 1 and "is a folder, not an access file" in at.error[0].value
    assert shows_no_data(at)


def test_a_manager_no_team_names_signs_in_and_is_told_why_there_is_nothing(small_demo, tmp_path, monkeypatch):
    monkeypatch.setenv(app.DATA_ENV, str(small_demo))
    path = access(tmp_path / "access.toml", ("left.last.year@example.org", "manager"))
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(path))
    at = run_app("left.last.year@example.org")
    assert not at.error
    assert [w.value for w in at.warning] == [
        "No team in this extract names left.last.year@example.org as its manager, so there is nothing to show. "
        "If that is wrong, ask whoever produces the extract to check the teams' manager_email."]
    assert not at.metric and not at.dataframe
