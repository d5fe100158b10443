"""The weekly PDF pack: cover, executive scorecard, a section per domain and the exception tables.

In parts: checks (what would make a misleading pack), charts (the pack's Chromium: it draws the app's Plotly
figures as SVG and prints the pack), content (what the pack says) and render (the layout and the file).
`report` on the command line and the app's button both call build_pack, so they make the same document.
"""

from __future__ import annotations

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
        context = build_context(extract, as_of, scope, notes, progress, renderer, prepared_for, risk_scores,
                                warm_up=warm_up, viewer_teams=viewer_teams, review=review)
        if progress is not None:
            progress("Laying out pages", 0.8)
        # Printed by the browser that drew the charts; one that did not start is said in one line (PackError).
        pdf = render_pdf(context, renderer.drawn, renderer)
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
