"""Who gets in: demo mode only when the operator says so, users only from the operator's access file,
and sign-in exercised for real (a local OpenID Connect provider, a real server, Debian's Chromium).

The AppTest tests fake the signed-in user (`at.user`); the browser tests at the end do not: they sign
in through oidc-provider-mock's authorization page, as a person would.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import urllib.request
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from browser_support import ARGS, CHROMIUM, WAIT, free_port, needs_chromium, serve, stop, wait_until_up
from conftest import as_read, no_error
from extract_factory import write_extract
from streamlit.testing.v1 import AppTest

from housing_assurance.app import data, signin
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
    """The demo landlord, small: 300 homes, one year. It keeps the demo's name and ships its access.toml, in
    which it also names an intruder as executive: the operator's access file is the only one that counts."""
    from housing_assurance.demo import generate

    folder = tmp_path_factory.mktemp("signin") / "demo"
    generate(folder, homes=300, years=1, seed=5, end=END)
    with (folder / "access.toml").open("a") as f:
        f.write(f'\n[[user]]\nemail = "{INTRUDER[1]}"\nrole = "executive"\n')
    return folder


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    """Nothing from the developer's shell: no demo mode, no access file, settings in an empty folder."""
    monkeypatch.delenv(signin.DEMO_MODE_ENV, raising=False)
    monkeypatch.delenv("HOUSING_ASSURANCE_ACCESS", raising=False)
    monkeypatch.setenv("HOUSING_ASSURANCE_SETTINGS", str(tmp_path / "settings"))


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
    assert no_error(at), [e.message for e in at.exception]
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
    monkeypatch.setenv(data.DATA_ENV, str(folder))
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
    monkeypatch.setenv(data.DATA_ENV, str(intruders_extract))
    at = run_app("intruder@example.org")
    assert [as_read(e.value) for e in at.error] == [
        f"Access is not set up: no access file at {os.environ['HOUSING_ASSURANCE_SETTINGS']}/access.toml: "
        "nobody may see data until it lists them"]
    assert shows_no_data(at)
    monkeypatch.setenv(signin.DEMO_MODE_ENV, "1")  # demo mode does not read the extract's users either
    at = run_app()
    assert len(at.error) == 1 and "no access file" in as_read(at.error[0].value)
    assert shows_no_data(at)


def test_a_bad_access_file_is_one_error_in_the_app(small_demo, tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(small_demo))
    path = access(tmp_path / "access.toml", ("chief.executive@example.org", "analyst"),
                  ("Chief.Executive@example.org", "executive"))
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(path))
    at = run_app("chief.executive@example.org")
    assert [as_read(e.value) for e in at.error] == [
        f"Access is not set up: {path}: user entry 2 (chief.executive@example.org): the same e-mail as entry 1 "
        "(each person once, with one role)"]
    assert shows_no_data(at)
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(tmp_path))  # a folder, not a file
    at = run_app("chief.executive@example.org")
    assert len(at.error) == 1 and "is a folder, not an access file" in as_read(at.error[0].value)
    assert shows_no_data(at)


def test_a_manager_no_team_names_signs_in_and_is_told_why_there_is_nothing(small_demo, tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(small_demo))
    path = access(tmp_path / "access.toml", ("left.last.year@example.org", "manager"))
    monkeypatch.setenv("HOUSING_ASSURANCE_ACCESS", str(path))
    at = run_app("left.last.year@example.org")
    assert not at.error
    assert [as_read(w.value) for w in at.warning] == [
        "No team in this extract names left.last.year@example.org as its manager, so there is nothing to show. "
        "If that is wrong, ask whoever produces the extract to check the teams' manager_email."]
    assert not at.metric and not at.dataframe


# ---------------------------------------------------------------------------------------- real sign-in

# Subjects are opaque ids, as real providers give: the app must go by the e-mail claim, not the subject.
EXECUTIVE = ("sub-exec-7f3a", "Chief.Executive@Example.org")  # claim in mixed case: compared without case
INTRUDER = ("sub-intruder-0b5e", "intruder@example.org")  # named as executive by the served extract itself


