"""Damp and mould cases, their Awaab's Law clocks and the works jobs they create.

Where cases arise is the part a later risk model will learn from, so every
cause is something the extract shows: older and poorly rated homes, flats and
maisonettes, households large for their bedrooms, vulnerable households,
winter, recent leak/roof/plumbing/heating repairs, homes with many repairs,
and earlier cases (recently resolved ones recur). A hidden per-home factor and
plain chance keep prediction honest.
"""

from __future__ import annotations

import numpy as np

from housing_assurance.contract import DM_SOURCES, ROOT_CAUSES

from . import reference as ref
from .calendar import (
    DAY,
    HOUR,
    MINUTE,
    NEVER,
    OFFICE_HOURS,
    Calendar,
    censor,
    is_set,
    time_of_day,
    winter_wave,
)
from .repairs import CAT, EMERGENCY, PLANNED, ROUTINE, URGENT
from .stock import Stock, stock_interval, vulnerable_from

Frame = dict[str, np.ndarray]

BASE_RATE = 0.018  # baseline cases a home a year at average risk, before triggers and recurrences
SEASON = 0.65  # winter peak +65%, summer trough -65%
HH_MAX = 0.85  # largest household log-multiplier (overcrowded and vulnerable)
EMERG, SIGNIF, NOT_SIG = range(3)
RC = {c: i for i, c in enumerate(ROOT_CAUSES)}
SRC = {c: i for i, c in enumerate(DM_SOURCES)}
TRIGGERS = {"leak": 0.05, "roof": 0.04, "plumbing": 0.012, "heating": 0.01}


def property_risk(stock: Stock) -> np.ndarray:
    """Log risk of damp and mould for each home (observable parts plus the hidden factor)."""
    p = stock.properties
    year = p["build_year"]
    age = np.select([year < 1919, year < 1945, year < 1965, year < 1980, year < 2000],
                    [0.85, 0.65, 0.45, 0.40, 0.10], -0.35)
    epc = np.array([-0.3, -0.2, -0.1, 0.0, 0.25, 0.45, 0.6])[p["epc"]]
    ptype = np.array([0.0, 0.2, -0.1, 0.3, 0.3, 0.0])[p["property_type"]]
    return age + epc + ptype + stock.damp_latent


def _tenure_factor(stock: Stock) -> np.ndarray:
    return np.array([1.0, 1.0, 0.9, 0.35, 0.15])[stock.properties["tenure"]]


