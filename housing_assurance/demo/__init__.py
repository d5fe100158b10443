"""A synthetic demo landlord's weekly extract, written exactly to the extract contract.

``generate()`` is what ``python -m housing_assurance demo-data`` calls. Same
arguments give byte-identical files. The folder is written beside ``out_dir``
and swapped in at the end, and only an empty folder or an earlier demo
extract is ever replaced, so a landlord's real extract cannot be lost by
pointing the command at the wrong place. docs/demo-data.md describes what the
data contains and the deliberate data-quality problems.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from housing_assurance.contract import CONTRACT_VERSION, TABLES

from .build import build
from .reference import LANDLORD, teams

__all__ = ["LANDLORD", "access_toml", "generate"]

# Names an earlier demo extract may hold besides its tables (the app may add an access file).
_OWN_NAMES = {"manifest.json", "access.toml"} | {f"{t}.parquet" for t in TABLES} | set(TABLES)


def generate(
    out_dir: Path,
    homes: int = 20000,
    years: int = 3,
    seed: int = 1,
    end: date | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> None:
    """Write the demo extract for ``years`` years ending on ``end`` (default today) into ``out_dir``.

    Raises ValueError when ``out_dir`` holds anything but an earlier demo extract.
    """
    out_dir = Path(out_dir)
    end = end or date.today()
    report = progress or (lambda stage, fraction: None)
    _check_replaceable(out_dir)
    tables = build(homes, years, seed, end, report)

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.parent / f".{out_dir.name}.writing-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        for i, (name, table) in enumerate(tables.items()):
            report(f"writing {name}", 0.75 + 0.24 * i / len(tables))
            pq.write_table(table, tmp / f"{name}.parquet", compression="zstd", row_group_size=1 << 20)
        manifest = {"contract_version": CONTRACT_VERSION, "landlord": LANDLORD,
                    "extracted_at": f"{end.isoformat()}T06:00:00"}
        (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        # The demo ships with its users (interfaces.md "Users and scope"), read when no access file is set.
        (tmp / "access.toml").write_text(access_toml(), encoding="utf-8")
        _swap_in(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    report("done", 1.0)


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to touch anything that is not missing, empty, or an earlier demo extract."""
    if not out_dir.exists():
        return
    if not out_dir.is_dir():
        raise ValueError(f"{out_dir} exists and is not a folder; refusing to replace it with demo data")
    entries = sorted(p.name for p in out_dir.iterdir())
    if not entries:
        return
    manifest = out_dir / "manifest.json"
    landlord = None
    if manifest.is_file():
        try:
            landlord = json.loads(manifest.read_text(encoding="utf-8")).get("landlord")
        except (OSError, ValueError, AttributeError):
            landlord = None
    if landlord != LANDLORD:
        raise ValueError(
            f"{out_dir} is not empty and is not a demo extract (it has no manifest.json naming "
            f"{LANDLORD!r}); refusing to overwrite it. Choose another --out folder.")
    unexpected = [name for name in entries if name not in _OWN_NAMES]
    if unexpected:
        raise ValueError(
            f"{out_dir} is a demo extract but also holds {', '.join(unexpected[:5])}; "
            "refusing to delete files the demo did not write. Move them or choose another --out folder.")


def _swap_in(tmp: Path, out_dir: Path) -> None:
    """Put the new extract in place with renames, then remove the old demo extract."""
    _check_replaceable(out_dir)
    old = None
    if out_dir.exists():
        old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
        if old.exists():
            shutil.rmtree(old)
        out_dir.rename(old)
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