@pytest.fixture(scope="module")
def people(small_demo) -> dict[str, tuple[str, str]]:
    """Subject and e-mail claim of: the executive, a manager of exactly one team, and the extract's intruder."""
    teams = pl.read_parquet(small_demo / "teams.parquet")
    one_team = teams.group_by("manager_email").len().filter(pl.col("len") == 1).sort("manager_email")
    manager = one_team["manager_email"][0]
    return {"executive": EXECUTIVE, "manager": ("sub-manager-4d21", manager),
            "intruder": INTRUDER}


@pytest.fixture(scope="module")
def provider(tmp_path_factory, people) -> str:
    """oidc-provider-mock on a free port, each test user's e-mail claim set through its /users API."""
    port = free_port()
    log = (tmp_path_factory.mktemp("oidc-log") / "provider.log").open("w")
    proc = subprocess.Popen([str(Path(sys.executable).parent / "oidc-provider-mock"), "--port", str(port)],
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/.well-known/openid-configuration", proc, "oidc-provider-mock")
        for sub, email in people.values():  # PUT /users/SUB sets the claims the ID token carries
            body = json.dumps({"email": email, "email_verified": True}).encode()
            put = urllib.request.Request(f"{base}/users/{sub}", data=body, method="PUT",
                                         headers={"Content-Type": "application/json"})
            urllib.request.urlopen(put, timeout=10).close()
        yield base
    finally:
        stop(proc)
        log.close()


@pytest.fixture(scope="module")
def oidc_settings(tmp_path_factory, people) -> Path:
    """The operator's settings folder, as in production: the repository's targets and closures, and an
    access.toml naming the executive and the manager only."""
    settings = tmp_path_factory.mktemp("oidc-settings")
    for toml in (ROOT / "settings").glob("*.toml"):
        shutil.copy(toml, settings)
    access(settings / "access.toml", (people["executive"][1].lower(), "executive"), (people["manager"][1], "manager"))
    return settings


@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory, small_demo, provider, oidc_settings) -> str:
    """`streamlit run app.py` with sign-in configured through its own secrets file (--secrets.files, never
    the repository's .streamlit/), serving the small demo (whose own access.toml names an intruder), from the
    store the tests above prepared."""
    here = tmp_path_factory.mktemp("oidc-app")
    port = free_port()
    base = f"http://localhost:{port}"  # the redirect_uri's host: the sign-in cookies are set for it
    secrets_file = here / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        f'redirect_uri = "{base}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        'client_id = "housing-assurance-test"\n'
        f'client_secret = "{secrets.token_hex(16)}"\n'
        f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n')
    env = {k: v for k, v in os.environ.items() if k not in (signin.DEMO_MODE_ENV, "HOUSING_ASSURANCE_ACCESS")}
    env.update({data.DATA_ENV: str(small_demo), "HOUSING_ASSURANCE_SETTINGS": str(oidc_settings),
                "HOUSING_ASSURANCE_AUDIT": str(here / "audit.jsonl")})
    with serve(env, here, port, base, "--secrets.files", str(secrets_file)):
        yield base


@pytest.fixture(scope="module")
def chromium():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=WAIT)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def tab(chromium):
    """A fresh browser profile per test: no cookie from another test's sign-in."""
    context = chromium.new_context(viewport={"width": 1440, "height": 1000})
    context.set_default_timeout(WAIT)
    yield context.new_page()
    context.close()


