"""Repair jobs and their appointments.

Jobs are simulated to the end of their lives (a latent completion or
cancellation time) and then cut at the extraction time, so today's open jobs,
pending appointments and overdue backlog fall out of the same model that
makes the history. Contractors differ in speed, missed visits, first-time fix
and jobs "closed but not fixed"; teams differ in how often they hit target.
"""

from __future__ import annotations

import numpy as np

from housing_assurance.contract import REPAIR_CATEGORIES

from . import reference as ref
from .calendar import (
    DAY,
    HOUR,
    MINUTE,
    NEVER,
    OFFICE_HOURS,
    ROUND_THE_CLOCK,
    WORKING_HOURS,
    Calendar,
    DaySampler,
    censor,
    is_set,
    time_of_day,
    winter_wave,
)
from .stock import Stock, stock_interval

Frame = dict[str, np.ndarray]

EMERGENCY, URGENT, ROUTINE, PLANNED = range(4)
CAT = {c: i for i, c in enumerate(REPAIR_CATEGORIES)}
TARGET = np.array([24 * HOUR, 7 * DAY, 28 * DAY, 90 * DAY])  # the landlord's own targets
P_ON_TIME = np.array([0.95, 0.90, 0.89, 0.92])
P_CANCEL = np.array([0.01, 0.03, 0.05, 0.06])

# Responsive jobs a year per home, seasonal swing, and priority mix (emergency, urgent, routine).
RESPONSIVE = {
    "plumbing": (0.45, 0.10, (0.10, 0.30, 0.60)),
    "heating": (0.36, 0.45, (0.15, 0.45, 0.40)),
    "electrical": (0.28, 0.05, (0.18, 0.27, 0.55)),
    "carpentry": (0.36, 0.00, (0.02, 0.13, 0.85)),
    "windows_doors": (0.30, 0.05, (0.08, 0.22, 0.70)),
    "leak": (0.20, 0.20, (0.35, 0.40, 0.25)),
    "roof": (0.12, 0.30, (0.06, 0.34, 0.60)),
    "external": (0.18, -0.20, (0.02, 0.10, 0.88)),
    "damp_mould": (0.08, 0.50, (0.00, 0.20, 0.80)),
    "other": (0.22, 0.00, (0.05, 0.20, 0.75)),
}
PLANNED_RATE = 0.28
PLANNED_MIX = {"windows_doors": 0.2, "roof": 0.15, "heating": 0.25, "external": 0.15, "electrical": 0.1,
               "damp_mould": 0.05, "other": 0.1}
COST_MEDIAN = np.array([180, 160, 420, 140, 210, 150, 120, 260, 300, 110], dtype=float)
COST_PRIORITY = np.array([1.4, 1.1, 1.0, 6.0])


def property_repair_rate(stock: Stock) -> np.ndarray:
    """How much more (or less) than average each home needs repairs (hidden frailty included)."""
    p = stock.properties
    year = p["build_year"]
    age = np.select([year < 1945, year < 1980, year < 2000], [1.25, 1.1, 0.95], 0.75)
    tenure = np.array([1.0, 1.15, 1.0, 0.2, 0.12])[p["tenure"]]
    ptype = np.array([1.05, 0.95, 1.0, 1.0, 0.9, 1.0])[p["property_type"]]
    return age * tenure * ptype * stock.repair_frailty


