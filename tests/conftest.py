"""What every test shares: the audit trail in a temporary file with a test key (so no key file is made
next to a log), the suite's one demo landlord, and the review database on SQLite and on a real PostgreSQL."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import glob
import hashlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

# The main module this test process started with. Streamlit's AppTest installs the script it ran (app.py) as
# __main__, and a process started with multiprocessing's "spawn" runs its parent's __main__ again first.
PROCESS_MAIN = sys.modules["__main__"]
AUDIT_TEST_KEY = "test-audit-key-not-for-production"
ROOT = Path(__file__).resolve().parent.parent
# The suite's demo landlord: three years (homes at risk learns from a year and replays six past dates),
# small enough to generate in a few seconds. Extracted Monday 23 Nov 2026 06:00.
DEMO_ARGS = {"homes": 2000, "years": 3, "seed": 5, "end": date(2026, 11, 23)}
DEMO_END = DEMO_ARGS["end"]
DEMO_AS_OF = date(2026, 11, 22)  # the latest complete week when the extract was taken


# The longest modules first, so that the two workers of `make test` (-n 2 --dist loadfile: a module is one
# unit of work) finish together: pytest-xdist would otherwise hand out the modules with the most tests first,
# leaving long modules of few tests (one browser test of half a minute) for the end, when the other worker
# has nothing left to do. Seconds of a 2-worker run, measured; modules not named keep their order after these.
# The second worker starts with a module that needs no demo (test_hardening), rather than wait while the
# first one prepares the demo's store.
LONGEST_FIRST = ["test_app", "test_hardening", "test_review_cli", "test_pack", "test_signin", "test_store",
                 "test_kpis_on_demo", "test_validate", "test_hostile", "test_pack_compare", "test_app_access",
                 "test_browser", "test_risk", "test_audit", "test_kpis_repairs", "test_tsm",
                 "test_access", "test_due", "test_kpis_complaints", "test_review_store", "test_review_experience"]


def pytest_configure(config):
    """Modules are handed to the workers in the order collected (below), not by their number of tests."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False
    if not hasattr(config, "workerinput"):  # once a run, before any test process starts
        _remove_stale_test_stores()


def _remove_stale_test_stores() -> None:
    """The stores of the extracts tests make in their temporary folders are never asked for again (a store's
    name carries its folder's): without this, .tmp/test-stores grows by hundreds of megabytes a run. A store
    untouched for a day goes; the demo's, touched by every run that uses it, stays."""
    folder = ROOT / ".tmp" / "test-stores"
    cutoff = time.time() - 24 * 3600
    for path in folder.iterdir() if folder.is_dir() else ():
        if path.is_file() and path.suffix != ".lock" and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(Path(item.nodeid.split("::")[0]).stem, len(rank)))


@pytest.fixture(scope="session", autouse=True)
def _stores_in_tmp():
    """Stores prepared by tests (and by the app under test) go to .tmp/test-stores, never data/stores."""
    os.environ["HOUSING_ASSURANCE_CACHE"] = str(ROOT / ".tmp" / "test-stores")


@pytest.fixture(scope="session", autouse=True)
def _components_looked_for_once():
    """Each new AppTest has Streamlit look through every installed package's metadata for custom
    components (0.14 s for the 91 packages here, some 200 AppTests a run); the installed packages do not
    change while the suite runs, so each test process looks once."""
    from streamlit.components.v2 import manifest_scanner

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(manifest_scanner, "scan_component_manifests",
                      functools.cache(manifest_scanner.scan_component_manifests))
        yield


@pytest.fixture(scope="session", autouse=True)
def _review_database_in_tmp(tmp_path_factory):
    """The review database of the tests (and of the app under test) is a throwaway SQLite file, never
    data/review.sqlite3 nor a database HOUSING_ASSURANCE_DB names outside the tests."""
    os.environ["HOUSING_ASSURANCE_DB"] = f"sqlite:///{tmp_path_factory.mktemp('review') / 'review.sqlite3'}"


