"""What a server works out once for everyone, started in the background when it first opens a store, so
that no visitor's first look at a page waits for it (0.1-0.4 s each at 120,000 homes):

- the weekly review's database library (SQLAlchemy), imported;
- England's bank holidays, which set the Due soon window;
- the homes-at-risk scores and back-test replays of the latest week, as the store holds them (nothing
  is learned in the background);
- How we compare: the regulator's files, our figures beside them and the charts.

Each is the work the page itself would do, kept where the page looks for it; nothing here depends on
who is asking. Anything that fails is left for the page, which says what went wrong. Each step waits
until no page is being drawn (at most a few seconds), so a reader's click does not share the two
cores with it for more than one step.
"""

from __future__ import annotations

import logging
import threading
from contextlib import suppress
from datetime import date
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from housing_assurance.risk import RiskStore

log = logging.getLogger("housing_assurance.app")
_runs = threading.Condition()
_drawing = 0  # pages being drawn now, by every session of this server
LONGEST_WAIT_S = 2.0  # a step waits no longer than this for a quiet moment: a busy server still warms up


def page_started() -> None:
    global _drawing
    with _runs:
        _drawing += 1


def page_ended() -> None:
    global _drawing
    with _runs:
        _drawing -= 1
        _runs.notify_all()


def _quiet_moment() -> None:
    with _runs:
        _runs.wait_for(lambda: _drawing == 0, timeout=LONGEST_WAIT_S)


@lru_cache(maxsize=4)
def warm_up(key: str) -> threading.Thread:
    """Start the warm-up for the store `key` names (once per store and process)."""
    from housing_assurance.app import data

    thread = threading.Thread(target=_warm, args=(key, data.load_risk_store(key), data.selectable_weeks(key)[0]),
                              name="warm-up", daemon=False)  # a process ends after it, never inside DuckDB
    thread.start()
    return thread


def _warm(key: str, risk_store: RiskStore, latest: date) -> None:
    from housing_assurance import compare, sector, tsm, workdays

    try:
        _quiet_moment()
        import housing_assurance.app.review_page  # noqa: F401  (SQLAlchemy: a third of a second to import)
        from housing_assurance.app import compare_page

        _quiet_moment()
        workdays.bank_holidays()
        _quiet_moment()
        risk_store.keep_prepared(latest)  # read from the store; nothing is learned in the background
        folder = sector.tsm_folder()
        with suppress(tsm.TsmError, sector.SectorError):  # no files, or no year to compare: the page says so
            _quiet_moment()
            compare_page.comparison(key, str(folder), compare.published_files(folder))
            _quiet_moment()
            compare_page.position_charts(key, str(folder), compare.published_files(folder))
    except Exception as exc:  # never a visitor's problem: the page does the same work and reports it
        log.warning("warm-up stopped early (%s); pages will do the work themselves", type(exc).__name__)
