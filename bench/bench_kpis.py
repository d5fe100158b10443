"""Benchmark (run by hand): all KPIs for one week, the 13-week trend, one drill-down.

    .venv/bin/python bench/bench_kpis.py data/demo [more extract folders …]

Targets on a 2-core machine at 120,000 homes: one week < 1 s, 13-week trend < 5 s, drill-down < 0.5 s.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta

from housing_assurance.db import open_extract
from housing_assurance.kpis import cases, compute, trend
from housing_assurance.scope import Scope


def timed(label: str, fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    print(f"  {label:45} {best:6.2f} s (best of {repeat})")
    return best


def bench_one(folder: str) -> None:
    start = time.perf_counter()
    extract = open_extract(folder)
    opened = time.perf_counter() - start
    homes = extract.sql("select count(*) as n from properties")["n"][0]
    extracted = extract.extracted_at or datetime.now()
    as_of = extracted.date() - timedelta(days=1)
    as_of -= timedelta(days=(as_of.weekday() + 1) % 7)
    print(f"{folder}: {homes:,} homes, as of {as_of}; opened in {opened:.2f} s")
    timed("all KPIs, one week, whole landlord", lambda: compute(extract, [as_of], Scope()))
    timed("all KPIs, one week, one region", lambda: compute(extract, [as_of], Scope(region="North")))
    timed("all KPIs, 13-week trend", lambda: trend(extract, as_of, 13, Scope()), repeat=2)
    timed("drill-down dm.overdue_open_cases", lambda: cases(extract, as_of, "dm.overdue_open_cases"))
    timed("drill-down rp.open_jobs", lambda: cases(extract, as_of, "rp.open_jobs"))


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["data/demo"]:
        bench_one(arg)
