"""Laying the pack out: HTML + CSS (templates/) rendered by WeasyPrint, which keeps the SVG charts vector
and numbers the pages with `@page` rules; and writing the file atomically.

Every pack says it is ours: its PDF Creator entry is GENERATOR, which checks.is_own_pack reads, so
that a new pack replaces last week's but never someone else's file.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

TEMPLATES = Path(__file__).resolve().parent / "templates"
GENERATOR = "housing-assurance weekly assurance pack"


def warm_up() -> None:
    """Import WeasyPrint and Jinja2 (about a second) while DuckDB, which releases the GIL, computes."""
    import jinja2  # noqa: F401
    import weasyprint  # noqa: F401


class Attachment(NamedTuple):
    """A file carried inside the PDF (a reader's attachments panel lists it)."""

    name: str
    data: bytes
    description: str


def render_pdf(context: dict, charts: Callable[[str], str] | None = None) -> bytes:
    """`charts`: the SVG text of a chart's placeholder URL (ChartRenderer.drawn)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return pdf_from_html(env.get_template("pack.html.j2").render(**context), context.get("attachments", ()), charts)


def pdf_from_html(html: str, attachments: Iterable[Attachment] = (), charts: Callable[[str], str] | None = None) \
        -> bytes:
    """The pack's HTML laid out as a PDF whose Creator entry is GENERATOR (how a pack is known as ours),
    with its attachments. A chart that cannot be fetched stops the pack (WeasyPrint would leave a gap)."""
    from weasyprint import CSS, HTML
    from weasyprint import Attachment as PdfAttachment
    from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

    class ChartFetcher(URLFetcher):
        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            if url.startswith("chart:") and charts is not None:
                return URLFetcherResponse(url, charts(url).encode("utf-8"), {"Content-Type": "image/svg+xml"})
            return super().fetch(url, headers)

    try:
        document = HTML(string=html, base_url=str(TEMPLATES), url_fetcher=ChartFetcher(fail_on_errors=True)).render(
            stylesheets=[CSS(filename=TEMPLATES / "pack.css")])
    except FatalURLFetchingError as exc:
        raise exc.__cause__ or exc from None
    document.metadata.generator = GENERATOR
    return document.write_pdf(attachments=[PdfAttachment(file_obj=io.BytesIO(a.data), name=a.name,
                                                         description=a.description) for a in attachments])


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
