"""Validation of an extract against the contract (shared/spec/extract-contract.md, "Validation").

Errors are tables that cannot be used as they stand; `db.open_extract` finds them
while loading (and loads those tables empty), so here they are only reported.
Warnings are rows that are used but are doubtful; they are counted here with one
set-based query per table (plus one per reference), so a 120,000-home extract
validates in seconds. Validation only reads: it never changes the files, and it
never changes the loaded tables either.

The manifest's extracted_at: later than the time of validation or before 2000-01-01 is an error
naming the value (db.read_manifest; it is then not used); one earlier than some records shows as
their `future` warnings. A NaN or infinite number in a double column is a `not_finite` warning
counted from the files as they are (loading reads it as missing).
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, time
from pathlib import Path

import duckdb
import polars as pl

from housing_assurance.contract import CONTRACT_VERSION, STATUS_TIMESTAMPS, TABLES, Table
from housing_assurance.db import Extract, TableSource, one_row, open_extract

MANIFEST = "manifest.json"

# Date and time columns that may rightly lie after extracted_at: deadlines, planned ends, agreed extensions.
NATURALLY_FUTURE = {
    ("repairs", "target_at"),
    ("vulnerabilities", "review_due"),
    ("contractors", "contract_start"),
    ("contractors", "contract_end"),
    ("households", "tenancy_end"),
    ("properties", "in_stock_to"),
    ("complaints", "stage1_extended_to"),
    ("complaints", "stage2_extended_to"),
}
# Future only when the row says the event has happened: (table, column) -> the query that checks it.
FUTURE_ONLY_WHEN = {("appointments", "slot_start"): "future_appointment"}
# A timestamp that says the status has moved on while the status says it has not: (table, status, value, column).
TIMESTAMP_CONTRADICTS_STATUS = (
    ("repairs", "status", "open", "completed_at"),
    ("repairs", "status", "open", "cancelled_at"),
    ("damp_mould_cases", "status", "open", "resolved_at"),
    ("damp_mould_cases", "status", "open", "closed_at"),
    ("damp_mould_cases", "status", "resolved", "closed_at"),
)

_SEVERITY_ORDER = {"error": 0, "warning": 1}
_TABLE_ORDER = {name: i for i, name in enumerate([MANIFEST, *TABLES])}
FRAME_SCHEMA = {
    "id": pl.Utf8, "severity": pl.Utf8, "table": pl.Utf8, "column": pl.Utf8, "check": pl.Utf8,
    "rows": pl.Int64, "examples": pl.List(pl.Utf8), "message": pl.Utf8,
}


@dataclass
class Finding:
    """One thing wrong with the extract, with enough detail for an analyst to find it in their system."""

    severity: str  # "error": the table cannot be used; "warning": the rows are used but doubtful
    table: str  # a contract table, or "manifest.json"
    column: str | None
    check: str  # short name, e.g. "not_null", "time_order"
    rows: int  # rows affected (for an error: the rows that cannot be used, 0 when the file can't be read)
    examples: list[str] = field(default_factory=list)  # up to five primary keys, sorted
    message: str = ""

    @property
    def id(self) -> str:
        where = f"{self.table}.{self.column}" if self.column else self.table
        return f"{self.severity}:{where}:{self.check}"

    @property
    def where(self) -> str:
        return f"{self.table}.{self.column}" if self.column else self.table


@dataclass
class _Check:
    """A per-row warning: queries/validate/<query>.sql run on one table with these parameters."""

    column: str
    check: str
    query: str
    params: dict
    describe: str  # "<n> rows <describe>"
    lists_values: bool = False  # the message lists the offending values found (enums)


def validate(extract_dir: Path) -> list[Finding]:
    """Validate the extract in a folder. Never raises for anything the folder holds."""
    extract_dir = Path(extract_dir)
    try:
        extract = open_extract(extract_dir)
    except Exception as exc:  # noqa: BLE001 - whatever the folder holds, report it rather than crash
        return [Finding("error", "extract", None, "unreadable", 0, [],
                        f"the extract in {extract_dir} could not be opened: {_first_line(exc)}")]
    return validate_extract(extract)


def validate_extract(extract: Extract) -> list[Finding]:
    """Every finding for an opened extract, worked out once and kept on the extract (the app asks often)."""
    cached = getattr(extract, "_validation_findings", None)
    if cached is not None:
        return list(cached)
    findings = _manifest_findings(extract) + _table_errors(extract) + _warnings(extract)
    findings = _unique(sorted(findings, key=_sort_key))
    extract._validation_findings = findings  # type: ignore[attr-defined]
    return list(findings)


def findings_frame(extract: Extract) -> pl.DataFrame:
    """One row per finding (id, severity, table, column, check, rows, examples, message) for the dq KPIs."""
    rows = [{"id": f.id, **asdict(f)} for f in validate_extract(extract)]
    return pl.DataFrame(rows, schema=FRAME_SCHEMA)


def print_findings(findings: list[Finding], as_json: bool = False) -> None:
    """Print the findings on stdout: a line each and a summary, or a JSON list."""
    if as_json:
        json.dump([{"id": f.id, **asdict(f)} for f in findings], sys.stdout, indent=2, allow_nan=False)
        print()
        return
    if not findings:
        print("No findings: the extract meets the contract.")
    width = max((len(f.where) for f in findings), default=0)
    for f in findings:
        examples = f"  [examples: {', '.join(f.examples)}]" if f.examples else ""
        print(f"{f.severity.upper():7}  {f.where:{width}}  {_rows(f.rows):>12}  {f.message}{examples}")
    errors = sum(f.severity == "error" for f in findings)
    warnings = len(findings) - errors
    print(f"{errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}")


# ---------------------------------------------------------------- errors


def _manifest_findings(extract: Extract) -> list[Finding]:
    out = []
    if extract.manifest_problem:
        column = "extracted_at" if "extracted_at" in extract.manifest_problem else None
        out.append(Finding("error", MANIFEST, column, "manifest", 0, [], extract.manifest_problem))
    version = extract.manifest.get("contract_version")
    is_one = isinstance(version, int) and not isinstance(version, bool) and version == CONTRACT_VERSION
    if extract.manifest and not is_one:
        found = "no contract_version" if version is None else f"contract_version {json.dumps(version, allow_nan=False)}"
        out.append(Finding(
            "error", MANIFEST, "contract_version", "contract_version", 0, [],
            f"manifest.json has {found}; this app reads extracts of contract version {CONTRACT_VERSION}"))
    return out


def _table_errors(extract: Extract) -> list[Finding]:
    out = []
    for name, src in extract.sources.items():
        total: int | None = None
        for p in src.problems:
            check = p.check or ("missing_table" if p.message.startswith("missing:") else "unreadable")
            if p.rows is not None:
                rows = p.rows
            elif check in ("missing_column", "wrong_type"):
                total = _row_count(src) if total is None else total
                rows = total
            else:
                rows = 0
            column = f"column {p.column}: " if p.column else ""
            message = f"{_describe_source(src)}: {column}{p.message}"
            if check in ("missing_column", "wrong_type"):
                message += f"; the table is not used ({rows:,} rows)"
            out.append(Finding("error", name, p.column, check, rows, sorted(p.examples)[:5], message))
    return out


def _row_count(src: TableSource) -> int:
    """Rows in a table's files that cannot be used (from the parquet footers, so cheap)."""
    try:
        with duckdb.connect() as con:
            return int(one_row(con, "load/parts_rows", {"glob": src.glob})["rows"])
    except duckdb.Error:
        return 0


