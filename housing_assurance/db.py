"""The data access layer: one DuckDB connection with a table per contract table, and the queries.

Every page, command and test reads the extract through `open_extract`. Each table is read from
`NAME.parquet` or a folder `NAME/` of parts (hive folders allowed), cast to the contract's types and
loaded into memory. A table that cannot be used as it stands (missing, unreadable, a missing column,
a type that cannot be cast safely, a duplicate primary key) is loaded empty, with the reason kept in
`Extract.table_errors`, so the rest of the extract still works and no figure is ever computed from
half-right rows. Then queries/setup/*.sql builds the shared calendar, staging tables, scope, rules
and clocks.

Odd but valid values are settled here, once, so every figure, list and export agrees:
- a NaN or infinite number in a double column (cost_gbp, compensation_*_gbp) is loaded as null,
  i.e. missing (validation counts them from the files as a `not_finite` warning);
- the manifest's extracted_at is naive Europe/London time (a time with an offset is converted). One
  later than now (beyond CLOCK_ALLOWANCE) or before 2000-01-01 cannot be when the extract was taken:
  it is a manifest problem (an error finding) and is not used, so no week is "complete" because of
  it and the extract's weeks are those its records show (weeks.Span); 9999-12-31 no longer means
  400,000 weeks to prepare. (A store keeps the verdict of the day it was prepared; correcting the
  manifest changes the extract's content key, so the corrected extract is prepared again.)
- manifest.json is read as strict JSON (NaN and Infinity are not JSON).

All SQL lives in queries/: one file per query, parameters bound. A query's natural order, where it
has one, is declared in its header (`-- order by: …`) and applied only when rows are listed.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb
import polars as pl

from housing_assurance.contract import DUCKDB_TYPES, HOMES_TENURES, LOW_COST_RENTAL_TENURES, TABLES, TENURES, Table
from housing_assurance.settings import PROJECT_ROOT, closure_dates
from housing_assurance.weeks import Span

QUERIES_DIR = PROJECT_ROOT / "queries"
SETUP_DIR = QUERIES_DIR / "setup"

_INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}
_TIMESTAMP_TYPES = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE",
                    "TIMESTAMPTZ_NS"}
_ZONED = {"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ_NS"}  # read as Europe/London local time
# Nanosecond times (pandas writes them) are cut to the microsecond: DuckDB's cast rounds, which would
# move 23:59:59.999999999, a common "end of the day", to the next day.
_NANOSECONDS = {"TIMESTAMP_NS", "TIMESTAMPTZ_NS"}
# Source types that can be cast to each contract type without losing or inventing information.
_SAFE_SOURCES = {
    "string": _INTEGER_TYPES | {"VARCHAR"},
    "enum": {"VARCHAR"},
    "int": _INTEGER_TYPES,
    "double": _INTEGER_TYPES | {"FLOAT", "DOUBLE"},
    "bool": {"BOOLEAN"},
    "date": {"DATE"} | _TIMESTAMP_TYPES,
    "timestamp": {"DATE"} | _TIMESTAMP_TYPES,
}
# The polars type of each contract type (an unusable table is loaded empty with these columns).
POLARS_TYPES = {
    "string": pl.Utf8, "enum": pl.Utf8, "int": pl.Int64, "double": pl.Float64, "bool": pl.Boolean,
    "date": pl.Date, "timestamp": pl.Datetime("us"),
}
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
LONDON = ZoneInfo("Europe/London")
# How far after now an extracted_at may lie: the hour repeated when the clocks go back, and two systems'
# clocks a little apart. Anything later cannot be when the extract was taken.
CLOCK_ALLOWANCE = timedelta(hours=1)
EARLIEST_EXTRACTED_AT = datetime(2000, 1, 1)


# ---------------------------------------------------------------------------------------------- queries


@dataclass(frozen=True)
class Query:
    """One file of queries/: its SQL, the parameters it names and its natural order (if declared)."""

    name: str
    text: str
    order_by: str | None

    @property
    def parameters(self) -> set[str]:
        return set(re.findall(r"\$([a-z_]+)", self.text))

    def bound(self, params: dict) -> dict:
        """Only the parameters the query names (DuckDB refuses extra ones)."""
        return {k: v for k, v in params.items() if k in self.parameters}

    def statement(self, ordered: bool) -> str:
        """The SQL to run, in the query's declared order (`-- order by:`) when asked."""
        if not (ordered and self.order_by):
            return self.text
        return f"select * from (\n{self.text.rstrip().rstrip(';')}\n) order by {self.order_by}"


