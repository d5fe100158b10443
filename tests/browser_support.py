"""What browser tests share: Debian's Chromium for Playwright, free ports, servers started and stopped.

`playwright install` cannot download browsers here, so Playwright drives Debian's Chromium headless shell
(/usr/bin/chromium-headless-shell), as Playwright itself does for headless runs: the same Blink as Debian's
Chromium, without a browser's windows and tabs around it, so the browser tests take a quarter less of the
machine's CPU (44 s against 61 s for test_browser and test_signin) and the pages are the same.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium-headless-shell")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]
WAIT = 90_000  # ms: a loaded test machine can be slow to draw the first page

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"Debian's Chromium is not installed at {CHROMIUM} "
                                    "(`make test` installs it: apt-get install -y chromium-headless-shell)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, what: str, expect: bytes | None = None) -> None:
    """Poll url until it answers (with `expect`, when given); fail at once if the process died."""
    for _ in range(240):
        if proc.poll() is not None:
            pytest.fail(f"{what} exited with code {proc.returncode} before answering")
        try:
            body = urllib.request.urlopen(url, timeout=2).read()
            if expect is None or body == expect:
                return
        except OSError:
            pass
        time.sleep(0.25)
    pytest.fail(f"{what} did not answer at {url} within a minute")


def stop(proc: subprocess.Popen) -> None:
    """Stop a server this test started, by its own process id."""
    proc.terminate()
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serve(env: dict[str, str], log_dir: Path, port: int, base: str, *args: str) -> Iterator[str]:
    """`streamlit run app.py` with exactly this environment on `port` (more options in `args`); yields
    `base` once the app answers and stops the server (by its process id) afterwards."""
    log = (log_dir / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "streamlit"), "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
         *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"{base}/_stcore/health", proc, "the app", expect=b"ok")
        yield base
    finally:
        stop(proc)
        log.close()


@contextmanager
def app_server(data: Path, log_dir: Path, **env: str) -> Iterator[str]:
    """The app on an extract in demo mode (its own users), on a free port; yields the base URL."""
    port = free_port()
    env = {**os.environ, "HOUSING_ASSURANCE_DATA": str(data), "HOUSING_ASSURANCE_DEMO_MODE": "1",
           "HOUSING_ASSURANCE_ACCESS": str(data / "access.toml"), **env}
    with serve(env, log_dir, port, f"http://127.0.0.1:{port}") as base:
        yield base


@contextmanager
def chromium() -> Iterator:
    """Debian's Chromium headless shell, under Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def off_site_requests(page, base: str) -> list[str]:
    """The addresses the page asks for anywhere but the app's own server, collected as the test goes on: a
    landlord's staff may sit behind a proxy that reaches nothing else, and no page should tell a third
    party who is looking at what."""
    found: list[str] = []
    page.on("request", lambda r: found.append(r.url) if r.url.startswith(("http:", "https:"))
            and not r.url.startswith(base + "/") else None)
    return found


def settled(page, quiet: float = 0.5) -> None:
    """Wait until the app has finished drawing: its script has run to the end (the app's own run state,
    which Streamlit keeps on the page as data-test-script-state, reads "notRunning"), no run is shown in
    progress, and the address has stayed unchanged for `quiet` s since (time for a script the page ran at the
    end of the run to change it)."""
    deadline = time.monotonic() + WAIT / 1000
    last, since = page.url, time.monotonic()
    idle = page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]')
    while time.monotonic() < deadline:
        running = (idle.count() == 0
                   or page.locator('[data-testid="stStatusWidget"]').filter(has_text="Running").count() > 0)
        if page.url != last or running:
            last, since = page.url, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.05)
    pytest.fail(f"the page did not settle at {page.url}")