def household_term(stock: Stock, hh: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Log multiplier from the household living there: crowding, vulnerability, void."""
    h = np.maximum(hh, 0)
    size = stock.households["household_size"][h]
    beds = stock.properties["bedrooms"][stock.households["property"][h]]
    excess = size - np.maximum(beds, 1)
    crowd = np.where(excess >= 2, 0.6, np.where(excess == 1, 0.3, 0.0))
    vuln = np.where(vulnerable_from(stock.vulnerabilities, len(stock.households["property"]))[h] <= day, 0.25, 0.0)
    return np.where(hh >= 0, crowd + vuln, np.log(0.12))


def baseline_cases(rng: np.random.Generator, cal: Calendar, stock: Stock, risk: np.ndarray) -> Frame:
    """Cases arising from the home and its household, thinned for season and household."""
    lo, hi = stock_interval(stock.properties, cal)
    rate_max = BASE_RATE * np.exp(risk) * _tenure_factor(stock) * np.exp(HH_MAX) * (1 + SEASON)
    counts = rng.poisson(rate_max * (hi - lo) / 365.25)
    prop = np.repeat(np.arange(len(lo)), counts)
    day = lo[prop] + (rng.random(len(prop)) * (hi - lo)[prop]).astype(np.int64)
    hh = stock.lookup.at(prop, day)
    accept = ((1 + SEASON * winter_wave(day)) / (1 + SEASON)) * np.exp(household_term(stock, hh, day) - HH_MAX)
    keep = rng.random(len(prop)) < accept
    k = int(keep.sum())
    root = rng.choice(len(ROOT_CAUSES), k, p=[0.55, 0.14, 0.07, 0.10, 0.04, 0.10])
    return {"prop": prop[keep], "day": day[keep], "root": root, "trigger": np.full(k, -1),
            "from_case": np.full(k, -1), "reopen": np.zeros(k, bool)}


def triggered_cases(rng: np.random.Generator, cal: Calendar, stock: Stock, risk: np.ndarray, jobs: Frame) -> Frame:
    """Damp that follows a leak, roof, plumbing or heating fault (weeks later)."""
    cat = jobs["category"]
    p = np.zeros(len(cat))
    for name, rate in TRIGGERS.items():
        p[cat == CAT[name]] = rate
    day = jobs["reported"] // DAY
    p = np.where(cat == CAT["heating"], p * (1 + winter_wave(day)), p)
    p = p * np.exp(0.6 * risk[jobs["prop"]]) * _tenure_factor(stock)[jobs["prop"]]
    idx = np.flatnonzero(rng.random(len(cat)) < np.minimum(p, 0.6))
    case_day = day[idx] + 3 + rng.gamma(2.0, 14.0, len(idx)).astype(np.int64)
    k = len(idx)
    cause = cat[idx]
    root = np.where(np.isin(cause, [CAT["leak"], CAT["plumbing"]]) & (rng.random(k) < 0.65), RC["leak"],
                    np.where((cause == CAT["roof"]) & (rng.random(k) < 0.65), RC["penetrating_damp"],
                             np.where(rng.random(k) < 0.8, RC["condensation"], RC["unknown"])))
    return {"prop": jobs["prop"][idx], "day": case_day, "root": root, "trigger": idx,
            "from_case": np.full(k, -1), "reopen": np.zeros(k, bool)}


def _wd_time(rng: np.random.Generator, cal: Calendar, day0: np.ndarray, k: np.ndarray) -> np.ndarray:
    """A working-hours time on the k-th working day after day0."""
    d = cal.add_working_days(day0, k)
    return d * DAY + rng.integers(9 * HOUR, 17 * HOUR, len(d))


def lifecycle(rng: np.random.Generator, cal: Calendar, stock: Stock, risk: np.ndarray, cases: Frame) -> Frame:
    """Source, hazard and every Awaab's Law step, as latent times (uncensored)."""
    n = len(cases["prop"])
    prop = cases["prop"]
    region = stock.properties["region"][prop]
    team = np.array(ref.team_index("damp_mould"))[region]
    q = np.array([t.quality for t in ref.teams()])[team]
    # Performance improves across the window (the Awaab's Law effect).
    progress = (cases["day"] - cal.start_day) / max(cal.n_days, 1)
    q = np.clip(q - 0.05 * (1 - progress), 0.5, 0.995)
    hh = stock.lookup.at(prop, cases["day"])
    hterm = household_term(stock, hh, cases["day"])
    reported = cases["day"] * DAY + time_of_day(rng, n, OFFICE_HOURS)

    src_p = np.array([0.72, 0.11, 0.08, 0.05, 0.04])
    source = rng.choice(5, n, p=src_p)
    source = np.where(cases["trigger"] >= 0, np.where(rng.random(n) < 0.35, SRC["contractor"], SRC["resident"]), source)
    source = np.where(hh < 0, rng.choice([SRC["staff"], SRC["stock_survey"], SRC["contractor"]], n,
                                         p=[0.5, 0.3, 0.2]), source)
    source = np.where(cases["reopen"], SRC["resident"], source)

    z = risk[prop] - np.median(risk) + 0.8 * hterm
    logits = np.stack([-2.4 + 0.55 * z, -0.55 + 0.35 * z, np.zeros(n)], axis=1)
    pr = np.exp(logits)
    pr /= pr.sum(axis=1, keepdims=True)
    hazard = (rng.random(n)[:, None] > np.cumsum(pr, axis=1)).sum(axis=1)
    severity = np.select([hazard == EMERG, hazard == SIGNIF],
                         [rng.choice([3, 4], n, p=[0.3, 0.7]), rng.choice([2, 3], n, p=[0.55, 0.45])],
                         rng.choice([0, 1, 2], n, p=[0.15, 0.7, 0.15]))

    stuck = rng.random(n) < 0.004  # never investigated: the long-running breach a dashboard must find
    day0 = cases["day"]
    met = rng.random(n) < q
    k_inv = np.where(met, rng.choice(np.arange(1, 11), n, p=_ramp(10)), rng.integers(11, 31, n))
    inv = _wd_time(rng, cal, day0, k_inv)
    # Emergencies: investigated and made safe within hours.
    total = np.where(rng.random(n) < q, rng.uniform(3, 23.5, n) * HOUR,
                     24 * HOUR + rng.lognormal(np.log(16 * HOUR), 0.7, n)).astype(np.int64)
    e_inv = reported + (total * rng.uniform(0.08, 0.35, n)).astype(np.int64)
    e_start = e_inv + ((reported + total - e_inv) * rng.uniform(0.1, 0.5, n)).astype(np.int64)
    e_done = reported + total
    emerg = hazard == EMERG
    inv = np.where(emerg, e_inv, inv)
    inv_day = inv // DAY

    met_s = rng.random(n) < np.minimum(q + 0.03, 0.99)
    k_sum = np.where(met_s, rng.choice(4, n, p=[0.2, 0.35, 0.3, 0.15]), rng.integers(4, 16, n))
    summary = _wd_time(rng, cal, inv_day, k_sum)
    summary = np.where(summary <= inv, inv + rng.integers(30 * MINUTE, 4 * HOUR, n), summary)
    summary = np.where(rng.random(n) < 0.01, NEVER, summary)

    signif = hazard == SIGNIF
    k_start = rng.choice(4, n, p=[0.3, 0.35, 0.25, 0.1])
    s_start = cal.add_working_days(inv_day, k_start) * DAY + rng.integers(8 * HOUR, 11 * HOUR, n)
    s_start = np.maximum(s_start, inv + 30 * MINUTE)
    met_w = rng.random(n) < np.clip(q - 0.02, 0.5, 0.99)
    k_done = np.where(met_w, np.maximum(k_start, rng.integers(1, 6, n)), rng.integers(6, 26, n))
    s_done = cal.add_working_days(inv_day, k_done) * DAY + rng.integers(12 * HOUR, 17 * HOUR, n)
    s_done = np.maximum(s_done, s_start + HOUR)
    safety_start = np.where(emerg, e_start, np.where(signif, s_start, NEVER))
    safety_done = np.where(emerg, e_done, np.where(signif, s_done, NEVER))

    further = rng.random(n) < np.array([0.75, 0.55, 0.15])[hazard]
    met_f = rng.random(n) < q
    f_days = np.where(met_f, rng.integers(10, 85, n), rng.integers(85, 220, n))
    f_start = (inv_day + f_days) * DAY + rng.integers(8 * HOUR, 15 * HOUR, n)
    further_start = np.where(further, f_start, NEVER)

    after_works = np.where(further, further_start + (rng.gamma(2.0, 9.0, n) * DAY).astype(np.int64) + DAY,
                           np.where(emerg | signif, safety_done + rng.integers(1, 14, n) * DAY,
                                    np.maximum(inv, np.where(is_set(summary), summary, inv))
                                    + rng.integers(2, 30, n) * DAY))
    resolved = after_works + rng.integers(0, 6 * HOUR, n)
    closed = resolved + np.where(rng.random(n) < 0.25, 0, (rng.gamma(2.0, 8.0, n) * DAY).astype(np.int64))

    root = cases["root"]
    latent = {
        "inv": np.where(stuck, NEVER, inv), "summary": np.where(stuck, NEVER, summary),
        "safety_start": np.where(stuck, NEVER, safety_start), "safety_done": np.where(stuck, NEVER, safety_done),
        "further_start": np.where(stuck, NEVER, further_start),
        "resolved": np.where(stuck, NEVER, resolved), "closed": np.where(stuck, NEVER, closed),
    }
    out = dict(cases)
    out.update({"household": hh, "reported": reported, "source": source, "hazard": hazard,
                "severity": severity, "further": further, "team": team, "root": root,
                "breach": ~met | ~met_s | (signif & ~met_w) | (further & ~met_f) | stuck})
    out.update({f"latent_{k}": v for k, v in latent.items()})
    return out


def _ramp(k: int) -> np.ndarray:
    """Weights for 1..k that favour the middle-to-late part of a clock, as real teams do."""
    w = np.concatenate([np.linspace(0.5, 1.5, k - 2), [1.2, 0.8]])
    return w / w.sum()


def recurrences(rng: np.random.Generator, cal: Calendar, risk: np.ndarray, cases: Frame, offset: int) -> Frame:
    """Damp comes back: sooner and more often at risky homes and after condensation."""
    n = len(cases["prop"])
    p = 0.07 * np.exp(0.45 * risk[cases["prop"]]) * np.where(
        np.isin(cases["root"], [RC["condensation"], RC["unknown"]]), 1.3, 0.8)
    idx = np.flatnonzero(rng.random(n) < np.minimum(p, 0.5))
    closed = cases["latent_closed"][idx]
    base = np.where(is_set(closed), closed, cases["reported"][idx]) // DAY
    gap = rng.gamma(1.6, 80.0, len(idx)).astype(np.int64) + 7
    reopen = is_set(closed) & (gap < 150) & (rng.random(len(idx)) < 0.55)
    k = len(idx)
    root = np.where(rng.random(k) < 0.7, cases["root"][idx], rng.choice(len(ROOT_CAUSES), k))
    return {"prop": cases["prop"][idx], "day": base + gap, "root": root, "trigger": np.full(k, -1),
            "from_case": np.where(reopen, idx + offset, -1), "reopen": reopen}


def make_cases(rng: np.random.Generator, cal: Calendar, stock: Stock, jobs: Frame) -> Frame:
    """All cases in the window, ordered by report time, with latent and censored times."""
    risk = property_risk(stock)
    lo, hi = stock_interval(stock.properties, cal)
    batch = _concat([baseline_cases(rng, cal, stock, risk), triggered_cases(rng, cal, stock, risk, jobs)])
    done: list[Frame] = []
    offset = 0
    for _ in range(4):
        ok = (batch["day"] >= lo[batch["prop"]]) & (batch["day"] < hi[batch["prop"]])
        batch = {k: v[ok] for k, v in batch.items()}
        if not len(batch["prop"]):
            break
        batch = lifecycle(rng, cal, stock, risk, batch)
        done.append(batch)
        nxt = recurrences(rng, cal, risk, batch, offset)
        offset += len(batch["prop"])
        batch = nxt
    cases = _concat(done)
    keep = cases["reported"] < cal.horizon - 6 * HOUR
    # Renumber after dropping and sorting; reopened links follow their case.
    index = np.cumsum(keep) - 1
    cases = {k: v[keep] for k, v in cases.items()}
    src = cases["from_case"]
    cases["from_case"] = np.where((src >= 0) & keep[np.maximum(src, 0)], index[np.maximum(src, 0)], -1)
    order = np.argsort(cases["reported"], kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    cases = {k: v[order] for k, v in cases.items()}
    cases["from_case"] = np.where(cases["from_case"] >= 0, rank[np.maximum(cases["from_case"], 0)], -1)
    # A case only reopens one that was closed before it was reported.
    parent = np.maximum(cases["from_case"], 0)
    valid = (cases["from_case"] >= 0) & (cases["latent_closed"][parent] < cases["reported"])
    cases["from_case"] = np.where(valid, cases["from_case"], -1)
    return _censor(cal, cases)


def _censor(cal: Calendar, cases: Frame) -> Frame:
    h = cal.horizon
    for k in ("inv", "summary", "safety_start", "safety_done", "further_start", "resolved", "closed"):
        cases[k] = censor(cases[f"latent_{k}"], h)
    assessed = is_set(cases["inv"])
    cases["hazard_out"] = np.where(assessed, cases["hazard"], -1)
    cases["severity_out"] = np.where(assessed, cases["severity"], -1)
    cases["root_out"] = np.where(assessed, cases["root"], -1)
    cases["further_out"] = np.where(assessed, cases["further"].astype(np.int64), -1)
    cases["status"] = np.where(is_set(cases["closed"]), 2, np.where(is_set(cases["resolved"]), 1, 0))
    return cases


def _concat(frames: list[Frame]) -> Frame:
    keys = frames[0].keys()
    return {k: np.concatenate([f[k] for f in frames]) for k in keys}


def case_jobs(rng: np.random.Generator, cal: Calendar, stock: Stock, cases: Frame) -> Frame:
    """Works orders raised for cases: making safe, further works, mould washes."""
    n = len(cases["prop"])
    hz = cases["hazard"]
    inv = cases["latent_inv"]
    safety_done = cases["latent_safety_done"]
    safety_start = cases["latent_safety_start"]
    parts: list[Frame] = []
    cat_for_root = np.array([CAT["damp_mould"], CAT["external"], CAT["damp_mould"], CAT["leak"],
                             CAT["external"], CAT["damp_mould"]])
    # Make-safe works (emergency) and safety works (significant); a few significant cases get none.
    has_safety = is_set(safety_done) & ((hz == EMERG) | (rng.random(n) < 0.95))
    idx = np.flatnonzero(has_safety)
    rep = np.where(hz[idx] == EMERG,
                   np.maximum(safety_start[idx] - rng.integers(5 * MINUTE, HOUR, len(idx)), inv[idx]),
                   np.maximum(safety_start[idx] - rng.integers(2 * HOUR, 2 * DAY, len(idx)),
                              inv[idx] + 10 * MINUTE))
    rep = np.minimum(rep, safety_done[idx] - 30 * MINUTE)
    parts.append({"case": idx, "reported": rep, "forced": safety_done[idx],
                  "priority": np.where(hz[idx] == EMERG, EMERGENCY, URGENT),
                  "category": np.where(cases["root"][idx] == RC["leak"], CAT["leak"], CAT["damp_mould"])})
    # Further (preventative) works.
    fs = cases["latent_further_start"]
    idx = np.flatnonzero(is_set(fs) & is_set(inv))
    rep = np.maximum(fs[idx] - rng.integers(1, 10, len(idx)) * DAY, inv[idx] + HOUR)
    fin = np.maximum(cases["latent_resolved"][idx] - rng.integers(0, 2 * DAY, len(idx)), fs[idx] + HOUR)
    parts.append({"case": idx, "reported": rep, "forced": np.maximum(fin, rep + HOUR),
                  "priority": np.where(rng.random(len(idx)) < 0.6, ROUTINE, PLANNED),
                  "category": cat_for_root[cases["root"][idx]]})
    # Mould wash and advice for cases without a hazard.
    idx = np.flatnonzero((hz == NOT_SIG) & ~cases["further"] & is_set(inv) & (rng.random(n) < 0.55))
    rep = inv[idx] + rng.integers(HOUR, 48 * HOUR, len(idx))
    fin = np.maximum(cases["latent_resolved"][idx] - rng.integers(0, DAY, len(idx)), rep + HOUR)
    parts.append({"case": idx, "reported": rep, "forced": fin,
                  "priority": np.full(len(idx), ROUTINE), "category": np.full(len(idx), CAT["damp_mould"])})
    j = _concat(parts)
    _, hi = stock_interval(stock.properties, cal)
    keep = (j["reported"] < cal.horizon) & (j["reported"] // DAY < hi[cases["prop"][j["case"]]])
    j = {k: v[keep] for k, v in j.items()}
    c = j["case"]
    m = len(c)
    return {"prop": cases["prop"][c], "household": cases["household"][c], "reported": j["reported"],
            "priority": j["priority"], "category": j["category"], "resident": np.zeros(m, bool),
            "dm_case": c, "parent": np.full(m, -1), "forced_complete": j["forced"],
            "team": cases["team"][c]}

