"""The prepared store's targets, measured by hand (results in the README):

    .venv/bin/python bench/bench_store.py EXTRACT_DIR [--as-of 2026-11-22] [--skip-prepare STORE]

This machine is shared and noisy, so every time is also given as a ratio to a reference measured in
the same run: DuckDB reading every column of every table of the extract once and hashing it
("hash-all"), and, for `kpis`, a Python process that only imports duckdb and polars and opens the store.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HASH_ALL = """
import sys, duckdb
from pathlib import Path
con = duckdb.connect()
for table in sorted({p.relative_to(sys.argv[1]).parts[0].removesuffix('.parquet')
                     for p in Path(sys.argv[1]).rglob('*.parquet')}):
    con.sql("select sum(hash(columns(*))) from read_parquet($g, union_by_name = true)",
            params={"g": f"{sys.argv[1]}/{table}*/**/*.parquet" if Path(sys.argv[1], table).is_dir()
                    else f"{sys.argv[1]}/{table}.parquet"}).fetchall()
"""
BASELINE = "import sys, duckdb, polars\ncon = duckdb.connect(sys.argv[1], read_only=True)\n"
PREPARE = """
import sys, resource, time
from housing_assurance.store import prepare
start = time.perf_counter()
prepare(sys.argv[1], sys.argv[2])
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def process_seconds(args: list[str], repeat: int = 3) -> float:
    """The best wall time of a whole process (start, imports, work, exit)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(args, check=True, capture_output=True, cwd=ROOT)
        best = min(best, time.perf_counter() - start)
    return best


def best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def line(what: str, seconds: float, reference: float, name: str, target: str) -> None:
    print(f"{what:44} {seconds:7.2f} s  {seconds / reference:6.2f} x {name:10} target {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("extract", type=Path)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 22))
    parser.add_argument("--skip-prepare", type=Path, help="an existing store of this extract (no prepare timing)")
    args = parser.parse_args()
    py = sys.executable
    print(f"{args.extract}: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    hash_all = process_seconds([py, "-c", HASH_ALL, str(args.extract)])
    print(f"{'reference: hash-all (whole process)':44} {hash_all:7.2f} s")

    if args.skip_prepare:
        store = args.skip_prepare
    else:
        store = Path(tempfile.mkdtemp()) / "store.duckdb"
        done = subprocess.run([py, "-c", PREPARE, str(args.extract), str(store)], check=True, capture_output=True,
                              text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        seconds, peak_mb = map(float, done.stdout.split())
        line("prepare", seconds, hash_all, "hash-all", "< 120 s")
        print(f"{'prepare: the store':44} {store}")
        print(f"{'prepare: peak memory':44} {peak_mb:7.0f} MB{'':24}target < 4,096 MB")

    baseline = process_seconds([py, "-c", BASELINE, str(store)])
    kpis = process_seconds([py, "-m", "housing_assurance", "kpis", "--data", str(store), "--as-of",
                            args.as_of.isoformat(), "--json"])
    print(f"{'reference: import duckdb, polars; open':44} {baseline:7.2f} s")
    line("kpis --json (whole process)", kpis, baseline, "baseline", "<= 1.5 x and < 2 s")

    from housing_assurance.figures import FigureStore
    from housing_assurance.kpis import cases
    from housing_assurance.pack import build_pack
    from housing_assurance.scope import Scope
    from housing_assurance.store import open_store
    from housing_assurance.weeks import weeks_ending

    extract = open_store(store)
    figures = FigureStore(extract)
    line("13-week trend, every KPI", best_of(lambda: figures.figures(weeks_ending(args.as_of, 13), Scope())),
         hash_all, "hash-all", "< 0.3 s")
    line("52-week trend, every KPI", best_of(lambda: figures.figures(weeks_ending(args.as_of, 52), Scope())),
         hash_all, "hash-all", "< 0.5 s")
    for kpi_id in ("dm.overdue_open_cases", "rp.open_overdue_jobs", "cx.open_overdue"):
        line(f"drill-down {kpi_id}", best_of(lambda k=kpi_id: cases(extract, args.as_of, k, Scope())), hash_all,
             "hash-all", "< 0.3 s")
    line("whole-landlord PDF pack", best_of(lambda: build_pack(extract, args.as_of, Scope()), repeat=2), hash_all,
         "hash-all", "< 10 s")
    print(f"this process's peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
