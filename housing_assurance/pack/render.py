"""Laying the pack out: HTML + CSS (templates/) rendered by WeasyPrint, which keeps the SVG charts vector
and numbers the pages with `@page` rules; and writing the file atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"


def warm_up() -> None:
    """Import WeasyPrint and Jinja2 (about a second) while DuckDB, which releases the GIL, computes."""
    import jinja2  # noqa: F401
    import weasyprint  # noqa: F401


def render_pdf(context: dict) -> bytes:
    import jinja2
    from weasyprint import CSS, HTML

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    html = env.get_template("pack.html.j2").render(**context)
    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf(stylesheets=[CSS(filename=TEMPLATES / "pack.css")])


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
