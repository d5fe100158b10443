"""The data access layer: one DuckDB connection with a table per contract table.

Every page, command and test reads the extract through `open_extract`. Each
table is read from `NAME.parquet` or a folder `NAME/` of parts (hive folders
allowed), cast to the contract's types and loaded into memory. A table that
cannot be used as it stands (missing, unreadable, a missing column, a type
that cannot be cast safely, a duplicate primary key) is loaded empty, with the
reason kept in `Extract.table_errors`, so the rest of the extract still works
and no figure is ever computed from half-right rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from housing_assurance import workdays
from housing_assurance.contract import DUCKDB_TYPES, TABLES, Table
from housing_assurance.settings import PROJECT_ROOT, closure_dates

QUERIES_DIR = PROJECT_ROOT / "queries"

_INTEGER_TYPES = {
    "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT",
    "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT", "UHUGEINT",
}
_TIMESTAMP_TYPES = {"TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"}
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


# A table's parquet parts. Values in hive folder names stay text (`area=0012` is "0012", not 12)
# and are cast to the contract's type like any other column.
READ_PARTS = "read_parquet($glob, hive_partitioning = true, union_by_name = true, hive_types_autocast = false)"
DESCRIBE_PARTS = "describe select * from " + READ_PARTS
COUNT_PARTS = "select count(*) from " + READ_PARTS
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
# Whether a folder name's text is a value of a contract type (a type cannot be a bound parameter,
# so there is one fixed query per type; string and enum columns take any text).
_PARSES_AS = {
    "int": "select try_cast($v as BIGINT) is not null",
    "double": "select try_cast($v as DOUBLE) is not null",
    "bool": "select try_cast($v as BOOLEAN) is not null",
    "date": "select try_cast($v as DATE) is not null",
    "timestamp": "select try_cast($v as TIMESTAMP) is not null",
}


def _hive_values(folder: Path, parts: list[Path]) -> dict[str, set[str]]:
    """The values of each hive key (`key=value` folder names) among a table's parts."""
    values: dict[str, set[str]] = {}
    for part in parts:
        for name in part.relative_to(folder).parts[:-1]:
            key, sep, value = name.partition("=")
            if sep:
                values.setdefault(key, set()).add(value)
    return values


def _unparsable(values: set[str], contract_type: str) -> str | None:
    """The first folder value that is not a valid value of the contract type (None when all are)."""
    for value in sorted(values - {HIVE_NULL, ""}):
        if not duckdb.execute(_PARSES_AS[contract_type], {"v": value}).fetchall()[0][0]:
            return value
    return None


def locate(extract_dir: Path, table: Table) -> TableSource:
    """Find the table's file or folder and check its columns against the contract."""
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
        rows = duckdb.sql(DESCRIBE_PARTS, params={"glob": src.glob}).fetchall()
    except duckdb.Error as exc:
        first_line = str(exc).strip().splitlines()[0]
        src.problems.append(TableProblem(table.name, None, f"unreadable parquet ({first_line})", "unreadable"))
        return src
    src.source_types = {name: type_ for name, type_, *_ in rows}
    folder_values = _hive_values(folder, parts) if not file.is_file() else {}
    for col in table.columns:
        found = src.source_types.get(col.name)
        if found is None:
            src.problems.append(TableProblem(table.name, col.name, "missing required column", "missing_column"))
        elif col.name in folder_values and found == "VARCHAR" and col.type in _PARSES_AS:
            bad = _unparsable(folder_values[col.name], col.type)
            if bad:
                src.problems.append(TableProblem(
                    table.name, col.name, f"folder name {col.name}={bad} is not a valid "
                    f"{DUCKDB_TYPES[col.type]}", "wrong_type"))
        elif not is_safe_cast(found, col.type):
            src.problems.append(TableProblem(
                table.name, col.name,
                f"column is {found}, which cannot be cast safely to {DUCKDB_TYPES[col.type]}", "wrong_type"))
    return src


def _select_list(src: TableSource) -> str:
    """Cast each contract column (names come from the contract, never from the data)."""
    parts = []
    for col in src.table.columns:
        expr = f'"{col.name}"'
        if src.source_types[col.name] == "TIMESTAMP WITH TIME ZONE":
            expr = f"timezone('Europe/London', {expr})"
        parts.append(f'cast({expr} as {DUCKDB_TYPES[col.type]}) as "{col.name}"')
    return ", ".join(parts)


