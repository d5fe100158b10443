"""How fast the app answers on the 20,000-home demo (run by hand; figures go in docs/app.md).

    .venv/bin/python bench/bench_app.py [--data data/demo] [--repeat 3]

Each run is a fresh Python process with Streamlit's AppTest, so "first view" includes opening the
extract (as the first visitor after start-up waits for it) but not importing Python packages
(Streamlit's server has done that before anyone connects; the import time is printed separately).
Then, in the same session, "just started": the previous week, the next week, a region, a team, a
jump of a year, and each domain page, while the background warm-up is filling the figure store
(it steps aside while a page runs); then "warmed up": the same once the warm-up has finished.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r'''
import json, os, sys, time
t0 = time.perf_counter()
import streamlit, polars, duckdb, plotly  # noqa: F401  (the server has these loaded before anyone connects)
from streamlit.testing.v1 import AppTest
imports = time.perf_counter() - t0
sys.path.insert(0, os.environ["BENCH_ROOT"])
from housing_assurance.app import data

out = {"imports": imports}
at = AppTest.from_file(os.path.join(os.environ["BENCH_ROOT"], "app.py"), default_timeout=600)


def timed(name, step):
    t = time.perf_counter()
    step()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    out[name] = time.perf_counter() - t


def select(key, value):
    return lambda: next(w for w in at.get("selectbox") if w.key == key).set_value(value)


def changes(tag):
    timed(f"{tag}: overview, previous week", lambda: at.button(key="prev_week").click())
    timed(f"{tag}: overview, next week", lambda: at.button(key="next_week").click())
    timed(f"{tag}: overview, a region", select("w:region", region))
    timed(f"{tag}: overview, a team", select("w:team", team))
    timed(f"{tag}: overview, whole landlord", lambda: (select("w:team", "")(), select("w:region", "")()))
    timed(f"{tag}: overview, a year earlier", select("w:as_of", weeks[52].isoformat()))
    timed(f"{tag}: overview, latest week", select("w:as_of", weeks[0].isoformat()))
    for page in ("damp_mould", "repairs", "complaints", "contractors", "vulnerability"):
        timed(f"{tag}: {page}, open", lambda p=page: at.switch_page(f"pages/{p}.py"))
        timed(f"{tag}: {page}, previous week", lambda: at.button(key="prev_week").click())
        timed(f"{tag}: {page}, a region", select("w:region", region))
        timed(f"{tag}: {page}, a year earlier", select("w:as_of", weeks[53].isoformat()))
        timed(f"{tag}: {page}, back", lambda: (select("w:region", "")(), select("w:as_of", weeks[0].isoformat())()))
    at.switch_page("pages/overview.py")


timed("first view (overview)", lambda: None)
key = data.data_key(data.data_folder())
regions, teams = data.regions(key), data.teams(key)
region = regions[0]
team = teams.filter(teams["region"] == region)["team_id"][0]
weeks = data.selectable_weeks(key)
changes("clicks")
print(json.dumps(out))
'''


def run(data: Path) -> dict:
    env = {**os.environ, "BENCH_ROOT": str(ROOT), "HOUSING_ASSURANCE_DATA": str(data),
           "HOUSING_ASSURANCE_PREFETCH": "1", "HOUSING_ASSURANCE_DEMO_MODE": "1",
           "HOUSING_ASSURANCE_ACCESS": str(data / "access.toml")}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not (args.data / "manifest.json").exists():
        sys.exit(f"no extract in {args.data}: run `python -m housing_assurance demo-data --out {args.data}`")
    load = os.getloadavg()[0]
    results = [run(args.data) for _ in range(args.repeat)]
    print(f"extract {args.data}, {os.cpu_count()} CPUs, load average at start {load:.1f}; "
          f"median (and worst) of {args.repeat} runs, seconds")
    for name in results[0]:
        values = sorted(r[name] for r in results)
        print(f"{name:48} {values[len(values) // 2]:7.2f}  ({values[-1]:.2f})")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"app_{time.strftime('%Y%m%d_%H%M%S')}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