def base_jobs(rng: np.random.Generator, cal: Calendar, stock: Stock) -> Frame:
    """Responsive and planned jobs raised from residents' reports and the planned programme."""
    lo, hi = stock_interval(stock.properties, cal)
    mult = 0.87 * property_repair_rate(stock)
    busy = cal.busy_weights()
    wave = winter_wave(cal.window_days)
    parts: list[Frame] = []
    for name, (rate, swing, mix) in RESPONSIVE.items():
        sampler = DaySampler(cal, busy * (1 + swing * wave))
        counts = rng.poisson(rate * mult * sampler.exposure(lo, hi))
        prop = np.repeat(np.arange(len(lo)), counts)
        day = sampler.sample(rng, lo[prop], hi[prop])
        k = len(prop)
        pri = rng.choice(3, k, p=np.array(mix))
        # Heating failures in winter and homes with vulnerable residents get prioritised.
        winter = winter_wave(day) > 0.5
        if name == "heating":
            pri = np.where(winter & (pri == ROUTINE) & (rng.random(k) < 0.5), URGENT, pri)
        tod = np.where(pri == EMERGENCY, time_of_day(rng, k, ROUND_THE_CLOCK), time_of_day(rng, k, OFFICE_HOURS))
        parts.append({"prop": prop, "reported": day * DAY + tod, "priority": pri,
                      "category": np.full(k, CAT[name]), "resident": rng.random(k) < 0.85})
    planned_sampler = DaySampler(cal, (busy == 1.0).astype(float))
    counts = rng.poisson(PLANNED_RATE * mult ** 0.5 * planned_sampler.exposure(lo, hi))
    prop = np.repeat(np.arange(len(lo)), counts)
    k = len(prop)
    day = planned_sampler.sample(rng, lo[prop], hi[prop])
    cats = np.array([CAT[c] for c in PLANNED_MIX])
    mix = np.array(list(PLANNED_MIX.values()))
    parts.append({"prop": prop, "reported": day * DAY + time_of_day(rng, k, WORKING_HOURS),
                  "priority": np.full(k, PLANNED), "category": rng.choice(cats, k, p=mix),
                  "resident": np.zeros(k, bool)})
    jobs = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    order = np.argsort(jobs["reported"], kind="stable")
    jobs = {key: v[order] for key, v in jobs.items()}
    n = len(order)
    jobs["household"] = stock.lookup.at(jobs["prop"], jobs["reported"] // DAY)
    jobs["dm_case"] = np.full(n, -1)
    jobs["parent"] = np.full(n, -1)
    jobs["forced_complete"] = np.full(n, NEVER)
    return jobs


def assign_contractors(rng: np.random.Generator, cal: Calendar, stock: Stock, jobs: Frame,
                       switch_day: int) -> np.ndarray:
    """Pick a contractor by trade and region; the general contract changes hands on switch_day."""
    n = len(jobs["prop"])
    shares = np.array([ref.CONTRACTOR_SHARES[c] for c in REPAIR_CATEGORIES])  # [category, contractor]
    region = stock.properties["region"][jobs["prop"]]
    general = np.isin(region, [ref.REGIONS.index(r) for r in ref.GENERAL_CONTRACT_REGIONS])
    w = shares[jobs["category"]].copy()
    w[~general, ref.IN_HOUSE] += w[~general, ref.MEADOWGATE]
    w[~general, ref.MEADOWGATE] = 0
    cum = np.cumsum(w, axis=1)
    u = rng.random(n) * cum[:, -1]
    chosen = (u[:, None] > cum).sum(axis=1)
    after = jobs["reported"] >= switch_day * DAY
    chosen = np.where((chosen == ref.MEADOWGATE) & after, ref.RAPIDFIX, chosen)
    return chosen


def lifecycle(rng: np.random.Generator, cal: Calendar, stock: Stock, jobs: Frame) -> Frame:
    """Targets, completion or cancellation, quality of the work, cost; cut at the horizon.

    Needs prop, reported, priority, category, contractor, team and forced_complete
    (NEVER = simulate; a time = the job is the works of a damp and mould case).
    """
    n = len(jobs["prop"])
    pri = jobs["priority"]
    con = jobs["contractor"]
    team_q = np.array([t.quality for t in ref.teams()])[jobs["team"]]
    c_on = np.array([c.on_time for c in ref.CONTRACTORS])[con]
    reported = jobs["reported"]
    target = reported + TARGET[pri]
    forced = is_set(jobs["forced_complete"])

    winter = winter_wave(reported // DAY)
    p_on = P_ON_TIME[pri] * c_on * (1 + (team_q - 0.9)) - 0.04 * (winter > 0.6) * (pri == ROUTINE)
    on_time = rng.random(n) < np.clip(p_on, 0.05, 0.995)
    span = TARGET[pri].astype(float)
    offset = np.where(on_time, span * rng.beta(2.2, 1.4, n),
                      span * (1 + rng.lognormal(np.log(0.35), 0.9, n)))
    stuck = (~on_time) & (rng.random(n) < 0.06)
    offset = np.where(stuck, offset + span * rng.uniform(2, 8, n), offset)
    offset = np.where(pri == EMERGENCY,
                      np.where(on_time, rng.beta(1.6, 3.0, n) * 23.5 * HOUR,
                               24 * HOUR + rng.lognormal(np.log(14 * HOUR), 0.8, n)), offset)
    work = rng.uniform(0.4, 3.0, n) * HOUR
    done = reported + offset.astype(np.int64)
    # Non-emergency work happens in a booked slot on a working day.
    day = cal.next_working_day(done // DAY)
    slot_hour = rng.choice(np.array([8, 9, 10, 12, 13, 14]), n)
    slot = day * DAY + slot_hour * HOUR
    slot = np.where(slot <= reported + HOUR, reported + rng.integers(1 * HOUR, 4 * HOUR, n), slot)
    slot = np.where(pri == EMERGENCY, np.maximum(done - work.astype(np.int64), reported + 10 * MINUTE), slot)
    complete = np.where(pri == EMERGENCY, np.maximum(done, slot + 20 * MINUTE), slot + work.astype(np.int64))
    # Damp and mould works finish when the case says they did.
    fc = jobs["forced_complete"]
    f_slot = np.maximum(fc - work.astype(np.int64), reported + (fc - reported) // 2)
    complete = np.where(forced, fc, complete)
    slot = np.where(forced, f_slot, slot)

    cancel = (~forced) & (rng.random(n) < P_CANCEL[pri])
    cancel_at = reported + (span * rng.uniform(0.05, 0.7, n)).astype(np.int64) + rng.integers(0, HOUR, n)
    latent_complete = np.where(cancel, NEVER, complete)
    latent_cancel = np.where(cancel, cancel_at, NEVER)

    c = ref.CONTRACTORS
    fixable = np.isin(jobs["category"], [CAT["leak"], CAT["roof"], CAT["plumbing"], CAT["damp_mould"]])
    not_fixed = (~cancel) & (pri != PLANNED) & (
        rng.random(n) < np.array([x.not_fixed for x in c])[con] * np.where(fixable, 1.4, 1.0))
    return_visit = (~cancel) & (rng.random(n) < np.array([x.return_visit for x in c])[con])
    late = latent_complete > target

    out = dict(jobs)
    out.update({
        "target": target, "latent_complete": latent_complete, "latent_cancel": latent_cancel,
        "final_slot": slot, "not_fixed": not_fixed, "return_visit": return_visit, "late": late,
        "completed_at": censor(latent_complete, cal.horizon), "cancelled_at": censor(latent_cancel, cal.horizon),
    })
    completed = is_set(out["completed_at"])
    out["status"] = np.where(completed, 1, np.where(is_set(out["cancelled_at"]), 2, 0))  # JOB_STATUSES order

    v = np.array([x.verified for x in c])[con] * np.where(not_fixed, 0.7, 1.0)
    u = rng.random(n)
    out["verified"] = np.where(~completed, -1, np.where(u < v, 1, np.where(u < v + (1 - v) * 0.45, 0, -1)))
    offline = np.array([t.offline_rate for t in ref.teams()])[jobs["team"]]
    u = rng.random(n)
    in_house = con == ref.IN_HOUSE
    out["source"] = np.where(u < offline, 2, np.where(u < offline + np.where(in_house, 0.4, 0.15), 1, 0))
    cost = (COST_MEDIAN[jobs["category"]] * COST_PRIORITY[pri] * np.array([x.cost for x in c])[con]
            * rng.lognormal(0, 0.6, n))
    out["cost"] = np.where(completed & (rng.random(n) > 0.04), np.round(cost, 2), np.nan)
    return out


def appointments(rng: np.random.Generator, cal: Calendar, jobs: Frame) -> Frame:
    """Booked slots per job: failed visits, a return visit, the visit that finished it, pending ones."""
    n = len(jobs["prop"])
    c = ref.CONTRACTORS
    con = jobs["contractor"]
    cancel = is_set(jobs["latent_cancel"])
    lam = 0.17 * np.array([x.failed_visits for x in c])[con] * np.where(jobs["late"], 2.2, 0.8)
    lam = np.where(jobs["priority"] == EMERGENCY, 0.03, lam)
    n_fail = rng.poisson(lam)
    n_attend = 1 + jobs["return_visit"].astype(np.int64)
    offline_gap = (jobs["source"] == 2) & (rng.random(n) < 0.6)  # spreadsheet jobs often have no slots
    total = np.where(cancel, (rng.random(n) < 0.5).astype(np.int64), n_fail + n_attend)
    total = np.where(offline_gap, 0, total)
    job = np.repeat(np.arange(n), total)
    m = len(job)
    start = np.repeat(np.cumsum(total) - total, total)
    pos = np.arange(m) - start  # 0-based position within the job
    last = pos == (total[job] - 1)
    rep = jobs["reported"][job]
    end = np.where(cancel[job], jobs["latent_cancel"][job], jobs["final_slot"][job])
    # Earlier slots spread between report and the final slot, on slot hours.
    frac = (pos + rng.uniform(0.2, 0.8, m)) / np.maximum(total[job], 1)
    t = rep + ((end - rep) * frac).astype(np.int64)
    t = (t // DAY) * DAY + rng.choice(np.array([8, 10, 12, 14]), m) * HOUR
    lo = rep + 15 * MINUTE
    hi = end - 30 * MINUTE
    t = np.where(hi > lo, np.clip(t, lo, hi), rep + (end - rep) // 2)
    slot = np.where(last & ~cancel[job], jobs["final_slot"][job], t)
    slot = slot[np.lexsort((slot, job))]  # job is ascending: this sorts slots within each job

    # Outcomes: which of the non-final visits failed, and why.
    miss_share = np.array([x.missed_share for x in c])[con][job]
    u = rng.random(m)
    failed_kind = np.where(u < miss_share * 0.45, 2, np.where(u < miss_share, 4, np.where(
        u < miss_share + (1 - miss_share) * 0.72, 1, 3)))  # APPOINTMENT_OUTCOMES indices
    # A return visit, when there is one, is the last but one slot (attended).
    return_slot = jobs["return_visit"][job] & (pos == total[job] - 2)
    outcome = np.where(last | return_slot, 0, failed_kind)
    outcome = np.where(cancel[job], np.where(rng.random(m) < 0.6, 3, 2), outcome)

    # Cut at the horizon: the first future slot of a job is pending, later ones are not yet booked.
    future = slot > cal.horizon
    first_future = future & ~np.concatenate([[False], future[:-1] & (job[1:] == job[:-1])])
    keep = ~future | first_future
    outcome = np.where(future, 5, outcome)
    # A pending slot on a job that is already finished or cancelled makes no sense: drop it.
    closed = is_set(jobs["completed_at"]) | is_set(jobs["cancelled_at"])
    keep &= ~(future & closed[job])
    return {"job": job[keep], "slot": slot[keep], "outcome": outcome[keep]}


def derived_jobs(rng: np.random.Generator, cal: Calendar, stock: Stock, jobs: Frame) -> tuple[Frame, Frame]:
    """Follow-on jobs and re-reports of jobs closed without the fault fixed.

    Returns the new jobs (parent = index into ``jobs``) and the chase contacts
    residents made about the unfixed jobs.
    """
    n = len(jobs["prop"])
    done = jobs["latent_complete"]
    completed = is_set(done) & (jobs["priority"] != PLANNED)
    # Follow-on work (making good after a leak, a second trade) is planned at the visit.
    follow = completed & (rng.random(n) < np.where(np.isin(jobs["category"], [CAT["leak"], CAT["roof"]]), 0.16, 0.05))
    f_idx = np.flatnonzero(follow)
    related = np.array([CAT["carpentry"], CAT["other"], CAT["plumbing"], CAT["electrical"], CAT["windows_doors"]])
    f_cat = np.where(rng.random(len(f_idx)) < 0.45, jobs["category"][f_idx], rng.choice(related, len(f_idx)))
    f_rep = done[f_idx] + rng.integers(10 * MINUTE, 9 * DAY, len(f_idx))
    f_pri = rng.choice(np.array([URGENT, ROUTINE]), len(f_idx), p=[0.25, 0.75])
    # Not fixed: the resident chases within 14 days and a new job of the same category follows.
    nf_idx = np.flatnonzero(completed & jobs["not_fixed"])
    k = len(nf_idx)
    chase_at = done[nf_idx] + rng.integers(6 * HOUR, 13 * DAY, k)
    nf_rep = chase_at + rng.integers(5 * MINUTE, 2 * DAY, k)
    nf_pri = np.where(jobs["priority"][nf_idx] == EMERGENCY, URGENT, jobs["priority"][nf_idx])
    nf_parent = np.where(rng.random(k) < 0.3, nf_idx, -1)
    new = {
        "prop": np.concatenate([jobs["prop"][f_idx], jobs["prop"][nf_idx]]),
        "reported": np.concatenate([f_rep, nf_rep]),
        "priority": np.concatenate([f_pri, nf_pri]),
        "category": np.concatenate([f_cat, jobs["category"][nf_idx]]),
        "resident": np.concatenate([np.zeros(len(f_idx), bool), np.ones(k, bool)]),
        "parent": np.concatenate([f_idx, nf_parent]),
        "team": np.concatenate([jobs["team"][f_idx], jobs["team"][nf_idx]]),
        "dm_case": np.concatenate([jobs["dm_case"][f_idx], np.full(k, -1)]),
    }
    _, hi = stock_interval(stock.properties, cal)
    ok = (new["reported"] < cal.horizon) & (new["reported"] // DAY < hi[new["prop"]])
    new = {key: v[ok] for key, v in new.items()}
    m = len(new["prop"])
    new["household"] = stock.lookup.at(new["prop"], new["reported"] // DAY)
    new["forced_complete"] = np.full(m, NEVER)
    chase_ok = chase_at < cal.horizon
    chases = {"job": nf_idx[chase_ok], "at": chase_at[chase_ok]}
    return new, chases
