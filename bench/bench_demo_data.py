"""Benchmark of the demo-data generator: wall time and peak memory, run by hand.

    .venv/bin/python bench/bench_demo_data.py            # 20,000 x 3 and 120,000 x 5
    .venv/bin/python bench/bench_demo_data.py 5000x2     # any HOMESxYEARS

Each size runs in a fresh subprocess so its peak resident memory
(resource.getrusage ru_maxrss) is its own. The figures go into docs/demo-data.md.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SIZES = ("20000x3", "120000x5")
END = date(2026, 11, 22)  # fixed, so runs are comparable


def child(homes: int, years: int, out: Path) -> None:
    """Generate once and print the measurements as JSON (runs in the subprocess)."""
    sys.path.insert(0, str(ROOT))
    import pyarrow.parquet as pq

    from housing_assurance.demo import generate

    start = time.perf_counter()
    generate(out, homes=homes, years=years, seed=1, end=END)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kilobytes on Linux
    size = sum(p.stat().st_size for p in out.iterdir())
    rows = {}
    for p in sorted(out.glob("*.parquet")):
        rows[p.stem] = pq.ParquetFile(p).metadata.num_rows
    print(json.dumps({"homes": homes, "years": years, "seconds": round(seconds, 2),
                      "peak_mb": round(peak_kb / 1024), "size_mb": round(size / 2**20, 1), "rows": rows}))


def run(size: str) -> dict:
    homes, years = (int(x) for x in size.lower().split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, __file__, "--child", str(homes), str(years), str(Path(tmp) / "extract")],
            check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        child(int(argv[1]), int(argv[2]), Path(argv[3]))
        return
    sizes = argv or list(DEFAULT_SIZES)
    print(f"{date.today()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
          f"Python {platform.python_version()}")
    print("| homes × years | wall time | peak memory | files | repairs | appointments | contacts |")
    print("|---|---|---|---|---|---|---|")
    for size in sizes:
        r = run(size)
        rows = r["rows"]
        print(f"| {r['homes']:,} × {r['years']} | {r['seconds']:.1f} s | {r['peak_mb']:,} MB | {r['size_mb']} MB "
              f"| {rows['repairs']:,} | {rows['appointments']:,} | {rows['contacts']:,} |", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