def check_primary_key(con: duckdb.DuckDBPyConnection, table: Table) -> TableProblem | None:
    """A duplicate key makes every figure built on the table doubtful, so the table is not used."""
    pk = table.primary_key
    n_keys, n_rows, examples = con.execute(
        f'select count(*), coalesce(sum(n), 0), min(k, 5) from (select "{pk}" as k, count(*) as n '
        f'from {table.name} where "{pk}" is not null group by all having count(*) > 1)'
    ).fetchall()[0]  # fetchall: an unread result would block the connection
    if not n_keys:
        return None
    return TableProblem(
        table.name, pk,
        f"duplicate primary key: {n_keys} {pk} value{'s are' if n_keys != 1 else ' is'} used by more than one "
        f"row ({n_rows} rows); the table is not used until each {pk} is unique",
        "duplicate_key", int(n_rows), [str(e) for e in examples or []])


def _empty_table_sql(table: Table) -> str:
    cols = ", ".join(f'"{c.name}" {DUCKDB_TYPES[c.type]}' for c in table.columns)
    return f"create or replace table {table.name} ({cols})"


def read_manifest(extract_dir: Path) -> tuple[dict, str | None]:
    """The manifest, and a problem in words when it is missing or malformed."""
    path = extract_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return {}, f"missing: no manifest.json in {extract_dir}"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, f"manifest.json is not readable JSON ({exc})"
    if not isinstance(manifest, dict):
        return {}, "manifest.json is not a JSON object"
    try:
        datetime.fromisoformat(str(manifest.get("extracted_at")))
    except ValueError:
        return manifest, "manifest.json has no valid extracted_at (expected YYYY-MM-DDTHH:MM:SS)"
    return manifest, None


@dataclass
class Extract:
    """An opened extract: the connection plus what could and could not be loaded."""

    path: Path
    con: duckdb.DuckDBPyConnection
    manifest: dict
    manifest_problem: str | None
    sources: dict[str, TableSource]

    @property
    def table_errors(self) -> list[TableProblem]:
        return [p for s in self.sources.values() for p in s.problems]

    @property
    def unusable_tables(self) -> set[str]:
        return {name for name, s in self.sources.items() if not s.usable}

    @property
    def extracted_at(self) -> datetime | None:
        try:
            return datetime.fromisoformat(str(self.manifest.get("extracted_at")))
        except ValueError:
            return None

    @property
    def landlord(self) -> str:
        return str(self.manifest.get("landlord") or self.path.name)

    def query(self, name: str, **params) -> pl.DataFrame:
        """Run `queries/NAME.sql` with bound parameters, as a polars frame."""
        return run_sql(self.con, load_sql(name), params)

    def sql(self, sql: str, **params) -> pl.DataFrame:
        return run_sql(self.con, sql, params)


def load_sql(name: str) -> str:
    return (QUERIES_DIR / f"{name}.sql").read_text()


def run_sql(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pl.DataFrame:
    cur = con.cursor()
    try:
        return cur.sql(sql, params=params or None).pl()
    finally:
        cur.close()


def open_extract(extract_dir: str | Path, closures: tuple[date, ...] | None = None) -> Extract:
    """Load every contract table (usable or empty), the working-day calendar and the SQL macros."""
    extract_dir = Path(extract_dir)
    con = duckdb.connect()
    # No progress bar (cursors inherit this): DuckDB draws it on stdout, which would corrupt `--json` output.
    con.execute("set enable_progress_bar = false")
    manifest, manifest_problem = read_manifest(extract_dir)
    sources = {}
    for table in TABLES.values():
        src = locate(extract_dir, table)
        if src.usable:
            try:
                con.execute(
                    f"create or replace table {table.name} as select {_select_list(src)} from {READ_PARTS}",
                    {"glob": src.glob},
                )
            except duckdb.Error as exc:
                first_line = str(exc).strip().splitlines()[0]
                src.problems.append(TableProblem(table.name, None, f"could not be read ({first_line})",
                                                 "unreadable"))
            else:
                duplicate = check_primary_key(con, table)
                if duplicate is not None:
                    src.problems.append(duplicate)
        if not src.usable:
            con.execute(_empty_table_sql(table))
        sources[table.name] = src
    deadlines = workdays.deadline_table(tuple(closure_dates() if closures is None else closures))
    con.register("deadline_source", deadlines)
    con.execute("create table working_day_deadlines as select * from deadline_source")
    con.unregister("deadline_source")
    con.execute(load_sql("_setup"))
    return Extract(extract_dir, con, manifest, manifest_problem, sources)
