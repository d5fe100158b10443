"""Residents' contacts and satisfaction surveys.

Contacts are what residents do in response to everything else: report a
repair, chase it when it is late or was not fixed, report damp, complain, or
ask something. Surveys follow completed jobs and closed complaints; in-house
work satisfies more residents than contractors' (as the Ombudsman found).
"""

from __future__ import annotations

import numpy as np

from housing_assurance.contract import CHANNELS, CONTACT_REASONS

from . import reference as ref
from .calendar import DAY, HOUR, MINUTE, OFFICE_HOURS, Calendar, is_set, time_of_day
from .damp import SRC
from .repairs import EMERGENCY, PLANNED
from .stock import Stock

Frame = dict[str, np.ndarray]
REASON = {c: i for i, c in enumerate(CONTACT_REASONS)}
CHANNEL_P = {  # phone, email, web, app, letter, in_person, sms
    "repair": (0.56, 0.09, 0.15, 0.10, 0.01, 0.04, 0.05),
    "chase": (0.70, 0.10, 0.06, 0.05, 0.01, 0.03, 0.05),
    "complaint": (0.30, 0.30, 0.25, 0.05, 0.06, 0.04, 0.00),
    "general": (0.50, 0.15, 0.15, 0.07, 0.03, 0.07, 0.03),
}


def _part(prop: np.ndarray, hh: np.ndarray, at: np.ndarray, reason: int, channel: np.ndarray,
          job: np.ndarray | None = None, case: np.ndarray | None = None,
          complaint: np.ndarray | None = None) -> Frame:
    k = len(prop)
    none = np.full(k, -1)
    return {"prop": prop, "household": hh, "at": at, "reason": np.full(k, reason), "channel": channel,
            "job": none if job is None else job, "case": none if case is None else case,
            "complaint": none if complaint is None else complaint}


def _channel(rng: np.random.Generator, k: int, kind: str) -> np.ndarray:
    return rng.choice(len(CHANNELS), k, p=np.array(CHANNEL_P[kind]))


def make_contacts(rng: np.random.Generator, cal: Calendar, stock: Stock, jobs: Frame, chases: Frame,
                  cases: Frame, complaints: Frame) -> Frame:
    h = cal.horizon
    parts: list[Frame] = []
    # New repairs reported by residents.
    idx = np.flatnonzero(jobs["resident"])
    at = jobs["reported"][idx] - rng.integers(0, 20 * MINUTE, len(idx))
    parts.append(_part(jobs["prop"][idx], jobs["household"][idx], at, REASON["new_repair"],
                       _channel(rng, len(idx), "repair"), job=idx))
    # Chasing: a little before target, much more once a job is late.
    responsive = (jobs["priority"] != PLANNED) & (jobs["dm_case"] < 0)
    stop = np.minimum(np.minimum(jobs["latent_complete"], jobs["latent_cancel"]), h)
    wait_late = np.maximum(stop - jobs["target"], 0) / DAY
    lam = np.where(responsive, 0.06 + 0.09 * np.minimum(wait_late, 60), 0.0)
    lam = np.where(jobs["priority"] == EMERGENCY, lam * 2, lam)
    count = rng.poisson(lam)
    idx = np.repeat(np.arange(len(count)), count)
    lo = np.maximum(jobs["reported"][idx] + 4 * HOUR, jobs["target"][idx] - 2 * DAY)
    hi = stop[idx]
    ok = hi > lo
    idx, lo, hi = idx[ok], lo[ok], hi[ok]
    at = lo + (rng.random(len(idx)) * (hi - lo)).astype(np.int64)
    parts.append(_part(jobs["prop"][idx], jobs["household"][idx], at, REASON["repair_chase"],
                       _channel(rng, len(idx), "chase"), job=idx))
    # Chasing jobs that were closed but not fixed.
    idx = chases["job"]
    parts.append(_part(jobs["prop"][idx], jobs["household"][idx], chases["at"], REASON["repair_chase"],
                       _channel(rng, len(idx), "chase"), job=idx))
    # Damp and mould reports, follow-ups while a clock is breached, and earlier warning signs.
    resident = (cases["source"] == SRC["resident"])
    idx = np.flatnonzero(resident)
    at = cases["reported"][idx] - rng.integers(0, 10 * MINUTE, len(idx))
    parts.append(_part(cases["prop"][idx], cases["household"][idx], at, REASON["damp_mould_report"],
                       _channel(rng, len(idx), "repair"), case=idx))
    count = rng.poisson(np.where(cases["breach"], 1.0, 0.2))
    idx = np.repeat(np.arange(len(count)), count)
    end = np.minimum(cases["latent_closed"][idx], h)
    start = cases["reported"][idx] + DAY
    ok = end > start
    idx, start, end = idx[ok], start[ok], end[ok]
    at = start + (rng.random(len(idx)) * (end - start)).astype(np.int64)
    parts.append(_part(cases["prop"][idx], cases["household"][idx], at, REASON["damp_mould_report"],
                       _channel(rng, len(idx), "chase"), case=idx))
    idx = np.flatnonzero(resident & (rng.random(len(resident)) < 0.3))
    at = cases["reported"][idx] - rng.integers(7 * DAY, 90 * DAY, len(idx))
    parts.append(_part(cases["prop"][idx], cases["household"][idx], at,
                       np.where(rng.random(len(idx)) < 0.7, REASON["enquiry"], REASON["other"]),
                       _channel(rng, len(idx), "general")))
    # Complaints.
    k = len(complaints["prop"])
    at = complaints["received"] - rng.integers(0, 5 * MINUTE, k)
    parts.append(_part(complaints["prop"], complaints["household"], at, REASON["complaint"],
                       _channel(rng, k, "complaint"), complaint=np.arange(k)))
    # Everyday enquiries from each tenancy.
    hh = stock.households
    first = np.maximum(hh["tenancy_start"], cal.start_day)
    last = np.where(hh["tenancy_end"] >= 0, hh["tenancy_end"] + 1, cal.end_day)
    span = np.maximum(last - first, 0)
    count = rng.poisson(0.8 * span / 365.25)
    who = np.repeat(np.arange(len(span)), count)
    day = first[who] + (rng.random(len(who)) * span[who]).astype(np.int64)
    at = day * DAY + time_of_day(rng, len(who), OFFICE_HOURS)
    parts.append(_part(hh["property"][who], who, at,
                       np.where(rng.random(len(who)) < 0.68, REASON["enquiry"], REASON["other"]),
                       _channel(rng, len(who), "general")))

    contacts = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    ok = (contacts["at"] >= cal.start_day * DAY) & (contacts["at"] < h)
    contacts = {key: v[ok] for key, v in contacts.items()}
    order = np.argsort(contacts["at"], kind="stable")
    return {key: v[order] for key, v in contacts.items()}