def sign_in(page, base: str, subject: str) -> None:
    """Open the app, press Sign in, type the subject on the provider's page, come back to the app."""
    from playwright.sync_api import expect

    page.goto(base + "/")
    expect(page.get_by_text("Please sign in with your work account")).to_be_visible()
    assert page.locator('[data-testid="stMetricValue"]').count() == 0
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/oauth2/authorize"))
    page.fill('input[name="sub"]', subject)
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(re.compile(rf"^{re.escape(base)}/"))


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def team_options(page) -> list[str]:
    """The sidebar team picker's choices, as the user sees them."""
    sidebar(page).locator('[data-testid="stSelectbox"]').filter(has_text="Team").click()
    options = page.get_by_role("option")
    options.first.wait_for()
    names = [t.strip() for t in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return names


@pytest.mark.browser
@needs_chromium
def test_executive_signs_in_sees_the_whole_landlord_and_signing_out_ends_the_session(oidc_app, tab, people,
                                                                                    small_demo):
    """What an executive does: sign in, see the whole landlord (every team to pick from), sign out; after the
    provider's end-session page the app asks them to sign in again, also after a reload, with no sign-in
    cookie left."""
    from playwright.sync_api import expect

    sign_in(tab, oidc_app, people["executive"][0])
    expect(tab.get_by_role("heading", name="Executive overview")).to_be_visible()
    expect(tab.locator('[data-testid="stMetricValue"]').first).to_be_visible()
    expect(tab.get_by_text("Whole landlord", exact=True)).to_be_visible()
    expect(sidebar(tab).get_by_text("Signed in as chief.executive@example.org (executive)")).to_be_visible()
    teams = pl.read_parquet(small_demo / "teams.parquet")["team_name"].to_list()
    assert sorted(team_options(tab)) == sorted(["All teams", *teams])

    sidebar(tab).get_by_role("button", name="Sign out").click()
    # The provider's end-session page (oidc-provider-mock asks to confirm), then back to the app.
    tab.wait_for_url(re.compile(r"/oauth2/end_session"))
    tab.get_by_role("button", name="End session").click()
    tab.wait_for_url(re.compile(rf"^{re.escape(oidc_app)}/"))
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
    tab.reload()
    expect(tab.get_by_role("button", name="Sign in")).to_be_visible()
    expect(tab.get_by_text("Please sign in with your work account")).to_be_visible()
    assert tab.locator('[data-testid="stMetricValue"]').count() == 0
    assert not [c for c in tab.context.cookies() if c["name"].startswith("_streamlit_user")]


@pytest.mark.browser
@needs_chromium
def test_manager_signs_in_and_picks_only_among_their_own_teams(oidc_app, tab, people, small_demo):
    from playwright.sync_api import expect

    email = people["manager"][1]
    sign_in(tab, oidc_app, people["manager"][0])
    expect(tab.get_by_role("heading", name="Executive overview")).to_be_visible()
    expect(sidebar(tab).get_by_text(f"Signed in as {email} (manager)")).to_be_visible()
    teams = pl.read_parquet(small_demo / "teams.parquet")
    own = teams.filter(pl.col("manager_email") == email)["team_name"].to_list()
    assert len(own) == 1 and len(teams) > 1
    assert team_options(tab) == ["All my teams", *own]


@pytest.mark.browser
@needs_chromium
def test_the_extracts_own_users_are_refused_and_without_the_operators_file_nobody_gets_in(oidc_app, oidc_settings,
                                                                                       tab, people):
    """The intruder is named as executive by the served extract's own access.toml, not by the operator's:
    refused. With the operator's access.toml gone, the extract's file is not used instead: the same session,
    reloaded, is told access is not set up, and still sees nothing."""
    from playwright.sync_api import expect

    def sees_nothing() -> None:
        assert tab.locator('[data-testid="stMetricValue"]').count() == 0
        assert tab.locator('[data-testid="stDataFrame"]').count() == 0
        assert tab.get_by_role("heading", name="Executive overview").count() == 0
        assert tab.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').count() == 0

    sign_in(tab, oidc_app, people["intruder"][0])
    expect(tab.get_by_text(f"You are signed in as {INTRUDER[1]}, but this address has not been given "
                            "access.")).to_be_visible()
    expect(tab.get_by_role("button", name="Sign out")).to_be_visible()
    sees_nothing()

    operators = oidc_settings / "access.toml"
    aside = operators.rename(oidc_settings / "access.toml.aside")
    try:
        tab.reload()
        expect(tab.get_by_text(f"Access is not set up: no access file at {operators}")).to_be_visible()
        sees_nothing()
    finally:
        aside.rename(operators)
