"""The weekly PDF pack: cover, executive scorecard, a section per domain and the exception tables.

In parts: checks (what would make a misleading pack), charts (the app's Plotly figures as SVG),
content (what the pack says) and render (the layout and the file). `report` on the command line and
the app's button both call build_pack, so they make the same document.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import polars as pl

from housing_assurance.db import Extract
from housing_assurance.pack.charts import ChartRenderer
from housing_assurance.pack.checks import PackError, check_destination, check_inputs, check_request, check_scope
from housing_assurance.pack.content import MARKING, build_context
from housing_assurance.pack.render import render_pdf, warm_up, write_atomically
from housing_assurance.progress import Progress
from housing_assurance.scope import WHOLE_LANDLORD, Scope

__all__ = ["MARKING", "ChartRenderer", "PackError", "build_pack", "check_request", "check_scope", "write_pack"]

_building = 0  # packs being built in this process (the app may build two at once)
_building_lock = threading.Lock()
_resume_collector = False  # whether the collector was running when the first of them began


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cycle collector paused while any pack is built, and resumed when the last one is done.

    A pack makes millions of short-lived objects (WeasyPrint's boxes, Plotly's figures), and the collector
    walking the whole heap again and again took about a tenth of the pack's time. On resuming, what the
    pack left (some tens of MB of cycles) is handed to the oldest generation rather than walked at once
    (a quarter of a second at the end of every pack): the next full collection frees it. A collector
    someone else paused stays paused.
    """
    global _building, _resume_collector
    with _building_lock:
        if _building == 0:
            _resume_collector = gc.isenabled()
            gc.disable()
        _building += 1
    try:
        yield
    finally:
        with _building_lock:
            _building -= 1
            if _building == 0 and _resume_collector:
                gc.freeze()  # every object tracked now is moved out of the young generations …
                gc.enable()
                gc.unfreeze()  # … into the oldest, which a full collection walks later


def build_pack(extract: Extract, as_of: date, scope: Scope = WHOLE_LANDLORD, progress: Progress | None = None,
               renderer: ChartRenderer | None = None, prepared_for: str | None = None,
               risk_scores: pl.DataFrame | None = None, viewer_teams: tuple[str, ...] | None = None,
               review: object | None = None) -> bytes:
    """The pack as PDF bytes (for the app's download button and `write_pack`).

    Raises PackError when the extract, date or scope would give a misleading pack. `renderer` lets
    the caller start Chromium before opening the extract; otherwise the pack starts and stops its own.
    `prepared_for` names the user whose scope the pack shows (on the cover), when there is one.
    `risk_scores` are the week's homes-at-risk scores when the caller has them already (the app).
    `viewer_teams`: the teams of the user it is prepared for, when that user is scoped to teams (their
    pack shows vulnerability reasons only for the households those teams serve).
    `review`: the committee's commentary, actions, sign-off and restatements (review.pack_section.pack_review).
    """
    if progress is not None:
        progress("Checking the extract", 0.0)
    notes = check_inputs(extract, as_of, scope)  # a wrong request fails before Chromium starts
    own_renderer = renderer is None
    renderer = renderer or ChartRenderer()  # boots while the figures are computed
    try:
        with _collector_paused():
            context = build_context(extract, as_of, scope, notes, progress, renderer, prepared_for, risk_scores,
                                    warm_up=warm_up, viewer_teams=viewer_teams, review=review)
            if progress is not None:
                progress("Laying out pages", 0.8)
            # Lays out while the browser still boots or draws: the first chart is waited for only when the layout
            # reaches it, and a browser that did not start is said in one line (PackError), not a gap on a page.
            pdf = render_pdf(context, renderer.drawn)
    finally:
        if own_renderer:
            renderer.close()
    if progress is not None:
        progress("Done", 1.0)
    return pdf


def write_pack(extract: Extract, as_of: date, scope: Scope, out_path: str | Path, progress: Progress | None = None,
               renderer: ChartRenderer | None = None, prepared_for: str | None = None,
               viewer_teams: tuple[str, ...] | None = None, review: object | None = None) -> Path:
    """Build the pack and write it atomically; nothing is written until the whole pack is built."""
    out_path, data = Path(out_path), (extract.path, extract.store)
    check_destination(out_path, data)  # before a quarter of a minute's work, not after
    pdf = build_pack(extract, as_of, scope, progress, renderer, prepared_for, viewer_teams=viewer_teams, review=review)
    check_destination(out_path, data)
    return write_atomically(pdf, out_path)
