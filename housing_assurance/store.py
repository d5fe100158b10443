"""Prepared once, read by everyone: one DuckDB file per weekly extract.

An extract arrives once a week; reading, casting, validating and computing its figures is done once,
by `prepare`, into a store: the contract tables as cast, the staging tables (sorted as the queries
like them), the deadline table and clocks, the validation findings and the manifest, every KPI query's
rows for every week (grouped, as figures.py keeps them), and a `figures` table with every KPI x every
week x every scope (whole landlord, each region, each team, each manager's teams). The latest week's
homes-at-risk scores and back-test are in it too.

A store is written to a temporary file beside its destination and renamed into place, so a reader
never sees half a store, and a new week's store replaces the old one under running readers (each
keeps the file it opened). Readers open it read-only: several app processes and commands at once.
`prepare --out` writes only a new file or replaces a store prepared here (a DuckDB file with the
store_meta table), never another file (someone's own DuckDB database included) and never anything
inside the extract folder (a file there would change the extract and its content key).

Every command's `--data`, and the app's HOUSING_ASSURANCE_DATA, may name a store or an extract folder.
A folder is prepared into a cache (HOUSING_ASSURANCE_CACHE, default data/stores) keyed by the content
of its files, the landlord's closure dates and this version of the queries and rules, and that store
is reused next time.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl

from housing_assurance.db import Extract, TableSource, fetch_rows, one_row, open_extract, run_query, run_statement
from housing_assurance.progress import Progress
from housing_assurance.settings import PROJECT_ROOT, closure_dates
from housing_assurance.weeks import COMPARISON_WEEKS

FORMAT = "1"
CACHE_ENV = "HOUSING_ASSURANCE_CACHE"
# DuckDB's share of memory while a store is prepared (beyond it, it spills to disk beside the store):
# with the Python side's (homes at risk learns in memory), the whole stays under 4 GB at 120,000 homes.
MEMORY_LIMIT = "1.5GB"
# When a store is prepared, a query runs for a step of weeks at a time, so that memory stays flat: 26 weeks
# at the largest landlord's size (130,000 homes), more at a time for a smaller one, whose steps would
# otherwise cost more in their fixed part (binding, planning) than in their rows.
HOME_WEEKS_PER_STEP = 26 * 130_000
MIN_WEEKS_PER_STEP = 26
# At most ten years of weeks are prepared (a record dated 1900 must not mean 6,500 weeks); an older
# week is still answered, from the store's tables, when asked for.
MAX_PREPARED_WEEKS = 10 * 52
# What a store's figures depend on besides the extract: if any of these change, stores are prepared again.
RECIPE = ("contract.py", "db.py", "kpis.py", "figures.py", "clocks.py", "workdays.py", "validate.py", "risk.py",
          "store.py", "scope.py", "weeks.py", "tsm.py", "why.py")


class StoreError(ValueError):
    """A store cannot be read or prepared; the message says why in one line."""


# ---------------------------------------------------------------------------------------------- keys


def recipe_version() -> str:
    """The version of the queries and rules a store was prepared with."""
    digest = hashlib.sha256(FORMAT.encode())
    package = PROJECT_ROOT / "housing_assurance"
    for path in [*sorted((PROJECT_ROOT / "queries").rglob("*.sql")), *(package / name for name in RECIPE)]:
        digest.update(path.relative_to(PROJECT_ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def content_key(folder: Path) -> str:
    """The extract's files (names and bytes), the closure dates and the recipe, as one hash."""
    digest = hashlib.sha256(recipe_version().encode())
    digest.update(json.dumps([d.isoformat() for d in closure_dates()], allow_nan=False).encode())
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        with path.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()[:32]


def is_store(path: Path) -> bool:
    """A DuckDB database file (its header says DUCK at byte 8)."""
    try:
        with path.open("rb") as f:
            return f.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def is_prepared_store(path: Path) -> bool:
    """A store this app prepared (any version: an old one may be prepared again over itself)."""
    if not is_store(path):
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            return any(r["key"] == "format" for r in fetch_rows(con, "store/meta"))
    except duckdb.Error:  # another program's database, or one held open for writing
        return False