def make_surveys(rng: np.random.Generator, cal: Calendar, jobs: Frame, complaints: Frame) -> Frame:
    h = cal.horizon
    c = ref.CONTRACTORS
    con = jobs["contractor"]
    done = jobs["latent_complete"]
    in_house = con == ref.IN_HOUSE
    asked = is_set(done) & (rng.random(len(con)) < np.where(in_house, 0.27, 0.22))
    at = done + rng.integers(2 * HOUR, 10 * DAY, len(con))
    p = (np.array([x.satisfaction for x in c])[con] - 0.15 * jobs["late"] - 0.35 * jobs["not_fixed"]
         - 0.08 * jobs["return_visit"] + 0.05 * (jobs["priority"] == EMERGENCY))
    idx = np.flatnonzero(asked & (at <= h))
    job_sat = rng.random(len(idx)) < np.clip(p[idx], 0.05, 0.97)

    final = complaints["final"]
    outcome = complaints["outcome"]
    cidx = np.flatnonzero(is_set(final) & (rng.random(len(final)) < 0.2))
    c_at = final[cidx] + rng.integers(DAY, 14 * DAY, len(cidx))
    keep = c_at <= h
    cidx, c_at = cidx[keep], c_at[keep]
    pc = np.array([0.55, 0.42, 0.15, 0.3])[np.maximum(outcome[cidx], 0)]
    c_sat = rng.random(len(cidx)) < pc

    sat = np.concatenate([job_sat, c_sat])
    m = len(sat)
    score = np.where(sat, rng.choice([4, 5], m, p=[0.45, 0.55]), rng.choice([1, 2, 3], m, p=[0.35, 0.3, 0.35]))
    score = np.where(rng.random(m) < 0.04, -1, score)
    out = {
        "job": np.concatenate([idx, np.full(len(cidx), -1)]),
        "complaint": np.concatenate([np.full(len(idx), -1), cidx]),
        "at": np.concatenate([at[idx], c_at]),
        "satisfied": sat, "score": score,
    }
    order = np.argsort(out["at"], kind="stable")
    return {k: v[order] for k, v in out.items()}