@pytest.fixture(autouse=True)
def _audit_to_tmp(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("HOUSING_ASSURANCE_AUDIT", str(tmp_path_factory.mktemp("audit") / "audit.jsonl"))
    monkeypatch.setenv("HOUSING_ASSURANCE_AUDIT_KEY", AUDIT_TEST_KEY)
    monkeypatch.delenv("HOUSING_ASSURANCE_AUDIT_KEY_FILE", raising=False)


def _generator_version() -> str:
    """A hash of everything the demo's files depend on: a changed generator means a new demo."""
    digest = hashlib.sha256(repr(sorted(DEMO_ARGS.items())).encode())
    package = ROOT / "housing_assurance"
    for path in sorted([*package.glob("demo/*.py"), package / "contract.py", package / "workdays.py",
                        package / "clocks.py"]):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def demo_dir() -> Path:
    """The suite's one demo extract. Generated once per version of the generator into .tmp/ and shared by
    every test process (the first one generates it under a lock; the others wait and read it). Tests only
    read it: a test that changes an extract copies it first."""
    from housing_assurance.demo import generate

    cache = ROOT / ".tmp" / "test-demo"
    cache.mkdir(parents=True, exist_ok=True)
    folder = cache / _generator_version()
    with (cache / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "manifest.json").exists():
            shutil.rmtree(folder, ignore_errors=True)
            partial = cache / f"partial-{folder.name}"
            shutil.rmtree(partial, ignore_errors=True)
            generate(partial, **DEMO_ARGS)
            partial.rename(folder)
    return folder


@pytest.fixture(scope="session")
def demo_store(demo_dir) -> Path:
    """The demo's prepared store (prepared once, like the demo, and shared by every test process)."""
    from housing_assurance.store import store_for

    store = store_for(demo_dir)
    os.utime(store)  # in use: kept by _remove_stale_test_stores
    return store


@pytest.fixture(scope="session")
def demo_extract(demo_store):
    """The demo as every command and the app read it: its prepared store, opened read-only."""
    from housing_assurance.store import open_store

    return open_store(demo_store)


def _run_folder(tmp_path_factory) -> Path:
    """A folder of this test run that every test process of the run sees (pytest-xdist gives each worker a
    base folder of its own inside the run's; without xdist the run's base folder is the process's)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder = base / "shared"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def demo_landlord_pack(demo_dir, tmp_path_factory) -> tuple[Path, Path]:
    """(pack, its audit trail): the suite's demo's whole-landlord pack for its latest week, made as a
    scheduler would: the report command in a fresh process, which never imports Streamlit (exit code 0),
    with the regulator's files where the product looks for them (no HOUSING_ASSURANCE_TSM).

    Made once for the test run and shared by every test process (the first one makes it under a lock; the
    others wait and read it): test_pack and test_pack_compare only read it. A session fixture is set up
    before conftest's per-test audit file, so it names its own."""
    folder = _run_folder(tmp_path_factory) / "landlord-pack"
    out, trail, done = folder / "pack.pdf", folder / "audit.jsonl", folder / "made"
    with (_run_folder(tmp_path_factory) / "landlord-pack.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            env = {k: v for k, v in os.environ.items() if k != "HOUSING_ASSURANCE_TSM"}
            made = subprocess.run([sys.executable, "-m", "housing_assurance", "report", "--data", str(demo_dir),
                                   "--as-of", DEMO_AS_OF.isoformat(), "--out", str(out)], capture_output=True,
                                  text=True, cwd=ROOT,
                                  env={**env, "PYTHONPATH": str(ROOT), "HOUSING_ASSURANCE_AUDIT": str(trail)})
            assert made.returncode == 0, made.stderr
            done.touch()
    return out, trail


@contextlib.contextmanager
def environment(changes: dict[str, str | None]) -> Iterator[None]:
    """os.environ with `changes` (None: the variable unset), restored afterwards."""
    def put(values: dict[str, str | None]) -> None:
        for name, value in values.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    before = {name: os.environ.get(name) for name in changes}
    try:
        put(changes)
        yield
    finally:
        put(before)


def command(*args: str | Path, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess:
    """`python -m housing_assurance ARGS` run in this test process (`cli.main`, as __main__.py runs it): its exit
    code, stdout and stderr, without a new Python importing duckdb, polars and the rest again (a third of a
    second of CPU and more, some fifty times a run). `env`: variables set for the command only (None: unset). The
    tests of what only a fresh process shows (the entry point itself, scikit-learn or Streamlit never
    imported, two commands at once) still start one."""
    from housing_assurance.cli import main

    argv = [str(a) for a in args]
    out, err = io.StringIO(), io.StringIO()
    with environment(env or {}), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse: bad arguments (2), or --help (0)
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
    return subprocess.CompletedProcess(["housing_assurance", *argv], code, out.getvalue(), err.getvalue())


@pytest.fixture(scope="session")
def renderer():
    """A pack's browser (Chromium with plotly.js loaded) for the tests of a test process that draw or print
    with one: starting one costs more than a second of CPU."""
    from housing_assurance import pack

    with pack.ChartRenderer() as browser:
        yield browser


# What Chromium writes first on every page of a pack: the running header (the marking), the page number and
# the footer (the marking again, then landlord, week and scope: one line unless a name is very long).
PACK_MARGINS = r"OFFICIAL-SENSITIVE\nPage (\d+) of (\d+)\s*OFFICIAL-SENSITIVE: contains personal data\s([^\n]*)\n"


def pdf_page_texts(pdf: Path | bytes, *options: str) -> list[str]:
    """Each page's text in the order the page writes it (poppler's pdftotext; `-layout` among `options` lays
    it out as on the page instead). What pypdf's extract_text gives, in a twentieth of its time: a pack's
    charts are vector drawings, which pypdf reads through operator by operator."""
    source = pdf if isinstance(pdf, bytes) else Path(pdf).read_bytes()
    text = subprocess.run(["pdftotext", *(options or ["-raw"]), "-enc", "UTF-8", "-", "-"], input=source,
                          capture_output=True, check=True).stdout.decode()
    *pages, after_last = text.split("\f")  # each page ends with a form feed
    assert after_last == "", "pdftotext's output does not end with a page"
    return pages


def pack_page_body(text: str) -> str:
    """A pack page's text below its header and above its footer, as a reader takes it in (a page without
    them fails: every page must carry them)."""
    import re

    margins = re.match(PACK_MARGINS, text)
    assert margins, f"a page without its marking, number and footer: {text[:120]!r}"
    return text[margins.end():]


def no_error(at) -> bool:
    """An AppTest run drew its page: no exception, and no "Something went wrong" (the app catches an
    unexpected error, logs it and shows only a reference, so at.exception alone would miss it)."""
    return not at.exception and not any("Something went wrong" in e.value for e in at.error)


def as_read(markdown: str) -> str:
    """What a reader sees of a markdown source: backslash escapes and the invisible word joiners that keep an
    address from becoming a link (app/markup.py `plain`) removed."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


# (extract, rows) by (id of the extract, query, week, scope): see reference_cases.
_REFERENCE_ROWS: dict[tuple, tuple] = {}


def reference_cases(extract, as_of: date, kpi_id: str, scope=None):
    """kpis.cases for the suite's demo, each query's rows worked out once per week and scope in a test
    process: several KPIs read one query, and several modules check the same weeks. Only for the session's
    read-only demo (the rows are kept for the process), and only as the expected side of a test: the app
    and the pack never read them."""
    from housing_assurance.kpis import cases_from_rows, kpi, query_rows
    from housing_assurance.scope import WHOLE_LANDLORD

    k, scope = kpi(kpi_id), scope or WHOLE_LANDLORD
    key = (id(extract), k.query, as_of, scope)
    if key not in _REFERENCE_ROWS:  # the extract is kept with its rows, so its id is never reused
        _REFERENCE_ROWS[key] = (extract, query_rows(extract, k.query, [as_of], scope))
    return cases_from_rows(_REFERENCE_ROWS[key][1], k)


APP = str(Path(__file__).resolve().parent.parent / "app.py")


@pytest.fixture(scope="session")
def demo_app(demo_dir, demo_store) -> Path:
    """The app serving the suite's demo (from its store) in demo mode on the demo's own users, both chosen
    explicitly as `make run` does for the demo."""
    env = {"HOUSING_ASSURANCE_DATA": str(demo_dir), "HOUSING_ASSURANCE_DEMO_MODE": "1",
           "HOUSING_ASSURANCE_ACCESS": str(demo_dir / "access.toml")}
    with environment(env):
        yield demo_dir


def open_app_at(page: str | None = None, user: str | None = None, as_of: date | None = None,
                timeout: int = 60, **params: str):
    """A new session opened at a page and URL parameters (as a pasted link does), as a demo user."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=timeout)
    if user is not None:
        at.session_state["_demo_user"] = user
    if page is not None:
        at.switch_page(page)
    if as_of is not None:
        at.query_params["as_of"] = as_of.isoformat()
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    assert no_error(at), [e.message for e in at.exception]
    return at


# PostgreSQL: one throwaway cluster for the session, an empty schema per test.

def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-q", "postgresql"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], env=env, check=True, capture_output=True)
            subprocess.run(install, env=env, check=True, capture_output=True)
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent


@pytest.fixture(scope="session")
def postgres_server():
    """(socket folder, port) of a PostgreSQL server of our own; the server refuses to run as root."""
    bindir = _postgres_bin()
    root = Path(tempfile.mkdtemp(prefix="review-pg-"))
    as_postgres = []
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = 5432  # no TCP: the number only names the socket file in our own folder
    pg_ctl = [*as_postgres, str(bindir / "pg_ctl"), "-D", str(root / "data")]
    subprocess.run([*as_postgres, str(bindir / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres",
                    "--no-sync"], check=True, capture_output=True)
    # A throwaway cluster need not survive a power cut: no fsync keeps CREATE DATABASE per test quick.
    options = f"-p {port} -k {root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
    subprocess.run([*pg_ctl, "-o", options, "-l", str(root / "log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield root, port
    finally:
        subprocess.run([*pg_ctl, "stop", "-m", "fast"], check=True, capture_output=True)
        shutil.rmtree(root)


@pytest.fixture
def postgres_url(postgres_server) -> str:
    """An empty database: the schema dropped and made again (much quicker than CREATE DATABASE per test)."""
    root, port = postgres_server
    import psycopg

    with psycopg.connect(host=str(root), port=port, user="postgres", dbname="postgres", autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'review.sqlite3'}"
    return request.getfixturevalue("postgres_url")


# SMTP: a real server on 127.0.0.1 for the pack and the managers' digest.

class Inbox:
    """What the server received: one (sender, recipients, parsed message) per delivery."""

    def __init__(self) -> None:
        self.received: list[tuple[str, list[str], EmailMessage]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos),
                              message_from_bytes(envelope.content, policy=policy.default)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """A real SMTP server on 127.0.0.1 (aiosmtpd): (inbox, port)."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield inbox, controller.port
    controller.stop()


def email_to(tmp_path: Path, port: int, monkeypatch) -> None:
    """The shipped settings, with e-mail going to the test's own SMTP server."""
    folder = tmp_path / "settings"
    shutil.copytree(ROOT / "settings", folder)
    (folder / "review.toml").write_text(
        f'[email]\nhost = "127.0.0.1"\nport = {port}\nstarttls = false\nsender = "assurance@example.org"\n'
        'pack_recipients = ["executive.committee@example.org", "chair@example.org"]\n')
    monkeypatch.setenv("HOUSING_ASSURANCE_SETTINGS", str(folder))
    monkeypatch.delenv("HOUSING_ASSURANCE_SMTP_USER", raising=False)
    monkeypatch.delenv("HOUSING_ASSURANCE_SMTP_PASSWORD", raising=False)
