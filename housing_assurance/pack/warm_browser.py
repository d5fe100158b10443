"""What lets the pack's browser start with plotly.js already compiled: loading the 4.8 MB plotly.js into a
page took Chromium 2.3-3 s of every pack, and 0.5 s once Chromium has it in its code cache.

Chromium keeps compiled scripts (V8's code cache) only for scripts fetched over http, in its profile's
caches on disk. So plotly.js (the copy inside the plotly package) is served by a server of our own on
127.0.0.1 under a fixed name, `http://pack.invalid/`, which Chromium is told resolves to that server (a
name under .invalid can never be a real host). The script's address carries a hash of the file, so a new
plotly is fetched and compiled afresh, never an old one reused.

Each pack's browser still has a profile of its own, removed with it (two packs at once never share one).
Only its two caches are kept between packs, in the cache folder beside the prepared stores
(HOUSING_ASSURANCE_CACHE/pack-browser): copied into a new browser's profile before it starts (`seed`)
and back once it has closed (`keep`). They hold plotly.js and its compiled code: the pack's text and
charts are handed to pages in memory and never fetched, so they never reach a cache (tests/test_pack.py
checks). Anything else a browser writes in its profile (its tabs, their titles, which name the landlord)
goes with the profile.
"""

from __future__ import annotations

import fcntl
import hashlib
import http.server
import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import plotly

HOST = "pack.invalid"
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
PROFILE_FOLDER = "pack-browser"  # inside the cache folder (store.cache_dir)
log = logging.getLogger(__name__)


@cache
def _plotly_bytes() -> bytes:
    return PLOTLY_JS.read_bytes()


@cache
def _plotly_name() -> str:
    """The script's address on our server: changes whenever the file does."""
    return f"/plotly-{hashlib.sha256(_plotly_bytes()).hexdigest()[:16]}.min.js"


def charts_page_html() -> str:
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><script src="{_plotly_name()}"></script></head>'
            "<body></body></html>")


class _Handler(http.server.BaseHTTPRequestHandler):
    """Two answers only: the charts page and plotly.js; anything else is not found."""

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        if self.path == "/charts.html":
            body, kind, keep = charts_page_html().encode(), "text/html; charset=utf-8", "no-store"
        elif self.path == _plotly_name():
            body, kind, keep = _plotly_bytes(), "text/javascript", "max-age=31536000, immutable"
        else:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Cache-Control", keep)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - no request lines in our logs
        return


_server_lock = threading.Lock()
_server: http.server.ThreadingHTTPServer | None = None


def server_port() -> int:
    """The port of this process's plotly.js server on 127.0.0.1 (started at the first call, kept for the
    process: an app server makes many packs)."""
    global _server
    with _server_lock:
        if _server is None:
            _server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
            _server.daemon_threads = True
            threading.Thread(target=_server.serve_forever, name="pack-plotly-server", daemon=True).start()
        return _server.server_address[1]


def browser_args() -> list[str]:
    """Chromium's flags for the charts page's name, and no proxy: the pack's browser fetches nothing else."""
    return [f"--host-resolver-rules=MAP {HOST} 127.0.0.1:{server_port()}", "--no-proxy-server"]


def charts_page_url() -> str:
    return f"http://{HOST}/charts.html"


KEPT = ("Cache", "Code Cache")  # a profile's caches of http responses and of compiled scripts


def _kept_folder() -> Path:
    from housing_assurance.store import cache_dir

    return cache_dir() / PROFILE_FOLDER


@contextmanager
def _locked(exclusive: bool) -> Iterator[None]:
    kept = _kept_folder()
    kept.parent.mkdir(parents=True, exist_ok=True)
    with (kept.parent / f"{PROFILE_FOLDER}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


def seed(profile: Path) -> None:
    """Put the kept caches into a new browser's profile (nothing kept yet, or a cache folder we may not
    read: the browser starts cold, and the pack is the same)."""
    try:
        with _locked(exclusive=False):
            for name in KEPT:
                if (_kept_folder() / name).is_dir():
                    shutil.copytree(_kept_folder() / name, profile / "Default" / name)
    except OSError:
        log.debug("the pack's browser starts without kept caches", exc_info=True)


def keep(profile: Path) -> None:
    """Keep a closed browser's caches for the next pack: written beside the kept ones, then swapped in
    whole, so a browser starting meanwhile copies either the old caches or the new, never half of them."""
    kept = _kept_folder()
    try:
        new = Path(tempfile.mkdtemp(prefix=f".{PROFILE_FOLDER}-", dir=kept.parent))
        try:
            for name in KEPT:
                if (profile / "Default" / name).is_dir():
                    shutil.copytree(profile / "Default" / name, new / name)
            with _locked(exclusive=True):
                old = kept.with_name(f"{new.name}-old")
                if kept.exists():
                    kept.rename(old)
                new.rename(kept)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(new, ignore_errors=True)
    except OSError:
        log.debug("the pack's browser caches were not kept", exc_info=True)
