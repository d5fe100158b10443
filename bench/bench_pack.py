"""Benchmark of the weekly PDF pack on the demo landlord, run by hand.

    .venv/bin/python bench/bench_pack.py                    # 20,000-home demo, made in a temp folder
    .venv/bin/python bench/bench_pack.py --data data/demo   # an extract already there
    .venv/bin/python bench/bench_pack.py --runs 5

Times the `report` command end to end, as a scheduler runs it (a fresh process: imports, opening
the extract, Chromium, figures, charts, layout, the atomic write), for the whole landlord, one region
and one team; then one whole-landlord run in this process with the time of each stage. The load
average is printed too, and the CPU seconds (Python and Chromium): on a shared machine the wall time
follows the load, the CPU time much less so. The figures go into docs/pdf-pack.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
END = date(2026, 11, 23)  # fixed, so runs are comparable: extracted 23 Nov 06:00, week ending Sun 22 Nov
SCOPES = (("whole landlord", []), ("region North", ["--region", "North"]), ("team repairs-north",
                                                                           ["--team", "repairs-north"]))


def cpu_of_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(data: Path, as_of: date, scope_args: list[str], out: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (Python and Chromium together) of one `report` command."""
    start, cpu = time.perf_counter(), cpu_of_children()
    subprocess.run([sys.executable, "-m", "housing_assurance", "report", "--data", str(data),
                    "--as-of", as_of.isoformat(), *scope_args, "--out", str(out)],
                   check=True, cwd=ROOT, capture_output=True)
    return time.perf_counter() - start, cpu_of_children() - cpu


def stages(data: Path, as_of: date, out: Path) -> list[tuple[str, float]]:
    """One whole-landlord pack in this process (an extract folder or a store): seconds from the start to each
    stage."""
    sys.path.insert(0, str(ROOT))
    from housing_assurance.pack import ChartRenderer, write_pack
    from housing_assurance.scope import Scope
    from housing_assurance.store import open_data

    start = time.perf_counter()
    marks = []
    with ChartRenderer() as renderer:
        extract = open_data(data)
        marks.append(("extract opened", time.perf_counter() - start))
        write_pack(extract, as_of, Scope(), out, renderer=renderer,
                   progress=lambda stage, _: marks.append((stage, time.perf_counter() - start)))
    marks.append(("file written, Chromium closed", time.perf_counter() - start))
    return marks


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, help="an extract (default: generate the 20,000-home demo)")
    parser.add_argument("--as-of", type=date.fromisoformat, default=None)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from pypdf import PdfReader

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data
        if data is None:
            from housing_assurance.demo import generate

            data = Path(tmp) / "demo"
            generate(data, homes=20000, years=3, seed=1, end=END)
        from housing_assurance.store import open_data
        from housing_assurance.weeks import latest_complete_week

        # the latest week complete when the extract was taken (the app's default week), from a store or a folder
        as_of = args.as_of or latest_complete_week(open_data(data).extracted_at)
        print(f"{date.today()} · {platform.processor() or platform.machine()} · {os.cpu_count()} cores · "
              f"Python {platform.python_version()} · load average {os.getloadavg()[0]:.1f} · "
              f"{data} · week ending {as_of}")
        print("| scope | runs | wall median | fastest | slowest | CPU median | load | pages | size |")
        print("|---|---|---|---|---|---|---|---|---|")
        for name, scope_args in SCOPES:
            out = Path(tmp) / f"{name.replace(' ', '-')}.pdf"
            load = os.getloadavg()[0]
            runs = [report(data, as_of, scope_args, out) for _ in range(args.runs)]
            walls = [w for w, _ in runs]
            pages = len(PdfReader(out).pages)
            print(f"| {name} | {len(runs)} | {statistics.median(walls):.1f} s | {min(walls):.1f} s "
                  f"| {max(walls):.1f} s | {statistics.median(c for _, c in runs):.1f} s | {load:.1f} | {pages} "
                  f"| {out.stat().st_size / 1024:.0f} KB |", flush=True)
        print(f"\nStages of one whole-landlord pack in one process (load average {os.getloadavg()[0]:.1f}):")
        for stage, seconds in stages(data, as_of, Path(tmp) / "stages.pdf"):
            print(f"  {seconds:5.1f} s  {stage}")


if __name__ == "__main__":
    main(sys.argv[1:])
