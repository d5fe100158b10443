"""Complaints under the Complaint Handling Code: both stages, extensions, outcomes, Ombudsman.

Most complaints come from service failures the rest of the extract shows
(late or unfixed repairs, damp and mould cases with breached clocks), the
rest from everyday housing management. Teams differ in how often they meet
the Code's clocks; a few extensions go beyond what the Code allows.
"""

from __future__ import annotations

import numpy as np

from housing_assurance.contract import COMPLAINT_CATEGORIES, OMBUDSMAN_OUTCOMES

from . import reference as ref
from .calendar import DAY, HOUR, MINUTE, NEVER, OFFICE_HOURS, Calendar, censor, is_set, time_of_day
from .repairs import EMERGENCY, PLANNED
from .stock import Stock, stock_interval

Frame = dict[str, np.ndarray]
CC = {c: i for i, c in enumerate(COMPLAINT_CATEGORIES)}
UPHELD, PARTLY, NOT_UPHELD, WITHDRAWN = range(4)
BASELINE_RATE = 0.024  # everyday complaints a home a year (communication, ASB, estate services …)


def _sources(rng: np.random.Generator, cal: Calendar, stock: Stock, jobs: Frame, cases: Frame) -> Frame:
    """When and why each complaint is received."""
    parts: list[dict[str, np.ndarray]] = []
    # Late repairs: the longer the wait, the likelier a complaint.
    responsive = jobs["priority"] != PLANNED
    end = np.where(is_set(jobs["latent_complete"]), jobs["latent_complete"], cal.horizon)
    days_late = np.maximum(end - jobs["target"], 0) / DAY
    p = np.where(responsive & (days_late > 0), 0.003 + 0.0006 * days_late, 0.0)
    p = np.where(jobs["priority"] == EMERGENCY, p * 2, p)
    idx = np.flatnonzero(rng.random(len(p)) < np.minimum(p, 0.12))
    at = jobs["target"][idx] + rng.integers(DAY, 30 * DAY, len(idx))
    parts.append({"prop": jobs["prop"][idx], "at": at, "cat": np.full(len(idx), CC["repairs"]),
                  "serious": np.ones(len(idx), bool)})
    # Jobs closed but not fixed.
    idx = np.flatnonzero(jobs["not_fixed"] & is_set(jobs["latent_complete"]) & (rng.random(len(p)) < 0.10))
    at = jobs["latent_complete"][idx] + rng.integers(3 * DAY, 25 * DAY, len(idx))
    parts.append({"prop": jobs["prop"][idx], "at": at, "cat": np.full(len(idx), CC["repairs"]),
                  "serious": np.ones(len(idx), bool)})
    # Damp and mould: more when a clock was breached or the hazard is serious.
    pc = 0.03 + 0.12 * cases["breach"] + 0.04 * (cases["hazard"] < 2)
    idx = np.flatnonzero(rng.random(len(pc)) < pc)
    at = cases["reported"][idx] + rng.integers(10 * DAY, 80 * DAY, len(idx))
    parts.append({"prop": cases["prop"][idx], "at": at, "cat": np.full(len(idx), CC["damp_mould"]),
                  "serious": np.ones(len(idx), bool)})
    # Everyday complaints.
    lo, hi = stock_interval(stock.properties, cal)
    rented = np.array([1.0, 1.2, 0.8, 0.6, 0.5])[stock.properties["tenure"]]
    counts = rng.poisson(BASELINE_RATE * rented * (hi - lo) / 365.25)
    prop = np.repeat(np.arange(len(lo)), counts)
    day = lo[prop] + (rng.random(len(prop)) * (hi - lo)[prop]).astype(np.int64)
    k = len(prop)
    cats = np.array([CC["repairs"], CC["communication"], CC["staff_conduct"], CC["anti_social_behaviour"],
                     CC["estate_services"], CC["other"]])
    parts.append({"prop": prop, "at": day * DAY + time_of_day(rng, k, OFFICE_HOURS),
                  "cat": rng.choice(cats, k, p=[0.15, 0.27, 0.12, 0.2, 0.16, 0.1]),
                  "serious": np.zeros(k, bool)})
    src = {key: np.concatenate([x[key] for x in parts]) for key in parts[0]}
    ok = (src["at"] < cal.end_day * DAY) & (src["at"] // DAY >= cal.start_day) & (src["at"] // DAY < hi[src["prop"]])
    src = {key: v[ok] for key, v in src.items()}
    order = np.argsort(src["at"], kind="stable")
    return {key: v[order] for key, v in src.items()}


def _clock(rng: np.random.Generator, cal: Calendar, day0: np.ndarray, met: np.ndarray, limit: int,
           late_max: int) -> np.ndarray:
    """Working day for an action due within ``limit`` working days: on time or late."""
    k = np.where(met, rng.integers(0, limit + 1, len(day0)), rng.integers(limit + 1, limit + late_max, len(day0)))
    return cal.add_working_days(day0, k)


def _at(rng: np.random.Generator, day: np.ndarray, after: np.ndarray) -> np.ndarray:
    """An office-hours time on ``day``, later than ``after``."""
    t = day * DAY + rng.integers(9 * HOUR, 17 * HOUR, len(day))
    return np.where(t <= after, after + rng.integers(20 * MINUTE, 3 * HOUR, len(day)), t)


def make_complaints(rng: np.random.Generator, cal: Calendar, stock: Stock, jobs: Frame, cases: Frame) -> Frame:
    src = _sources(rng, cal, stock, jobs, cases)
    n = len(src["prop"])
    prop = src["prop"]
    cat = src["cat"]
    received = src["at"]
    region = stock.properties["region"][prop]
    hm = np.isin(cat, [CC["anti_social_behaviour"], CC["estate_services"]])
    team = np.where(hm, np.array(ref.team_index("housing_management"))[region],
                    np.array(ref.team_index("complaints"))[region])
    q = np.array([t.quality for t in ref.teams()])[team]
    progress = (received // DAY - cal.start_day) / max(cal.n_days, 1)
    q = np.clip(q - 0.04 * (1 - progress), 0.5, 0.99)
    r_day = received // DAY

    # Stage 1: acknowledge in 5 working days, respond in 10 working days of acknowledgement.
    ack_day = _clock(rng, cal, r_day, rng.random(n) < np.minimum(q + 0.05, 0.99), 5, 10)
    ack = _at(rng, ack_day, received)
    ack_recorded = rng.random(n) > 0.02
    from_day = np.where(ack_recorded, ack_day, cal.add_working_days(r_day, 5))
    normal_due = cal.add_working_days(from_day, 10)
    ext = rng.random(n)
    extended = np.where(ext < 0.012, cal.add_working_days(normal_due, rng.integers(12, 25, n)),
                        np.where(ext < 0.07, cal.add_working_days(normal_due, rng.integers(3, 11, n)), -1))
    due = np.where(extended >= 0, extended, normal_due)
    met = rng.random(n) < q
    wd_from = np.maximum(from_day, ack_day)
    span = np.maximum(np.searchsorted(cal.working_days, due) - np.searchsorted(cal.working_days, wd_from), 1)
    k = np.where(met, rng.integers(1, span + 1), span + rng.integers(1, 20, n))
    resp_day = cal.add_working_days(wd_from, k)
    resp = _at(rng, resp_day, ack)
    withdrawn = rng.random(n) < 0.06
    withdraw_at = ack + rng.integers(DAY, 15 * DAY, n)
    p_up = np.where(src["serious"][:, None], [0.38, 0.32, 0.30], [0.22, 0.26, 0.52])
    s1_outcome = (rng.random(n)[:, None] > np.cumsum(p_up, axis=1)).sum(axis=1)
    s1_resp = np.where(withdrawn, NEVER, resp)

    # Stage 2: escalated more often when not upheld.
    p_esc = np.array([0.08, 0.17, 0.27])[s1_outcome]
    esc = (~withdrawn) & (rng.random(n) < p_esc)
    s2_req = np.where(esc, s1_resp + rng.integers(2 * DAY, 40 * DAY, n), NEVER)
    s2_day = s2_req // DAY
    s2_ack_day = _clock(rng, cal, s2_day, rng.random(n) < q, 5, 8)
    s2_ack = np.where(esc, _at(rng, s2_ack_day, s2_req), NEVER)
    s2_normal = cal.add_working_days(s2_ack_day, 20)
    ext2 = rng.random(n)
    s2_ext = np.where(esc & (ext2 < 0.01), cal.add_working_days(s2_normal, rng.integers(22, 35, n)),
                      np.where(esc & (ext2 < 0.06), cal.add_working_days(s2_normal, rng.integers(5, 20, n)), -1))
    s2_due = np.where(s2_ext >= 0, s2_ext, s2_normal)
    span2 = np.maximum(np.searchsorted(cal.working_days, s2_due) - np.searchsorted(cal.working_days, s2_ack_day), 1)
    met2 = rng.random(n) < q - 0.05
    k2 = np.where(met2, rng.integers(np.maximum(span2 // 3, 1), span2 + 1), span2 + rng.integers(1, 25, n))
    s2_resp = np.where(esc, _at(rng, cal.add_working_days(s2_ack_day, k2), s2_ack), NEVER)
    s2_outcome = np.where(rng.random(n) < 0.7, np.minimum(s1_outcome, 2),
                          rng.choice(3, n, p=[0.3, 0.35, 0.35]))

    h = cal.horizon
    out: Frame = {"prop": prop, "category": cat, "team": team, "received": received,
                  "s1_ack": censor(np.where(ack_recorded, ack, NEVER), h),
                  "s1_resp": censor(s1_resp, h)}
    # An extension is agreed before the original deadline: unknown if that is still to come.
    out["s1_ext"] = np.where(normal_due - 3 <= cal.end_day, extended, -1)
    out["s2_req"] = censor(s2_req, h)
    out["s2_ack"] = censor(s2_ack, h)
    out["s2_resp"] = censor(s2_resp, h)
    escalated = is_set(out["s2_req"])
    out["s2_ext"] = np.where(escalated & (s2_normal - 3 <= cal.end_day), s2_ext, -1)
    withdrawn_now = withdrawn & (withdraw_at <= h)
    outcome = np.where(escalated, np.where(is_set(out["s2_resp"]), s2_outcome, -1),
                       np.where(is_set(out["s1_resp"]), s1_outcome, -1))
    outcome = np.where(withdrawn_now, WITHDRAWN, outcome)
    out["outcome"] = outcome
    final = np.where(escalated, out["s2_resp"], out["s1_resp"])

    upheld = (outcome == UPHELD) | (outcome == PARTLY)
    base = np.where(cat == CC["damp_mould"], 450.0, np.where(cat == CC["repairs"], 180.0, 80.0))
    offered = np.where(upheld & (rng.random(n) < 0.6), np.round(base * rng.lognormal(0, 0.7, n) / 5) * 5,
                       np.where((outcome == NOT_UPHELD) & (rng.random(n) < 0.05), 25.0, np.nan))
    offered = np.where(offered < 10, 10.0, offered)
    paid_ready = is_set(final) & (final + 28 * DAY <= h)
    paid = np.where(paid_ready & (rng.random(n) < 0.9), offered, np.nan)
    out["comp_offered"] = offered
    out["comp_paid"] = paid

    # The Housing Ombudsman: a few referrals after stage 2, determinations months later.
    refer = is_set(out["s2_resp"]) & (rng.random(n) < np.where(outcome == NOT_UPHELD, 0.16, 0.08))
    ref_day = out["s2_resp"] // DAY + rng.integers(14, 150, n)
    det_day = ref_day + rng.integers(90, 400, n)
    referred = refer & (ref_day < cal.end_day)
    determined = referred & (det_day < cal.end_day)
    out["omb_ref"] = np.where(referred, ref_day, -1)
    out["omb_det"] = np.where(determined, det_day, -1)
    omb = rng.choice(5, n, p=[0.06, 0.30, 0.22, 0.27, 0.15])
    out["omb_outcome"] = np.where(determined, omb, np.where(referred, OMBUDSMAN_OUTCOMES.index("pending"), -1))

    learning = np.empty(n, dtype=object)
    pick = rng.random(n)
    for c, name in enumerate(COMPLAINT_CATEGORIES):
        options = ref.LEARNING_ACTIONS[name]
        mask = cat == c
        learning[mask] = np.array(options, dtype=object)[(pick[mask] * len(options)).astype(np.int64)]
    learning[~(upheld & (rng.random(n) < 0.6))] = None
    out["learning"] = learning
    hh = stock.lookup.at(prop, r_day)
    out["household"] = np.where(rng.random(n) < 0.04, -1, hh)
    out["prop_out"] = np.where((rng.random(n) < 0.03) & (hh >= 0), -1, prop)
    out["final"] = final
    return out