def _describe_source(src: TableSource) -> str:
    """The table and where it was read from, as an analyst would look for it."""
    name = src.table.name
    if src.glob is None:
        return f"table {name}"
    where = f"{name}.parquet" if src.glob.endswith(f"{name}.parquet") else f"{name}/"
    return f"table {name} ({where})"


# ---------------------------------------------------------------- warnings


def _row_checks(table: Table, extracted_at: datetime | None) -> list[_Check]:
    """The per-row warnings of one table (contract names and values are bound parameters)."""
    on = {"table": table.name, "key": table.primary_key}
    checks: list[_Check] = []
    for col in table.columns:
        if not col.nullable:
            checks.append(_Check(col.name, "not_null", "not_null", on | {"column": col.name},
                                 f"have no {col.name}, which is required"))
        if col.enum:
            checks.append(_Check(col.name, "enum", "enum", on | {"column": col.name, "allowed": list(col.enum)},
                                 f"have a {col.name} that is not one of {', '.join(col.enum)}", lists_values=True))
        if col.type == "double":  # counted in the files ($glob): loading has already made them null
            checks.append(_Check(col.name, "not_finite", "not_finite", on | {"column": col.name},
                                 f"have a {col.name} that is NaN or infinite, which is read as missing"))
    for earlier, later in table.time_order:
        checks.append(_Check(later, "time_order", "time_order", on | {"earlier": earlier, "later": later},
                             f"have {later} before {earlier}"))
    if extracted_at is not None:
        for col in table.columns:
            if col.type not in ("date", "timestamp") or (table.name, col.name) in NATURALLY_FUTURE:
                continue
            after = extracted_at if col.type == "timestamp" else datetime.combine(extracted_at.date(), time())
            when = extracted_at.date().isoformat() if col.type == "date" else f"{extracted_at:%Y-%m-%d %H:%M}"
            query = FUTURE_ONLY_WHEN.get((table.name, col.name), "future")
            checks.append(_Check(col.name, "future", query, on | {"column": col.name, "after": after},
                                 f"have {col.name} after the extract was taken (extracted_at {when})"))
    for name, status, value, column in STATUS_TIMESTAMPS:
        if name == table.name:
            checks.append(_Check(column, "status_without_time", "status_time",
                                 on | {"status": status, "value": value, "column": column, "missing": True},
                                 f"have {status} '{value}' but no {column}"))
    for name, status, value, column in TIMESTAMP_CONTRADICTS_STATUS:
        if name == table.name:
            checks.append(_Check(column, "time_without_status", "status_time",
                                 on | {"status": status, "value": value, "column": column, "missing": False},
                                 f"have a {column} but {status} '{value}'"))
    return checks


