"""The SQL layer keeps its shape: every query in queries/, one file each, a header saying what a row
is, named steps ending in `select * from final`, its natural order declared in the header, and no
SQL written in the package's Python."""

import re
from datetime import date
from pathlib import Path

import pytest

from housing_assurance.db import QUERIES_DIR, load_query, query_columns, run_query
from housing_assurance.figures import SQL_QUERIES
from housing_assurance.kpis import query_params
from housing_assurance.scope import WHOLE_LANDLORD

PACKAGE = Path(__file__).resolve().parent.parent / "housing_assurance"
QUERY_FILES = sorted(p for p in QUERIES_DIR.rglob("*.sql") if p.parent.name != "setup")


@pytest.mark.parametrize("path", QUERY_FILES, ids=lambda p: str(p.relative_to(QUERIES_DIR)))
def test_each_query_says_what_a_row_is_and_ends_in_final(path):
    text = path.read_text()
    assert text.startswith("-- "), "a header comment says what one row is"
    body = "\n".join(line for line in text.splitlines() if not line.startswith("--")).strip()
    if not body.startswith("describe"):
        assert body.endswith("select * from final") or body.count("\n") < 3, "named steps end in final"
    assert not re.search(r"\border by\b[^)]*$", body.splitlines()[-1]), "order is declared in the header"


def test_no_sql_in_the_package_python():
    """SQL lives in queries/; Python names queries and binds values (tests and analysts may use Extract.sql)."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\.(sql|execute)\(\s*f?[\"'](select|with|create|insert|update|delete|describe)\b", line,
                         re.IGNORECASE):
                offenders.append(f"{path.relative_to(PACKAGE)}:{n}")
    assert not offenders


def test_averages_and_sums_of_amounts_are_exact_so_every_run_gives_the_same_figure():
    """DuckDB adds doubles up in whatever order its threads finish, so avg() or sum() over an amount
    differs in its last digits from one run to the next (the contractor scorecard's average cost did,
    at 120,000 homes: eight runs, eight values). Amounts are added up as decimals; counts as integers."""
    integer_sums = {"n", "rows", "h.homes"}
    found = []
    for path in QUERY_FILES:
        body = "\n".join(line.split("--")[0] for line in path.read_text().splitlines())
        for function, argument in re.findall(r"\b(avg|sum)\(((?:[^()]|\((?:[^()]|\([^()]*\))*\))*)\)", body):
            found.append((path.name, function, argument))
            assert argument in integer_sums or "as decimal(" in argument, (path.name, function, argument)
    assert ("ct_contractor_scorecard.sql", "avg", "cast(cost_gbp as decimal(18, 6))") in found


def test_declared_order_is_the_order_rows_are_listed(tmp_path):
    from extract_factory import write_extract

    from housing_assurance.db import open_extract

    extract = open_extract(write_extract(tmp_path))
    for query in SQL_QUERIES:
        q = load_query(query)
        assert q.order_by, f"{query} declares its natural order"
        params = query_params(query, [date(2026, 1, 11)], WHOLE_LANDLORD, with_fytd=True)
        columns = query_columns(extract.con, query, params)
        for term in q.order_by.split(","):
            assert term.split()[0] in columns, f"{query} orders by a column it returns: {term}"
        ordered = run_query(extract.con, query, params)
        unordered = run_query(extract.con, query, params, ordered=False)
        assert sorted(map(str, ordered.rows())) == sorted(map(str, unordered.rows()))


def test_rows_come_in_their_declared_order(demo_extract):
    """On the demo's every week, where each query but one has rows to put in order (none of the demo's three
    Ombudsman determinations found maladministration)."""
    weeks = demo_extract.span().selectable_weeks()
    too_few = []
    for query in SQL_QUERIES:
        rows = run_query(demo_extract.con, query, query_params(query, weeks, WHOLE_LANDLORD, with_fytd=True))
        assert sorted_as_declared(rows, load_query(query).order_by).equals(rows), query
        too_few += [query] if rows.height < 2 else []
    assert too_few == ["cx_ombudsman_maladministration"]


def sorted_as_declared(frame, order_by: str):
    """The frame sorted as `-- order by:` says, as DuckDB sorts: a null last unless said first."""
    terms = [term.split() for term in order_by.split(",")]
    return frame.sort([t[0] for t in terms], descending=["desc" in t for t in terms],
                      nulls_last=["first" not in t for t in terms], maintain_order=True)


def test_rows_are_read_without_a_word_on_stderr():
    """Rows are read from the executed statement (db.py says why), which DuckDB warns about on stderr unless
    told it is meant: a command's stderr is for its one line of error, so a fresh process stays silent."""
    import subprocess
    import sys

    probe = ("import duckdb; from housing_assurance import db; con = duckdb.connect(); "
             "con.execute(\"create table teams as select 'T1' as team_id\"); "
             "print(db.run_query(con, 'load/duplicate_keys', {'table': 'teams', 'key': 'team_id'}).height, "
             "db.fetch_rows(con, 'load/duplicate_keys', {'table': 'teams', 'key': 'team_id'})[0]['rows'])")
    done = subprocess.run([sys.executable, "-W", "error", "-c", probe], capture_output=True, text=True,
                          cwd=PACKAGE.parent)
    assert (done.returncode, done.stdout, done.stderr) == (0, "1 0\n", "")


def test_a_one_row_query_gives_what_its_frame_gives_and_says_when_it_gives_nothing():
    """db.one_row runs a one-row query without building a relation first: the same values as run_query's
    row, lists and all, and a query that gives no row is said by name."""
    import duckdb

    from housing_assurance.db import one_row

    con = duckdb.connect()
    con.execute("create table jobs as select * from (values ('J1'), ('J1'), ('J2'), ('J3'), ('J3')) t(job_id)")
    params = {"table": "jobs", "key": "job_id"}
    assert one_row(con, "load/duplicate_keys", params) == run_query(con, "load/duplicate_keys", params).row(
        0, named=True) == {"keys": 2, "rows": 4, "examples": ["J1", "J3"]}
    with pytest.raises(ValueError, match="queries/store/tables.sql gave no row"):
        one_row(duckdb.connect(), "store/tables")  # a database without a table
