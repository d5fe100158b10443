"""Laying the pack out: HTML + CSS (templates/) printed to PDF by the pack's Chromium, which keeps the SVG
charts vector and numbers the pages with `@page` rules; then the workbooks attached and the file written
atomically.

Every pack says it is ours: its PDF Creator entry is GENERATOR, which checks.is_own_pack reads, so
that a new pack replaces last week's but never someone else's file.
"""

from __future__ import annotations

import base64
import io
import os
import re
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from markupsafe import Markup

if TYPE_CHECKING:  # charts.py needs checks.py, which needs GENERATOR from here
    from housing_assurance.pack.charts import ChartRenderer

TEMPLATES = Path(__file__).resolve().parent / "templates"
GENERATOR = "housing-assurance weekly assurance pack"
# A chart's placeholder in the HTML, with the drawing's width and height (ChartRenderer.placeholder).
CHART_SOURCE = re.compile(r'src="(chart:\d+:(\d+)x(\d+))"')
# A contents line's page number, written in once the pack has been laid out (_macros.html.j2, contents_entry).
PAGE_OF = re.compile(r'(<span class="page" data-page-of="([^"]*)">)</span>')
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def warm_up() -> None:
    """Import Jinja2 and pikepdf while DuckDB, which releases the GIL, computes."""
    import jinja2  # noqa: F401
    import pikepdf  # noqa: F401


class Attachment(NamedTuple):
    """A file carried inside the PDF (a reader's attachments panel lists it)."""

    name: str
    data: bytes
    description: str


def css_string(text: str) -> Markup:
    """Text as a CSS string literal for a <style> element: every character but letters and digits written as
    a six-digit hex escape followed by a space (which the escape consumes), so no text (a landlord's name, a
    scope) can end the string or the element."""
    return Markup('"' + "".join(c if c.isalnum() else f"\\{ord(c):06x} " for c in text) + '"')


def render_pdf(context: dict, charts: Callable[[str], str] | None = None,
               browser: ChartRenderer | None = None) -> bytes:
    """`charts`: the SVG text of a chart's placeholder URL (ChartRenderer.drawn); `browser`: the Chromium
    that prints it (the one that drew the charts; otherwise one is started for this pack)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters["css_string"] = css_string
    html = env.get_template("pack.html.j2").render(**context)
    return pdf_from_html(html, context.get("attachments", ()), charts, browser)


def pdf_from_html(html: str, attachments: Iterable[Attachment] = (), charts: Callable[[str], str] | None = None,
                  browser: ChartRenderer | None = None) -> bytes:
    """The pack's HTML printed as a PDF whose Creator entry is GENERATOR (how a pack is known as ours), with
    its attachments.

    Chromium cannot number a link's target page itself (CSS `target-counter`), so the contents' page numbers
    come from a first print, laid out while the charts are still being drawn (each a blank of the drawing's
    size, so nothing moves); the pack is then printed with its drawings and numbers, and printed again only
    if its pages did move after all. Each chart placeholder is replaced by its drawing: a chart that cannot
    be drawn stops the pack, never a page with a hole where the chart was.
    """
    from housing_assurance.pack.charts import ChartRenderer

    def drawing(match: re.Match) -> str:
        if charts is None:
            raise ValueError(f"{match.group(1)} has no drawing")
        return _svg_source(charts(match.group(1)))

    def blank(match: re.Match) -> str:
        width, height = match.group(2, 3)
        return _svg_source(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"></svg>')

    own_browser = browser is None
    browser = browser or ChartRenderer(pages=0)
    try:
        pages = pages_of_targets(browser.print_pdf(CHART_SOURCE.sub(blank, html), final=False)) \
            if PAGE_OF.search(html) else {}
        drawn = CHART_SOURCE.sub(drawing, html)
        for _ in range(3):
            pdf = browser.print_pdf(_numbered(drawn, pages))
            printed = pages_of_targets(pdf) if pages else {}
            if printed == pages:
                break
            pages = printed
    finally:
        if own_browser:
            browser.close()
    return signed_and_attached(pdf, attachments)


def _numbered(html: str, pages: dict[str, int]) -> str:
    """The contents' page numbers written in."""
    return PAGE_OF.sub(lambda m: m.group(1) + str(pages.get(m.group(2), "")) + "</span>", html)


def _svg_source(svg: str) -> str:
    return 'src="data:image/svg+xml;base64,' + base64.b64encode(svg.encode("utf-8")).decode("ascii") + '"'


def pages_of_targets(pdf: bytes) -> dict[str, int]:
    """The page (from 1) on which each link target of a printed PDF lies: Chromium writes a named
    destination for every element a link points to."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        page_numbers = {page.objgen: number for number, page in enumerate(document.pages, start=1)}
        named = document.Root.get("/Dests")
        items = named.items() if named is not None else ()
        return {str(name).removeprefix("/"): page_numbers[target[0].objgen] for name, target in items}


def signed_and_attached(pdf: bytes, attachments: Iterable[Attachment]) -> bytes:
    """The printed PDF with Creator set to GENERATOR and each attachment embedded (pikepdf: qpdf rewrites a
    pack in a tenth of a second, where pypdf, in pure Python, took over a second)."""
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as document:
        document.docinfo["/Creator"] = GENERATOR
        for a in attachments:
            document.attachments[a.name] = pikepdf.AttachedFileSpec(
                document, a.data, description=a.description, filename=a.name,
                mime_type=XLSX if a.name.endswith(".xlsx") else "")
        out = io.BytesIO()
        # Chromium writes each of its many small objects (the tags, the outline) on its own: packed into
        # compressed object streams, a pack at 120,000 homes is 420 KB rather than 1.1 MB.
        document.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate)
    return out.getvalue()


def write_atomically(pdf: bytes, out_path: Path) -> Path:
    """A temporary file in the same folder, then os.replace: a reader never sees half a pack, and an
    error never leaves a half-written file or touches an existing one. The file is readable by its
    owner and group only (it holds personal data), unless it replaces a file whose permissions it keeps."""
    mode = out_path.stat().st_mode & 0o777 if out_path.is_file() else 0o640
    fd, tmp = tempfile.mkstemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, out_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out_path