def _profile(extract: Extract, table: Table, checks: list[_Check]) -> dict | None:
    """A loaded table's row count, each column's count of values set and the latest value of each column a
    "future" check reads (queries/validate/columns_set.sql and columns_latest.sql); None if they cannot be
    read, and then every check runs."""
    dated = [c.column for c in checks if c.check == "future"]
    try:
        profile = one_row(extract.con, "validate/columns_set", {"table": table.name})
        if dated:
            profile |= one_row(extract.con, "validate/columns_latest", {"table": table.name, "columns": dated})
        return profile
    except duckdb.Error:
        return None


def _cannot_fail(c: _Check, profile: dict | None) -> bool:
    """Whether the table's profile shows that no row can fail the check: a required column set in every row,
    or a column whose latest date is no later than the extract. Only a sure "no" skips a check (on a valid
    extract, 80 of its 151 queries, for 20 that profile the tables); anything a row might fail is checked as
    before."""
    if profile is None:
        return False
    if c.query == "not_null":
        return profile[f"nonnull:{c.column}"] == profile["row_count"]
    if c.check == "future":  # the query counts rows whose value, as a timestamp, is after $after
        latest = profile[f"latest:{c.column}"]
        if latest is not None and not isinstance(latest, datetime):
            latest = datetime.combine(latest, time())  # a date column compares from its midnight
        return latest is None or latest <= c.params["after"]
    return False


def _warnings(extract: Extract) -> list[Finding]:
    """Per-row and reference warnings over the tables that are loaded (unusable tables are empty and skipped)."""
    out: list[Finding] = []
    unusable = extract.unusable_tables
    for name, table in TABLES.items():
        if name not in unusable:
            src, checks = extract.sources[name], _row_checks(table, extract.extracted_at)
            profile = _profile(extract, table, checks)
            out += [f for c in checks if not _cannot_fail(c, profile) and (f := _run_check(extract, src, c))]
    # References to a table that is itself unusable are not counted: its error already says it all.
    for name, table in TABLES.items():
        for col in table.columns:
            if col.references and name not in unusable and col.references[0] not in unusable:
                parent, parent_column = col.references
                check = _Check(col.name, "reference", "reference",
                               {"table": name, "key": table.primary_key, "column": col.name, "parent": parent,
                                "parent_column": parent_column},
                               f"have a {col.name} that is not in {parent}.{parent_column}")
                finding = _run_check(extract, extract.sources[name], check)
                if finding:
                    out.append(finding)
    return out


def _run_check(extract: Extract, src: TableSource, c: _Check) -> Finding | None:
    """One check on one table: a finding with a count and five example keys, or None when no row fails."""
    try:
        row = one_row(extract.con, f"validate/{c.query}", {"glob": src.glob, **c.params})
    except duckdb.Error as exc:
        return _check_failed(src, exc)
    n = int(row["rows"])
    if not n:
        return None
    message = f"{_describe_source(src)}: {_rows(n)} {_verb(n, c.describe)}"
    found = [v for v in row["found"] or [] if v is not None]
    if c.check == "reference":
        message += f" (not found: {', '.join(dict.fromkeys(str(v) for v in found))})"
    elif c.lists_values and found:
        message += f" (found {', '.join(repr(v) for v in found)})"
    return Finding("warning", src.table.name, c.column, c.check, n, _examples(row["examples"]), message)


def _check_failed(src: TableSource, exc: Exception) -> Finding:
    """A check that could not run is reported, never raised: validation must always finish."""
    return Finding("warning", src.table.name, None, "check_failed", 0, [],
                   f"{_describe_source(src)}: a validation check could not run ({_first_line(exc)})")


# ---------------------------------------------------------------- helpers


def _rows(n: int) -> str:
    return f"{n:,} row" + ("s" if n != 1 else "")


def _verb(n: int, describe: str) -> str:
    """'1 row has …', '2 rows have …'."""
    return "has" + describe[4:] if n == 1 and describe.startswith("have") else describe


def _examples(values) -> list[str]:
    return sorted(dict.fromkeys(str(v) for v in values or []))[:5]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _sort_key(f: Finding) -> tuple:
    table = TABLES.get(f.table)
    column = table.column_names.index(f.column) if table and f.column in table.column_names else -1
    return (_SEVERITY_ORDER.get(f.severity, 9), _TABLE_ORDER.get(f.table, 99), f.table, column, f.check)


def _unique(findings: list[Finding]) -> list[Finding]:
    """Keep ids unique (two findings of one check on one column would otherwise share an id)."""
    seen: set[str] = set()
    out = []
    for f in findings:
        base, n = f.id, 1
        while f.id in seen:
            n += 1
            f.check = f"{base.rsplit(':', 1)[1]}_{n}"
        seen.add(f.id)
        out.append(f)
    return out