def cache_dir() -> Path:
    folder = Path(os.environ.get(CACHE_ENV) or PROJECT_ROOT / "data" / "stores")
    return folder if folder.is_absolute() else PROJECT_ROOT / folder


# ---------------------------------------------------------------------------------------------- opening


def check_data_path(path: Path) -> None:
    """What `--data` names is an extract folder or a store (cheap: nothing is opened)."""
    if path.is_dir() or is_store(path):
        return
    if path.exists():
        raise StoreError(f"{path} is neither an extract folder nor a prepared store")
    raise StoreError(f"no extract folder or store at {path}")


def open_data(path: str | Path, progress: Progress | None = None) -> Extract:
    """What `--data` names, opened read-only: a store, or an extract folder prepared into the cache."""
    path = Path(path)
    check_data_path(path)
    return open_store(store_for(path, progress) if path.is_dir() else path)


def cached_store(folder: Path) -> Path:
    """Where the cache keeps the store of this folder's present content (named folder-content)."""
    place = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:12]
    return cache_dir() / f"{place}-{content_key(folder)}.duckdb"


def store_for(folder: Path, progress: Progress | None = None) -> Path:
    """The cached store of an extract folder, prepared now if this content has none yet.

    A lock makes a second process that asks for the same extract wait for the first one's store. Once a
    folder's new content is prepared, the stores of its earlier content are removed (a reader that still
    has one open keeps reading it)."""
    target = cached_store(folder)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not target.exists():
            prepare(folder, target, progress)
            place = target.name.split("-", 1)[0]
            for old in target.parent.glob(f"{place}-*.duckdb"):
                if old != target:
                    old.unlink(missing_ok=True)
                    old.with_suffix(".lock").unlink(missing_ok=True)
    target.with_suffix(".lock").unlink(missing_ok=True)
    return target


def _version_path(path: Path) -> Path:
    """A name for this version of the store file (a hard link named after its inode).

    DuckDB keeps one database per path in a process: connecting again to a path whose file a new week's
    store has replaced would give the old one. A long-running reader (the app) opens each version by a
    name of its own; links to versions no longer current are removed (a reader still holding one keeps
    reading it). Where no link can be made, the path itself is used (a new store then needs a restart).
    """
    inode = path.stat().st_ino
    link = path.with_name(f".{path.name}.{inode}.open")
    for old in path.parent.glob(f".{path.name}.*.open"):
        if old != link:
            old.unlink(missing_ok=True)
    try:
        if not link.exists():
            os.link(path, link)
        return link
    except OSError:
        return path


def open_store(path: Path, follow_replacements: bool = False) -> Extract:
    """A prepared store, read-only (several processes may read it at once). `follow_replacements`: this
    process will open the same path again after a new week's store has replaced it (the app)."""
    try:
        con = duckdb.connect(str(_version_path(path) if follow_replacements else path), read_only=True)
        con.execute("set enable_progress_bar = false")
        meta = {r["key"]: r["value"] for r in fetch_rows(con, "store/meta")}
    except duckdb.Error as exc:
        raise StoreError(f"{path} is not a store this app can read ({str(exc).splitlines()[0]})") from None
    if meta.get("format") != FORMAT or meta.get("recipe") != recipe_version():
        raise StoreError(f"{path} was prepared by another version of this app; prepare it again "
                         "(python -m housing_assurance prepare EXTRACT_DIR --out STORE)")
    sources = {}
    from housing_assurance.contract import TABLES
    from housing_assurance.db import TableProblem

    for r in fetch_rows(con, "store/table_sources"):
        src = TableSource(TABLES[r["table_name"]], r["glob"], json.loads(r["source_types"]))
        src.problems = [TableProblem(**p) for p in json.loads(r["problems"])]
        sources[r["table_name"]] = src
    extract = Extract(Path(meta["source"]), con, json.loads(meta["manifest"]), meta.get("manifest_problem") or None,
                      sources, store=path)
    from housing_assurance.validate import Finding

    extract._validation_findings = [  # type: ignore[attr-defined]
        Finding(**{k: v for k, v in r.items() if k != "id"}) for r in fetch_rows(con, "store/validation_findings")]
    return extract


