"""The pack's inputs: refuse an extract, week, scope or destination that would give a misleading pack.

Wrong means: the manifest or a table cannot be used (its figures would be false zeros); the week had
not ended when the extract was taken, or starts before the extract's first record (weeks.Span says
which, in the same words as everywhere else); the scope names a region or team the extract does not
know (scope.unknown_names); or the destination is not a place to write a new PDF.

Where a pack may be written (check_destination, the one rule for the command line and the app): a
new file whose name ends in .pdf, or a pack this app wrote (is_own_pack: a PDF whose Creator entry is
render.GENERATOR), so that last week's pack is replaced in one step. Refused, in one line: a path
inside the extract folder or the store the pack is made from, the audit trail and its key file, and
any other existing file, PDF or not: a typo in --out must never destroy data.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from pathlib import Path

from housing_assurance import audit
from housing_assurance.db import Extract, parse_extracted_at, read_manifest
from housing_assurance.pack.render import GENERATOR
from housing_assurance.scope import Scope, unknown_names
from housing_assurance.weeks import TREND_WEEKS, Span
from housing_assurance.words import date_text


class PackError(ValueError):
    """The pack cannot be made from these inputs; the message says why in one line."""


def _week_ended(where: Path, manifest_problem: str | None, taken: datetime | None, as_of: date) -> None:
    if manifest_problem:
        raise PackError(f"the extract at {where} cannot be used: {manifest_problem}")
    unfinished = Span(None, taken).unfinished(as_of)
    if unfinished:
        raise PackError(unfinished)


def check_request(extract_dir: str | Path, as_of: date, out_path: str | Path | None = None) -> None:
    """The checks that need no extract loaded (manifest, date, destination): a wrong request fails at
    once, before Chromium starts or the tables load. check_inputs repeats them with the rest."""
    extract_dir = Path(extract_dir)
    if not extract_dir.is_dir():
        raise PackError(f"no extract folder at {extract_dir}")
    manifest, problem = read_manifest(extract_dir)
    taken = None if problem else parse_extracted_at(manifest.get("extracted_at"))
    _week_ended(extract_dir, problem, taken, as_of)
    if out_path is not None:
        check_destination(Path(out_path), (extract_dir,))


def check_scope(extract: Extract, scope: Scope) -> None:
    """A region or team the extract does not know is a typo, not an empty pack."""
    problems = unknown_names(extract, scope.region, scope.teams)
    if problems:
        raise PackError(problems[0])
    if scope.teams == ():
        raise PackError("the scope holds no teams (is --team outside what --as-user may see?), "
                        "so the pack would be empty")


def check_inputs(extract: Extract, as_of: date, scope: Scope) -> list[str]:
    """Refuse what would give a misleading pack; return notes for the cover.

    A 13-week trend that starts before the first record is allowed, with a note on the cover.
    """
    if extract.manifest_problem:
        raise PackError(f"the extract at {extract.path} cannot be used: {extract.manifest_problem}")
    unusable = extract.unusable_text()
    if unusable:
        raise PackError(f"{unusable}; run `python -m housing_assurance validate {extract.path}`")
    extract_span = extract.span()
    problem = extract_span.problem(as_of)
    if problem:
        raise PackError(problem)
    check_scope(extract, scope)
    notes = []
    trend_start = as_of - timedelta(weeks=TREND_WEEKS - 1, days=6)
    first = extract_span.first_record
    if first is not None and trend_start < first.date():
        notes.append(f"The extract's records start on {date_text(first.date())}, after the start of the "
                     f"13-week trends ({date_text(trend_start)}): the earliest weeks of each trend undercount.")
    return notes


def is_own_pack(path: Path) -> bool:
    """A PDF this app wrote: it starts with %PDF- and its Creator entry is render.GENERATOR.

    A file that is not a PDF, or one pikepdf cannot read, is not ours. The destination is checked before
    and after a pack is built: the file is read again only if it changed in between (another inode, size
    or time of change).
    """
    try:
        seen = path.stat()
    except OSError:
        return False
    return _is_own_pack(path.resolve(), seen.st_ino, seen.st_size, seen.st_mtime_ns, seen.st_ctime_ns)


@functools.lru_cache(maxsize=64)
def _is_own_pack(path: Path, *version: int) -> bool:
    import pikepdf

    try:
        with path.open("rb") as f:
            if f.read(5) != b"%PDF-":
                return False
        with pikepdf.open(path) as document:
            return str(document.docinfo.get("/Creator", "")) == GENERATOR
    except Exception:  # noqa: BLE001 - whatever is wrong with the file, it is not a pack of ours
        return False


def _within(path: Path, place: Path) -> bool:
    return path == place or place in path.parents


def check_destination(out_path: Path, data: Iterable[Path | None] = ()) -> None:
    """Refuse, in one line, anywhere but a new .pdf file or a pack of ours (module docstring); `data`
    names the extract folder and the store the pack is made from."""
    if out_path.is_dir():
        raise PackError(f"{out_path} is a folder; give a file name such as {out_path / 'pack.pdf'}")
    target = out_path.resolve()
    for place in data:
        if place is not None and _within(target, Path(place).resolve()):
            raise PackError(f"{out_path} is inside the extract folder or store the pack is made from ({place}); "
                            "write the pack somewhere else")
    trail = audit.audit_file()
    if target in (trail.resolve(), audit.key_file(trail).resolve()):
        raise PackError(f"{out_path} is the audit trail or its key; write the pack somewhere else")
    if out_path.suffix.lower() != ".pdf":
        raise PackError(f"{out_path} is not a PDF file name; the pack is written only to a file ending in .pdf")
    folder = out_path.parent
    if not folder.is_dir():
        raise PackError(f"no folder {folder} to write {out_path.name} into")
    if out_path.exists() and not is_own_pack(out_path):
        raise PackError(f"{out_path} exists and is not a pack this app wrote; it is left alone "
                        "(choose another file name)")
    if not os.access(folder, os.W_OK):
        raise PackError(f"cannot write to the folder {folder}")
