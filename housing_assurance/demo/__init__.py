"""A synthetic demo landlord's weekly extract, written exactly to the extract contract.

``generate()`` is what ``python -m housing_assurance demo-data`` calls (and the app, for its first
visitor). Same arguments give byte-identical files. docs/demo-data.md describes what the data
contains and the deliberate data-quality problems.

Safe however many processes and threads ask at once (two first visitors, two terminals):
- an exclusive lock (fcntl.flock on ``.NAME.lock`` beside the folder) is held from the first look at
  the folder to the end, so one generator works at a time and the others then find its demo;
- the files go into a fresh temporary folder beside it (tempfile.mkdtemp): a marker naming the
  arguments first, the tables, then manifest.json last, and the folder is renamed into place;
- a demo is complete iff it has manifest.json and every table (``is_complete``): a complete demo of the
  same arguments and generator is kept as it is (nothing is swapped under its readers), a partial one
  (a demo marker or the demo landlord's manifest, but no manifest or a table missing) is made again.
Only a missing or empty folder, or a demo's own files, are ever replaced: a landlord's extract named
by mistake (no demo marker, no demo manifest, or files the demo does not write) is refused in one line.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from housing_assurance.contract import CONTRACT_VERSION, TABLES

from .build import build
from .reference import LANDLORD, teams

__all__ = ["LANDLORD", "MARKER", "access_toml", "generate", "is_complete"]

# Written first into every demo: the arguments and generator that made it (hidden: not part of the extract).
MARKER = ".housing-assurance-demo.json"
# Names a demo extract may hold besides its tables (the app may add an access file).
_OWN_NAMES = {"manifest.json", "access.toml", MARKER} | {f"{t}.parquet" for t in TABLES} | set(TABLES)
_PACKAGE = Path(__file__).resolve().parent


def generate(
    out_dir: Path,
    homes: int = 20000,
    years: int = 3,
    seed: int = 1,
    end: date | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> None:
    """Write the demo extract for ``years`` years ending on ``end`` (default today) into ``out_dir``,
    unless it already holds that complete demo.

    Raises ValueError (one line) when ``out_dir`` holds anything but a demo extract.
    """
    out_dir = Path(out_dir)
    end = end or date.today()
    report = progress or (lambda stage, fraction: None)
    recipe = _recipe(homes, years, seed, end)
    with _lock(out_dir):
        if is_complete(out_dir) and _read_marker(out_dir) == recipe:
            report("done", 1.0)
            return
        _check_replaceable(out_dir)
        _remove_leftovers(out_dir)
        tables = build(homes, years, seed, end, report)
        tmp = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.writing-"))
        try:
            (tmp / MARKER).write_text(recipe, encoding="utf-8")
            for i, (name, table) in enumerate(tables.items()):
                report(f"writing {name}", 0.75 + 0.24 * i / len(tables))
                pq.write_table(table, tmp / f"{name}.parquet", compression="zstd", row_group_size=1 << 20)
            # The demo ships with its users (interfaces.md "Users and scope"), read when no access file is set.
            (tmp / "access.toml").write_text(access_toml(), encoding="utf-8")
            manifest = {"contract_version": CONTRACT_VERSION, "landlord": LANDLORD,
                        "extracted_at": f"{end.isoformat()}T06:00:00"}
            (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, allow_nan=False) + "\n",
                                               encoding="utf-8")  # last: a demo with a manifest is whole
            _swap_in(tmp, out_dir)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    report("done", 1.0)


def is_complete(folder: Path) -> bool:
    """A whole extract: manifest.json (written last) and every table."""
    return (folder / "manifest.json").is_file() and all((folder / f"{t}.parquet").is_file() for t in TABLES)


def _recipe(homes: int, years: int, seed: int, end: date) -> str:
    """The arguments and this version of the generator (its code and the contract it writes)."""
    digest = hashlib.sha256()
    package = _PACKAGE.parent
    for path in [*sorted(_PACKAGE.glob("*.py")), package / "contract.py", package / "workdays.py"]:
        digest.update(path.read_bytes())
    return json.dumps({"homes": homes, "years": years, "seed": seed, "end": end.isoformat(),
                       "generator": digest.hexdigest()[:16]}, indent=2, allow_nan=False) + "\n"


def _read_marker(folder: Path) -> str | None:
    try:
        return (folder / MARKER).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@contextmanager
def _lock(out_dir: Path) -> Iterator[None]:
    """Exclusive for the whole generation, across processes and threads (each opens the file anew, and
    flock locks belong to an open file), released when the file closes, even if the process dies."""
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with (out_dir.parent / f".{out_dir.name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _remove_leftovers(out_dir: Path) -> None:
    """Temporary folders of a generator that died: made only under the lock, so none is in use now."""
    for kind in ("writing", "old"):
        for leftover in out_dir.parent.glob(f".{out_dir.name}.{kind}-*"):
            shutil.rmtree(leftover, ignore_errors=True)


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to touch anything that is not missing, empty, or a demo extract (whole or partial)."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ValueError(f"{out_dir} exists and is not a folder; refusing to replace it with demo data")
    entries = sorted(p.name for p in out_dir.iterdir())
    if not entries:
        return
    if _read_marker(out_dir) is None and _manifest_landlord(out_dir) != LANDLORD:
        raise ValueError(
            f"{out_dir} is not empty and is not a demo extract (no demo marker, and no manifest.json naming "
            f"{LANDLORD!r}); refusing to overwrite it. Choose another --out folder.")
    unexpected = [name for name in entries if name not in _OWN_NAMES]
    if unexpected:
        raise ValueError(
            f"{out_dir} is a demo extract but also holds {', '.join(unexpected[:5])}; "
            "refusing to delete files the demo did not write. Move them or choose another --out folder.")


def _manifest_landlord(folder: Path) -> object:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("landlord")
    except (OSError, ValueError, AttributeError):
        return None


def _swap_in(tmp: Path, out_dir: Path) -> None:
    """Put the new extract in place with renames, then remove the old demo extract."""
    old = None
    if out_dir.exists():
        old = Path(tempfile.mkdtemp(dir=out_dir.parent, prefix=f".{out_dir.name}.old-"))
        out_dir.rename(old)  # over the empty folder just made
    try:
        tmp.rename(out_dir)
    except BaseException:
        if old is not None:
            old.rename(out_dir)
        raise
    if old is not None:
        shutil.rmtree(old)


def access_toml() -> str:
    """Users for the demo: one executive, analyst and administrator, and every team manager."""
    lines = ["# Demo users (synthetic addresses). Roles: executive | manager | analyst | administrator", ""]
    fixed = [("chief.executive@example.org", "executive"), ("analyst@example.org", "analyst"),
             ("administrator@example.org", "administrator")]
    managers = sorted({t.manager_email for t in teams()})
    for email, role in fixed + [(m, "manager") for m in managers]:
        lines += ["[[user]]", f'email = "{email}"', f'role = "{role}"', ""]
    return "\n".join(lines)