# ---------------------------------------------------------------------------------------------- preparing


def _report(progress: Progress | None, stage: str, fraction: float) -> None:
    if progress is not None:
        progress(stage, fraction)


def prepared_weeks(extract: Extract) -> list[date]:
    """The weeks a store holds: every Sunday from a year before the first complete week (so that the
    first week has its 52-week trend and the same week last year) to the latest complete week, at most
    MAX_PREPARED_WEEKS of them (and a year before); without a usable extracted_at, to the last week
    before the latest record."""
    selectable = extract.span().selectable_weeks()[:MAX_PREPARED_WEEKS]
    earliest = selectable[-1] - timedelta(weeks=COMPARISON_WEEKS - 1)
    return [earliest + timedelta(weeks=i) for i in range((selectable[0] - earliest).days // 7 + 1)]


def prepared_scopes(extract: Extract) -> list:
    """Whole landlord, each region, each team, and each manager's teams (where a manager has several)."""
    from housing_assurance.scope import WHOLE_LANDLORD, Scope

    names = extract.query("names")
    regions = names.filter(pl.col("kind") == "region")["id"].to_list()
    teams = names.filter(pl.col("kind") == "team")["id"].to_list()
    managed = extract.query("store/manager_teams")
    sets = {tuple(sorted(t)) for t in managed["teams"].to_list() if len(t) > 1}
    return [WHOLE_LANDLORD, *(Scope(region=r) for r in regions), *(Scope(teams=(t,)) for t in teams),
            *(Scope(teams=s) for s in sorted(sets))]


def prepare(folder: str | Path, out: str | Path, progress: Progress | None = None) -> Path:
    """Validate an extract and write its store, atomically (a temporary file, then a rename)."""
    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise StoreError(f"no extract folder at {folder}")
    if out.resolve() == folder.resolve() or folder.resolve() in out.resolve().parents:
        raise StoreError(f"{out} is inside the extract folder {folder}; write the store outside it "
                         "(choose another --out)")
    if out.exists() and not is_prepared_store(out):
        raise StoreError(f"{out} exists and is not a store this app prepared; it is left alone (choose another --out)")
    if not out.parent.is_dir():
        raise StoreError(f"no folder {out.parent} to write {out.name} into")
    fd, tmp_name = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB makes the file itself
    try:
        # Built in memory (twice as fast as writing as it goes), then copied into the file in one pass.
        _report(progress, "Reading the extract", 0.0)
        extract = open_extract(folder, config={"memory_limit": MEMORY_LIMIT, "temp_directory": str(tmp) + ".spill"})
        _write_store(extract, folder, progress)
        _report(progress, "Writing the store", 0.95)
        run_statement(extract.con, "store/attach_out", {"path": str(tmp)})
        run_statement(extract.con, "store/copy_out")
        run_statement(extract.con, "store/detach_out")
        extract.con.close()
        os.chmod(tmp, 0o640)  # personal data: owner and group only
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
        shutil.rmtree(f"{tmp}.spill", ignore_errors=True)
    _report(progress, "Done", 1.0)
    return out


def _table(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    con.from_arrow(frame.to_arrow()).create(name)


def _write_store(extract: Extract, folder: Path, progress: Progress | None) -> None:
    from housing_assurance import risk, tsm
    from housing_assurance.validate import findings_frame

    con = extract.con
    _report(progress, "Validating", 0.1)
    findings = findings_frame(extract)
    _table(con, "validation_findings", findings)
    meta = {"format": FORMAT, "recipe": recipe_version(), "source": str(folder.resolve()),
            "prepared_at": datetime.now().isoformat(timespec="seconds"),
            "manifest": json.dumps(extract.manifest, allow_nan=False),
            "manifest_problem": extract.manifest_problem or "",
            "closure_dates": json.dumps([d.isoformat() for d in closure_dates()], allow_nan=False)}
    _table(con, "store_meta", pl.DataFrame({"key": list(meta), "value": list(meta.values())}))
    _table(con, "table_sources", pl.DataFrame([{
        "table_name": name, "glob": src.glob, "source_types": json.dumps(src.source_types, allow_nan=False),
        "problems": json.dumps([asdict(p) for p in src.problems], allow_nan=False)}
        for name, src in extract.sources.items()],
        schema={"table_name": pl.Utf8, "glob": pl.Utf8, "source_types": pl.Utf8, "problems": pl.Utf8}))

    weeks = prepared_weeks(extract)
    risk.load_model_library(extract, weeks[-1])  # here, not by the thread that trains
    # Homes at risk learns (seconds of numpy and polars) while DuckDB computes the figures.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="prepare-risk") as pool:
        at_risk = pool.submit(_risk_tables, extract, weeks[-1])
        _write_figures(extract, weeks, progress)
        _report(progress, "Our TSM returns", 0.8)
        returns = [tsm.our_figures(extract, year) for year in tsm.years_with_figures(extract)]
        _table(con, "tsm_returns", tsm.returns_frame(returns))
        _report(progress, "Homes at risk", 0.85)
        for name, frame in at_risk.result().items():
            _table(con, name, frame)


def weeks_per_step(homes: int) -> int:
    """How many weeks a query runs for at a time when a store of this many homes is prepared."""
    return max(MIN_WEEKS_PER_STEP, HOME_WEEKS_PER_STEP // max(homes, 1))


def _write_figures(extract: Extract, weeks: list[date], progress: Progress | None) -> None:
    from housing_assurance.figures import SQL_QUERIES, FigureStore

    con = extract.con
    _table(con, "figure_weeks", pl.DataFrame({"as_of": weeks}, schema={"as_of": pl.Date}))
    store = FigureStore(extract, name="figure_rows")
    step = weeks_per_step(one_row(con, "store/homes_count")["homes"])
    steps = [(q, weeks[i:i + step]) for i in range(0, len(weeks), step) for q in SQL_QUERIES]
    for n, (query, part) in enumerate(steps):
        _report(progress, f"Computing {query}", 0.15 + 0.55 * n / len(steps))
        store.ensure(query, part)

    _report(progress, "Figures for every scope", 0.7)
    scopes = prepared_scopes(extract)
    _table(con, "figure_scopes", pl.DataFrame(
        {"scope_key": [s.key for s in scopes], "scope_region": [s.region for s in scopes],
         "scope_teams": [list(s.teams) if s.teams is not None else None for s in scopes]},
        schema={"scope_key": pl.Utf8, "scope_region": pl.Utf8, "scope_teams": pl.List(pl.Utf8)}))
    _table(con, "figures", store.figures_for_scopes("figure_scopes", weeks))


def _risk_tables(extract: Extract, as_of: date) -> dict[str, pl.DataFrame]:
    """The latest week's homes-at-risk scores and back-test replays (when the extract is long enough)."""
    from housing_assurance import risk

    try:
        scored = risk.score_homes(extract, as_of)
    except risk.RiskError:
        return {}
    try:
        replays = risk.replay(extract, as_of)
    except risk.RiskError:
        return {"risk_scores": scored}
    return {"risk_scores": scored, "risk_replays": pl.concat([
        r.scored.with_columns(for_as_of=pl.lit(as_of), replay_as_of=pl.lit(r.as_of),
                              training_examples=pl.lit(r.training_examples),
                              training_reports=pl.lit(r.training_reports),
                              reported=pl.col("property_id").is_in(list(r.reported)))
        for r in replays])}


def has_table(extract: Extract, name: str) -> bool:
    return name in set(run_query(extract.con, "store/tables")["table_name"].to_list())


def stored(extract: Extract, table: str, **params: object) -> pl.DataFrame | None:
    """A table worked out when the store was prepared, read by queries/store/TABLE.sql with `params`; None
    without a store, from a store without the table, or when it holds no rows for them (then work it out)."""
    if extract.store is None or not has_table(extract, table):
        return None
    found = extract.query(f"store/{table}", **params)
    return found if found.height else None