@cache
def load_query(name: str) -> Query:
    """queries/NAME.sql (NAME may name a sub-folder, e.g. load/parts)."""
    text = (QUERIES_DIR / f"{name}.sql").read_text()
    found = re.search(r"^-- order by: (.+)$", text, flags=re.MULTILINE)
    return Query(name, text, found.group(1).strip() if found else None)


def relation(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> duckdb.DuckDBPyRelation:
    """A query as a DuckDB relation to build on (lazy: its columns are known without running it)."""
    q = load_query(name)
    return con.sql(q.text, params=q.bound(params or {}) or None)


# DuckDB 2 warns that Arrow output of an executed statement copies its rows once. The relation it suggests
# instead parses and binds the query twice (once to know its columns, once to run it): a third of the time
# of the small queries behind a page, and no quicker with six million rows, where the copy is paid. So the
# rows are read from the executed statement, and this module's own reads are not warned about.
warnings.filterwarnings("ignore", message="Arrow output on a DB-API result makes an extra copy",
                        category=UserWarning, module=re.escape(__name__))


def _execute(cur: duckdb.DuckDBPyConnection, q: Query, params: dict | None, ordered: bool) -> None:
    """The query run on the cursor, its parameters bound (in its declared order when asked)."""
    cur.execute(q.statement(ordered), q.bound(params or {}) or None)


def _rows(cur: duckdb.DuckDBPyConnection, q: Query, params: dict | None, ordered: bool) -> pl.DataFrame:
    """The query's rows as a polars frame."""
    _execute(cur, q, params, ordered)
    return pl.from_arrow(cur.to_arrow_table())


def run_query(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None,
              ordered: bool = True) -> pl.DataFrame:
    """Rows of queries/NAME.sql with bound parameters, on a cursor of its own (safe across threads)."""
    cur = con.cursor()
    try:
        return _rows(cur, load_query(name), params, ordered)
    finally:
        cur.close()


def one_row(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> dict[str, Any]:
    """The one row of queries/NAME.sql (a count, a check, a span) as a dict, on a cursor of its own: run
    straight away, without the relation run_query builds to know a frame's columns first (half the time of a
    query of a few milliseconds; validation runs some 150 of them)."""
    q = load_query(name)
    cur = con.cursor()
    try:
        cur.execute(q.text, q.bound(params or {}) or None)
        row = cur.fetchone()
        if row is None:
            raise ValueError(f"queries/{name}.sql gave no row")
        return dict(zip([column[0] for column in cur.description], row, strict=True))
    finally:
        cur.close()


def run_query_over(con: duckdb.DuckDBPyConnection, name: str, frames: dict[str, pl.DataFrame],
                   params: dict | None = None) -> pl.DataFrame:
    """Rows of queries/NAME.sql over frames of ours, each registered under its name on a cursor of its own
    (no other cursor sees them; closing the cursor drops them), in their order where the query keeps it."""
    cur = con.cursor()
    try:
        for table, frame in frames.items():
            cur.register(table, frame)
        return _rows(cur, load_query(name), params, ordered=False)
    finally:
        cur.close()


def fetch_rows(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None,
               ordered: bool = True) -> list[dict]:
    """A small query's rows as dicts, without going through Arrow (a short command then never imports it)."""
    q = load_query(name)
    cur = con.cursor()
    try:
        _execute(cur, q, params, ordered)
        columns = [column[0] for column in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    finally:
        cur.close()


def run_statement(con: duckdb.DuckDBPyConnection, name: str, params: dict | None = None) -> None:
    """Run queries/NAME.sql, a statement that returns nothing (attaching or copying a database)."""
    q = load_query(name)
    con.execute(q.text, q.bound(params or {}) or None)


def query_columns(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[str]:
    """The columns a query returns, from binding it (nothing is run)."""
    cur = con.cursor()
    try:
        return relation(cur, name, params).columns
    finally:
        cur.close()


# ---------------------------------------------------------------------------------------------- loading


def is_safe_cast(source_type: str, contract_type: str) -> bool:
    base = source_type.split("(")[0].strip()
    if base == "NULL" or source_type.startswith("ENUM"):
        return True
    if base == "DECIMAL":
        return contract_type == "double" or (contract_type == "int" and source_type.endswith(",0)"))
    return base in _SAFE_SOURCES[contract_type]


@dataclass
class TableProblem:
    """Why a table cannot be used: an error finding of validation."""

    table: str
    column: str | None
    message: str
    # What kind of problem (missing_table, unreadable, missing_column, wrong_type, duplicate_key),
    # and for a duplicate key the rows affected and up to five example keys.
    check: str = ""
    rows: int | None = None
    examples: list[str] = field(default_factory=list)


@dataclass
class TableSource:
    """Where a table's rows come from and how each contract column is read."""

    table: Table
    glob: str | None = None  # the parquet path or glob, None when not found
    source_types: dict[str, str] = field(default_factory=dict)
    problems: list[TableProblem] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.glob is not None and not self.problems


def _hive_values(folder: Path, parts: list[Path]) -> dict[str, set[str]]:
    """The values of each hive key (`key=value` folder names) among a table's parts."""
    values: dict[str, set[str]] = {}
    for part in parts:
        for name in part.relative_to(folder).parts[:-1]:
            key, sep, value = name.partition("=")
            if sep:
                values.setdefault(key, set()).add(value)
    return values


def _unparsable(con: duckdb.DuckDBPyConnection, values: set[str], contract_type: str) -> str | None:
    """The first folder value that is not a valid value of the contract type (None when all are)."""
    for value in sorted(values - {HIVE_NULL, ""}):
        if not one_row(con, "load/folder_value_parses", {"type": contract_type, "value": value})["parses"]:
            return value
    return None


def locate(extract_dir: Path, table: Table, con: duckdb.DuckDBPyConnection | None = None) -> TableSource:
    """Find the table's file or folder and check its columns against the contract."""
    con = con or duckdb.connect()
    src = TableSource(table)
    file, folder = extract_dir / f"{table.name}.parquet", extract_dir / table.name
    where = f"{file.name} or a folder {folder.name}/ of parquet parts"
    parts = sorted(p for p in folder.rglob("*.parquet") if p.is_file()) if folder.is_dir() else []
    if file.is_file():
        src.glob = str(file)
        parts = [file]
    elif parts:
        src.glob = str(folder / "**" / "*.parquet")
    else:
        if folder.is_dir():
            found = f"the folder {folder.name}/ holds no .parquet files; expected {where}"
        elif file.is_dir():
            found = f"{file.name} is a folder, not a file; expected {where}"
        else:
            found = f"no {where} in {extract_dir}"
        src.problems.append(TableProblem(table.name, None, f"missing: {found}", "missing_table"))
        return src
    empty = [p for p in parts if p.stat().st_size == 0]
    if empty:
        names = ", ".join(str(p.relative_to(extract_dir)) for p in empty[:3])
        src.problems.append(TableProblem(
            table.name, None, f"unreadable parquet: {names} is an empty file (0 bytes)", "unreadable"))
        return src
    try:
        described = run_query(con, "load/parts_columns", {"glob": src.glob}, ordered=False)
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        src.problems.append(TableProblem(table.name, None, f"unreadable parquet ({first_line})", "unreadable"))
        return src
    src.source_types = dict(zip(described["column_name"], described["column_type"], strict=True))
    folder_values = _hive_values(folder, parts) if not file.is_file() else {}
    for col in table.columns:
        found = src.source_types.get(col.name)
        if found is None:
            src.problems.append(TableProblem(table.name, col.name, "missing required column", "missing_column"))
        elif col.name in folder_values and found == "VARCHAR" and col.type not in ("string", "enum"):
            bad = _unparsable(con, folder_values[col.name], col.type)
            if bad:
                src.problems.append(TableProblem(
                    table.name, col.name, f"folder name {col.name}={bad} is not a valid "
                    f"{DUCKDB_TYPES[col.type]}", "wrong_type"))
        elif not is_safe_cast(found, col.type):
            src.problems.append(TableProblem(
                table.name, col.name,
                f"column is {found}, which cannot be cast safely to {DUCKDB_TYPES[col.type]}", "wrong_type"))
    return src


def _cast_columns(src: TableSource) -> list[duckdb.Expression]:
    """Each contract column cast to its type (time-zone-aware times to Europe/London local time;
    nanoseconds cut, not rounded, to the microsecond; a NaN or infinite double to null, so that no sum, mean
    or list ever shows "nan")."""
    out = []
    for col in src.table.columns:
        expr = duckdb.ColumnExpression(col.name)
        source = src.source_types[col.name]
        if source in _ZONED:
            expr = duckdb.FunctionExpression("timezone", duckdb.ConstantExpression("Europe/London"), expr)
        if source in _NANOSECONDS:
            expr = duckdb.FunctionExpression("make_timestamp", duckdb.FunctionExpression("epoch_us", expr))
        expr = expr.cast(duckdb.sqltype(DUCKDB_TYPES[col.type]))
        if col.type == "double":
            expr = duckdb.CaseExpression(duckdb.FunctionExpression("isfinite", expr), expr)
        out.append(expr.alias(col.name))
    return out


def check_primary_key(con: duckdb.DuckDBPyConnection, table: Table, rows: str) -> TableProblem | None:
    """A duplicate key makes every figure built on the table doubtful, so the table is not used."""
    pk = table.primary_key
    found = one_row(con, "load/duplicate_keys", {"table": rows, "key": pk})
    n_keys, n_rows = int(found["keys"]), int(found["rows"])
    if not n_keys:
        return None
    return TableProblem(
        table.name, pk,
        f"duplicate primary key: {n_keys} {pk} value{'s are' if n_keys != 1 else ' is'} used by more than one "
        f"row ({n_rows} rows); the table is not used until each {pk} is unique",
        "duplicate_key", n_rows, [str(e) for e in found["examples"] or []])


def _load(con: duckdb.DuckDBPyConnection, src: TableSource) -> None:
    """Load a table's parts cast to the contract, unless a cast fails or a primary key is used twice.

    The parts are first a view (`_parts_NAME`), so that nothing is loaded that then has to be undone.
    """
    parts = f"_parts_{src.table.name}"
    try:
        relation(con, "load/parts", {"glob": src.glob}).select(*_cast_columns(src)).create_view(parts)
        duplicate = check_primary_key(con, src.table, parts)
        if duplicate is None:
            con.table(parts).create(src.table.name)
        else:
            src.problems.append(duplicate)
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        src.problems.append(TableProblem(src.table.name, None, f"could not be read ({first_line})", "unreadable"))


def _load_empty(con: duckdb.DuckDBPyConnection, table: Table) -> None:
    schema = {c.name: POLARS_TYPES[c.type] for c in table.columns}
    con.from_arrow(pl.DataFrame(schema=schema).to_arrow()).create(table.name)


def _not_json(constant: str) -> None:
    raise ValueError(f"{constant} is not a JSON value")


def parse_extracted_at(value: object) -> datetime | None:
    """extracted_at as naive Europe/London time (a time with an offset converted), None when it is not one."""
    try:
        taken = datetime.fromisoformat(str(value))
        return taken.astimezone(LONDON).replace(tzinfo=None) if taken.tzinfo else taken
    except (ValueError, OverflowError):
        return None


def extracted_at_problem(value: object, taken: datetime) -> str | None:
    """Why an extracted_at cannot be when the extract was taken: later than now, or before 2000."""
    now = datetime.now(LONDON).replace(tzinfo=None, microsecond=0)
    if taken > now + CLOCK_ALLOWANCE:
        return (f"manifest.json has extracted_at {value}, later than now ({now:%Y-%m-%d %H:%M} Europe/London): "
                "an extract cannot be taken in the future; its weeks are taken from its records until it is fixed")
    if taken < EARLIEST_EXTRACTED_AT:
        return (f"manifest.json has extracted_at {value}, before {EARLIEST_EXTRACTED_AT:%Y-%m-%d}: not when this "
                "extract was taken (a placeholder date?); its weeks are taken from its records until it is fixed")
    return None


def read_manifest(extract_dir: Path) -> tuple[dict, str | None]:
    """The manifest, and a problem in words when it is missing or malformed or its extracted_at impossible."""
    path = extract_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(), parse_constant=_not_json)
    except FileNotFoundError:
        return {}, f"missing: no manifest.json in {extract_dir}"
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, f"manifest.json is not readable JSON ({exc})"
    if not isinstance(manifest, dict):
        return {}, "manifest.json is not a JSON object"
    taken = parse_extracted_at(manifest.get("extracted_at"))
    if taken is None:
        return manifest, "manifest.json has no valid extracted_at (expected YYYY-MM-DDTHH:MM:SS)"
    return manifest, extracted_at_problem(manifest["extracted_at"], taken)


@dataclass
class Extract:
    """An opened extract: the connection plus what could and could not be loaded."""

    path: Path
    con: duckdb.DuckDBPyConnection
    manifest: dict
    manifest_problem: str | None
    sources: dict[str, TableSource]
    store: Path | None = None  # the prepared store this was read from (None: loaded from the folder)

    @property
    def table_errors(self) -> list[TableProblem]:
        return [p for s in self.sources.values() for p in s.problems]

    @property
    def unusable_tables(self) -> set[str]:
        return {name for name, s in self.sources.items() if not s.usable}

    def unusable_text(self) -> str | None:
        """The tables the extract could not use, and why the first could not, in one line (None: all used)."""
        problems = self.table_errors
        if not problems:
            return None
        names, first = sorted({p.table for p in problems}), problems[0]
        return (f"the extract at {self.path} has {len(names)} unusable table{'s' if len(names) != 1 else ''} "
                f"({', '.join(names)}; {first.table}{'.' + first.column if first.column else ''}: {first.message})")

    @property
    def extracted_at(self) -> datetime | None:
        """When the extract was taken (London time); None when the manifest has a problem with it."""
        return None if self.manifest_problem else parse_extracted_at(self.manifest.get("extracted_at"))

    @property
    def landlord(self) -> str:
        return str(self.manifest.get("landlord") or self.path.name)

    def span(self) -> Span:
        """Where the extract's history starts and when it was taken: which weeks it can report."""
        records = one_row(self.con, "extract_span")
        return Span(records["first_record_at"], self.extracted_at, records["last_record_at"])

    def query(self, name: str, ordered: bool = True, **params) -> pl.DataFrame:
        """Rows of `queries/NAME.sql` with bound parameters, as a polars frame."""
        return run_query(self.con, name, params, ordered)

    def sql(self, sql: str, **params) -> pl.DataFrame:
        """Ad-hoc SQL for tests and an analyst at a Python prompt (the product's own SQL is in queries/)."""
        cur = self.con.cursor()
        try:
            return cur.sql(sql, params=params or None).pl()
        finally:
            cur.close()


def _register(con: duckdb.DuckDBPyConnection, name: str, frame) -> None:
    """A table built in Python (the calendar, the clocks, the tenure rules) for the SQL to read."""
    source = frame if not isinstance(frame, pl.DataFrame) else frame.to_arrow()
    con.from_arrow(source).create(name)


def tenure_rules() -> pl.DataFrame:
    """Which tenures count as homes and which are rented homes (contract.py holds the lists)."""
    return pl.DataFrame({
        "tenure": list(TENURES),
        "counts_as_home": [t in HOMES_TENURES for t in TENURES],
        "is_rented": [t in LOW_COST_RENTAL_TENURES for t in TENURES],
    })


def open_extract(extract_dir: str | Path, closures: tuple[date, ...] | None = None,
                 config: dict | None = None) -> Extract:
    """Load every contract table (usable or empty), the calendar, clocks and rules, then queries/setup,
    into memory (`config`: DuckDB settings, such as a memory limit while a store is prepared)."""
    from housing_assurance import clocks, workdays  # the calendar's imports only where one is built

    extract_dir = Path(extract_dir)
    con = duckdb.connect(config=config or {})
    # No progress bar (cursors inherit this): DuckDB draws it on stdout, which would corrupt `--json` output.
    con.execute("set enable_progress_bar = false")
    manifest, manifest_problem = read_manifest(extract_dir)
    sources = {}
    for table in TABLES.values():
        src = locate(extract_dir, table, con)
        if src.usable:
            _load(con, src)
        if not src.usable:
            _load_empty(con, table)
        sources[table.name] = src
    _register(con, "working_day_deadlines",
              workdays.deadline_table(tuple(closure_dates() if closures is None else closures)))
    _register(con, "clock_lengths", pl.DataFrame(clocks.rows(), schema={
        "clock": pl.Utf8, "unit": pl.Utf8, "length": pl.Int32, "calendar": pl.Utf8}))
    _register(con, "tenure_rules", tenure_rules())
    for path in sorted(SETUP_DIR.glob("*.sql")):
        con.execute(path.read_text())
    return Extract(extract_dir, con, manifest, manifest_problem, sources)
