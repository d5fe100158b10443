"""How fast the app answers, and how much memory its server holds (run by hand; results in the README).

    .venv/bin/python bench/bench_app.py --data STORE_OR_EXTRACT --access ACCESS_TOML [--repeat 3]

Each run is a fresh Python process with Streamlit's AppTest, as a server just restarted: "first view"
is the overview for the first visitor (opening the store; Python's imports are done before anyone
connects and printed apart). Then, in the same session, the clicks a reader makes: previous and next
week, a region, a team, a year earlier, each page of the menu, a drill-down and a case. The server's
memory (resident set) is read after every page has been viewed once. The clicks start once the
server's warm-up is over (what every page's first look needs once per server, worked out in the
background after the first view: its time is printed apart); a reader who clicks sooner shares the
two cores with it, as `--click-at-once` measures. A page with red or amber figures
also says when its figures were all drawn: each line of why follows them (blocks.fill_why).
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
from housing_assurance.app.warm_up import warm_up
from housing_assurance import routes

out = {"imports": imports}
at = AppTest.from_file(os.path.join(os.environ["BENCH_ROOT"], "app.py"), default_timeout=600)

# When a page's figures are all drawn: its lines of why (data.reasons) are worked out after them.
drawn = {}
_reasons = data.reasons


def reasons_after_figures(*args):
    drawn.setdefault("at", time.perf_counter())
    return _reasons(*args)


data.reasons = reasons_after_figures


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024


def timed(name, step):
    drawn.clear()
    t = time.perf_counter()
    step()
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    out[name] = time.perf_counter() - t
    if "at" in drawn:
        out[f"{name}: figures drawn"] = drawn["at"] - t


def select(key, value):
    return lambda: next(w for w in at.get("selectbox") if w.key == key).set_value(value)


timed("first view (overview)", lambda: None)
key = data.data_key(data.data_folder())
if not os.environ.get("BENCH_CLICK_AT_ONCE"):
    t = time.perf_counter()
    warm_up(key).join()  # started at the end of the first view (app/warm_up.py): the clicks below come after it
    out["warm-up, in the background after the first view"] = time.perf_counter() - t
regions, teams = data.regions(key), data.teams(key)
region = regions[0]
team = teams.filter(teams["region"] == region)["team_id"][0]
weeks = data.selectable_weeks(key)
timed("click: previous week", lambda: at.button(key="prev_week").click())
timed("click: next week", lambda: at.button(key="next_week").click())
timed("click: a region", select("w:region", region))
timed("click: a team", select("w:team", team))
timed("click: whole landlord", lambda: (select("w:team", "")(), select("w:region", "")()))
timed("click: a year earlier", select("w:as_of", weeks[52].isoformat()))
timed("click: latest week", select("w:as_of", weeks[0].isoformat()))
for page in routes.PAGES:
    if page.key in ("overview", "audit"):
        continue
    timed(f"page: {page.title}", lambda p=page: at.switch_page(p.file))
timed("page: overview again", lambda: at.switch_page(routes.PAGE["overview"].file))
out["server memory after every page (MB)"] = rss_mb()
timed("click: a drill-down", lambda: (at.switch_page(routes.PAGE["dm"].file),
                                       at.query_params.__setitem__("kpi", "dm.overdue_open_cases")))
print(json.dumps(out))
'''


def run(data: Path, access: Path, at_once: bool) -> dict:
    env = {**os.environ, "BENCH_ROOT": str(ROOT), "HOUSING_ASSURANCE_DATA": str(data),
           "HOUSING_ASSURANCE_DEMO_MODE": "1", "HOUSING_ASSURANCE_ACCESS": str(access),
           **({"BENCH_CLICK_AT_ONCE": "1"} if at_once else {})}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, cwd=ROOT)
    if done.returncode:
        sys.exit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "demo")
    parser.add_argument("--access", type=Path, default=ROOT / "data" / "demo" / "access.toml")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--click-at-once", action="store_true",
                        help="click straight after the first view, while the warm-up still runs")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    results = [run(args.data, args.access, args.click_at_once) for _ in range(args.repeat)]
    print(f"{args.data}, {os.cpu_count()} CPUs, load average at start {load:.1f}; "
          f"median (and worst) of {args.repeat} runs, seconds unless said")
    for name in results[0]:
        values = sorted(r[name] for r in results)
        print(f"{name:48} {values[len(values) // 2]:7.2f}  ({values[-1]:.2f})")
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"app_{time.strftime('%Y%m%d_%H%M%S')}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
