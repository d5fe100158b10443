"""What browser tests share: Debian's Chromium for Playwright, free ports, servers started and stopped.

`playwright install` cannot download browsers here, so Playwright drives /usr/bin/chromium.
"""

from __future__ import annotations

import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-quic"]
WAIT = 90_000  # ms: a loaded test machine can be slow to draw the first page

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's Chromium is not installed at "
                                    "/usr/bin/chromium (`make test` installs it: apt-get install -y chromium)")


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
