"""The background warm-up: every selectable week's figures, then the latest week's homes at risk,
computed while nobody is waiting, so that a change of week, region or team needs no query at all."""

from __future__ import annotations

import os
import threading
import time
from datetime import date, timedelta

from housing_assurance.app import data
from housing_assurance.figures import FigureStore
from housing_assurance.weeks import LONG_TREND_WEEKS

# "0" turns off the background warm-up of every week's figures (the tests do: they want a quiet CPU).
PREFETCH_ENV = "HOUSING_ASSURANCE_PREFETCH"

_warmers: dict[str, threading.Thread] = {}
_warm_lock = threading.Lock()


class Activity:
    """Page runs in progress, so the warm-up can step aside while someone is waiting for a page."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[int, float] = {}
        self._last_end = 0.0

    def begin(self) -> int:
        with self._lock:
            token = id(object()) ^ int(time.monotonic() * 1e6)
            self._running[token] = time.monotonic()
            return token

    def end(self, token: int) -> None:
        with self._lock:
            self._running.pop(token, None)
            self._last_end = time.monotonic()

    def busy(self, quiet: float = 0.5, stale: float = 60.0) -> bool:
        """A page is running (one that ran for over a minute is taken as lost), or has just ended."""
        now = time.monotonic()
        with self._lock:
            live = [t for t in self._running.values() if now - t < stale]
            return bool(live) or now - self._last_end < quiet


ACTIVITY = Activity()


def prefetching() -> bool:
    """Whether the background warm-up runs (HOUSING_ASSURANCE_PREFETCH=0 turns it off)."""
    return os.environ.get(PREFETCH_ENV, "1") != "0"


def start(key: str) -> None:
    """Fill the figure store for every selectable week in the background, newest first.

    Started after the first page has been drawn, so the first view does not wait for it, and it
    steps aside whenever a page is being drawn.
    """
    if not prefetching():
        return
    with _warm_lock:
        if key in _warmers:
            return
        weeks = data.selectable_weeks(key)
        lookback = [weeks[-1] - timedelta(weeks=i) for i in range(1, LONG_TREND_WEEKS)]
        thread = threading.Thread(target=_warm, args=(data.load_store(key), weeks + lookback,
                                                       data.load_risk_store(key)),
                                  name="figure-warm-up", daemon=True)
        _warmers[key] = thread
        thread.start()


def _warm(store: FigureStore, weeks: list[date], risk_store) -> None:
    def wait_for_quiet() -> None:
        while ACTIVITY.busy():
            time.sleep(0.2)

    try:
        wait_for_quiet()
        store.rows("validation", weeks[:1])  # the overview's freshness line waits on validation
        store.warm(weeks, pause=wait_for_quiet, chunk=4)
        # Then the latest week's homes at risk and its back-test: seconds of model training each.
        wait_for_quiet()
        risk_store.scored(weeks[0])
        wait_for_quiet()
        risk_store.replays(weeks[0])
    except Exception:  # noqa: BLE001 - a failed warm-up only means pages compute on demand
        pass
