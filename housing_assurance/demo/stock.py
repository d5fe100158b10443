"""Homes, tenancies and vulnerabilities of the demo landlord.

The stock is built so that the risk factors a housing executive expects are
present and visible in the extract: older homes have worse EPC ratings and
more repairs, some households are large for their bedrooms, tenancies turn
over with short voids, and homes are bought and sold during the window.
Each home also gets hidden "condition" factors that drive repairs and damp
(they are not written out, so no model can see them: prediction stays noisy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from housing_assurance.contract import PROPERTY_TYPES, TENURES, VULNERABILITY_TYPES

from . import reference as ref
from .calendar import Calendar, day_number

Frame = dict[str, np.ndarray]

TYPE_P = np.array([0.37, 0.40, 0.09, 0.08, 0.04, 0.02])
# Tenure by property type (rows in PROPERTY_TYPES order, columns in TENURES order).
TENURE_P = np.array([
    [0.86, 0.02, 0.01, 0.08, 0.03],  # house
    [0.70, 0.07, 0.08, 0.05, 0.10],  # flat
    [0.45, 0.03, 0.50, 0.01, 0.01],  # bungalow
    [0.80, 0.02, 0.00, 0.03, 0.15],  # maisonette
    [0.55, 0.40, 0.05, 0.00, 0.00],  # bedsit
    [0.60, 0.30, 0.10, 0.00, 0.00],  # other
])
ERAS = ((1900, 1918), (1919, 1944), (1945, 1964), (1965, 1979), (1980, 1999), (2000, 2024))
ERA_P = np.array([0.08, 0.12, 0.22, 0.22, 0.16, 0.20])
ERA_P_SOLD = np.array([0.22, 0.25, 0.22, 0.16, 0.10, 0.05])  # disposals are older, poorer homes
BEDROOMS = {  # (values, probabilities) per property type
    "house": ((2, 3, 4, 5), (0.25, 0.55, 0.17, 0.03)),
    "flat": ((1, 2, 3), (0.40, 0.45, 0.15)),
    "bungalow": ((1, 2), (0.55, 0.45)),
    "maisonette": ((2, 3), (0.5, 0.5)),
    "bedsit": ((0,), (1.0,)),
    "other": ((1, 2, 3), (0.5, 0.3, 0.2)),
}
MEAN_TENANCY_YEARS = np.array([10.0, 2.5, 6.0, 14.0, 16.0])  # by tenure
OLDEST_TENANCY = day_number(date(1965, 1, 1))
RECORDS_FROM = day_number(date(2012, 4, 1))  # vulnerabilities were first recorded electronically


@dataclass
class Stock:
    properties: Frame
    households: Frame
    vulnerabilities: Frame
    # Hidden per-home factors (not written out).
    repair_frailty: np.ndarray
    damp_latent: np.ndarray
    lookup: HouseholdLookup


def _epc_from_year(rng: np.random.Generator, year: np.ndarray, ptype: np.ndarray) -> np.ndarray:
    """EPC band index 0 (A) … 6 (G): worse for older homes, with plenty of spread."""
    score = np.select(
        [year < 1919, year < 1945, year < 1965, year < 1980, year < 2000, year < 2013],
        [4.6, 4.2, 3.6, 3.5, 3.0, 2.7], 1.9)
    score = score - 0.25 * (ptype == PROPERTY_TYPES.index("flat")) + rng.normal(0, 0.65, len(year))
    return np.clip(np.rint(score), 1, 7).astype(np.int64) - 1


def make_properties(rng: np.random.Generator, cal: Calendar, homes: int, years: float) -> Frame:
    n_sold = round(homes * 0.012 * years)
    n = homes + n_sold
    sold = np.zeros(n, bool)
    sold[homes:] = True
    region = rng.choice(len(ref.REGIONS), n, p=np.array(ref.REGION_WEIGHTS))
    area = np.empty(n, np.int64)
    area_names: list[str] = []
    area_region: list[int] = []
    for r, name in enumerate(ref.REGIONS):
        names = ref.AREAS[name]
        share = rng.dirichlet(np.full(len(names), 6.0))
        mask = region == r
        area[mask] = len(area_names) + rng.choice(len(names), mask.sum(), p=share)
        area_names.extend(names)
        area_region.extend([r] * len(names))
    ptype = rng.choice(len(PROPERTY_TYPES), n, p=TYPE_P)
    era = np.where(sold, rng.choice(6, n, p=ERA_P_SOLD), rng.choice(6, n, p=ERA_P))
    lo = np.array([e[0] for e in ERAS])[era]
    hi = np.array([e[1] for e in ERAS])[era]
    build_year = lo + (rng.random(n) * (hi - lo + 1)).astype(np.int64)

    # Acquisitions and new builds during the window (part of today's stock).
    acquired = (~sold) & (rng.random(n) < 0.01 * years)
    has_from = rng.random(n) > 0.55
    earliest = np.maximum(build_year, 1970)
    earliest_day = (earliest - 1970) * 365 + 180
    span = np.maximum(cal.start_day - earliest_day, 1)
    stock_from = earliest_day + (rng.random(n) * span).astype(np.int64)
    stock_from[acquired] = cal.start_day + (rng.random(acquired.sum()) * cal.n_days * 0.97).astype(np.int64)
    has_from |= acquired
    acq_year = 1970 + (stock_from[acquired] / 365.25).astype(np.int64)
    build_year[acquired] = np.where(rng.random(acquired.sum()) < 0.8, acq_year,
                                    acq_year - rng.integers(1, 40, acquired.sum()))
    stock_to = np.zeros(n, np.int64)
    stock_to[sold] = cal.start_day + 30 + (rng.random(n_sold) * (cal.n_days - 31)).astype(np.int64)
    has_from &= ~sold | (stock_from < stock_to - 365)

    tenure_u = rng.random(n)
    cum = np.cumsum(TENURE_P[ptype], axis=1)
    tenure = (tenure_u[:, None] > cum).sum(axis=1)
    so = acquired & (rng.random(n) < 0.3) & np.isin(ptype, [0, 1])
    tenure[so] = TENURES.index("shared_ownership")
    tenure = np.minimum(tenure, len(TENURES) - 1)

    epc = _epc_from_year(rng, build_year, ptype)
    epc[(build_year < 1945) & (rng.random(n) < 0.012)] = 6  # a handful of G-rated homes awaiting works
    epc[acquired & (build_year >= 2010)] = np.where(rng.random((acquired & (build_year >= 2010)).sum()) < 0.3, 0, 1)
    bedrooms = np.empty(n, np.int64)
    for t, name in enumerate(PROPERTY_TYPES):
        mask = ptype == t
        values, p = BEDROOMS[name]
        bedrooms[mask] = rng.choice(np.array(values), mask.sum(), p=np.array(p))

    # Addresses: each area has its own streets and blocks; flats share blocks.
    street_no = rng.integers(0, 4000, n)
    house_no = rng.integers(1, 180, n)
    flat_no = rng.integers(1, 60, n)
    block_kind = rng.integers(0, len(ref.BLOCK_KINDS), n)
    in_block = np.isin(ptype, [1, 3, 4])
    addresses = []
    stems, kinds = ref.STREET_STEMS, ref.STREET_KINDS
    for i in range(n):
        s = int(street_no[i] + 97 * area[i])
        stem = stems[s % len(stems)]
        if in_block[i]:
            addresses.append(f"Flat {flat_no[i]}, {stems[(s // 7) % len(stems)]} {ref.BLOCK_KINDS[block_kind[i]]}")
        else:
            addresses.append(f"{house_no[i]} {stem} {kinds[(s // len(stems)) % len(kinds)]}")
    letters = ref.POSTCODE_LETTERS
    sector = rng.integers(1, 10, n)
    l1 = rng.integers(0, len(letters), n)
    l2 = rng.integers(0, len(letters), n)
    postcodes = [f"BV{area[i] + 1} {sector[i]}{letters[l1[i]]}{letters[l2[i]]}" for i in range(n)]

    # Property ids: homes owned before the window first, then in order of acquisition.
    order = np.lexsort((rng.random(n), np.where(acquired, stock_from, 0)))
    # Invented UPRNs in a range no real address uses (9999…), spaced so they never collide.
    uprn = 999_900_000_000 + np.arange(n, dtype=np.int64) * 41 + rng.integers(0, 41, n)
    frame: Frame = {
        "region": region, "area": area, "property_type": ptype, "tenure": tenure,
        "build_year": build_year, "build_year_known": rng.random(n) > 0.015,
        "epc": epc, "epc_known": rng.random(n) > 0.03,
        "bedrooms": bedrooms, "bedrooms_known": rng.random(n) > 0.01,
        "in_stock_from": np.where(has_from, stock_from, -1),
        "in_stock_to": np.where(sold, stock_to, -1),
        "uprn": uprn, "uprn_known": rng.random(n) > 0.02,
        "address": np.array(addresses, dtype=object), "postcode": np.array(postcodes, dtype=object),
    }
    frame = {k: v[order] for k, v in frame.items()}
    frame["area_names"] = np.array(area_names, dtype=object)
    frame["area_region"] = np.array(area_region)
    return frame


def stock_interval(props: Frame, cal: Calendar) -> tuple[np.ndarray, np.ndarray]:
    """Window days [lo, hi) during which each home is owned."""
    lo = np.maximum(np.where(props["in_stock_from"] >= 0, props["in_stock_from"], cal.start_day), cal.start_day)
    hi = np.where(props["in_stock_to"] >= 0, props["in_stock_to"], cal.end_day)
    return lo, np.maximum(hi, lo)


def make_households(rng: np.random.Generator, cal: Calendar, props: Frame) -> Frame:
    """Tenancies overlapping the window, built backwards from the extraction date."""
    n = len(props["region"])
    mean_days = MEAN_TENANCY_YEARS[props["tenure"]] * 365.25
    stock_from = props["in_stock_from"]
    sold = props["in_stock_to"] >= 0
    # The most recent tenancy.
    void_now = (~sold) & (rng.random(n) < 0.022)
    last_end = np.where(sold, props["in_stock_to"] - rng.integers(14, 150, n),
                        np.where(void_now, cal.end_day - rng.integers(1, 75, n), -1))
    anchor = np.where(last_end >= 0, last_end, cal.end_day)
    duration = np.maximum(rng.exponential(mean_days), 20).astype(np.int64)
    start = anchor - duration
    ends = [last_end]
    starts = [start]
    props_idx = [np.arange(n)]
    first_possible = np.where(stock_from >= 0, stock_from, OLDEST_TENANCY)
    # Clamp the first tenancy of a newly acquired home to just after acquisition.
    clamp = start < first_possible
    starts[0] = np.where(clamp, first_possible + rng.integers(5, 60, n), start)
    active = np.flatnonzero((~clamp) & (start > cal.start_day))
    cur_start = start[active]
    while len(active):
        gap = np.where(rng.random(len(active)) < 0.05, rng.integers(90, 300, len(active)),
                       rng.integers(7, 70, len(active)))
        prev_end = cur_start - gap
        keep = prev_end >= np.maximum(cal.start_day, first_possible[active] + 30)
        active, prev_end = active[keep], prev_end[keep]
        if not len(active):
            break
        dur = np.maximum(rng.exponential(mean_days[active]), 20).astype(np.int64)
        prev_start = prev_end - dur
        clamp = prev_start < first_possible[active]
        prev_start = np.where(clamp, first_possible[active] + rng.integers(5, 30, len(active)), prev_start)
        prev_start = np.minimum(prev_start, prev_end - 5)
        ends.append(prev_end)
        starts.append(prev_start)
        props_idx.append(active)
        more = (~clamp) & (prev_start > cal.start_day)
        active, cur_start = active[more], prev_start[more]
    prop = np.concatenate(props_idx)
    t_start = np.concatenate(starts)
    t_end = np.concatenate(ends)
    t_start = np.maximum(t_start, OLDEST_TENANCY)
    ok = (t_start < cal.end_day) & ((t_end < 0) | ((t_end >= t_start) & (t_end >= cal.start_day)))
    prop, t_start, t_end = prop[ok], t_start[ok], t_end[ok]
    m = len(prop)

    bedrooms = props["bedrooms"][prop]
    tenure = props["tenure"][prop]
    size = np.maximum(1, bedrooms + rng.choice([-1, 0, 1, 2, 3], m, p=[0.30, 0.38, 0.20, 0.09, 0.03]))
    size = np.where(bedrooms == 0, rng.choice([1, 2], m, p=[0.85, 0.15]), size)
    older = tenure == TENURES.index("older_persons")
    size = np.where(older, rng.choice([1, 2], m, p=[0.65, 0.35]), size)
    size = np.where(tenure == TENURES.index("supported"), np.minimum(size, 2), size)

    # Census: most confirmed in the last two years, some long ago, some never.
    last_day = np.where(t_end >= 0, t_end, cal.end_day - 1)
    never_done = rng.random(m) < 0.12
    back = rng.exponential(420, m).astype(np.int64)
    census = last_day - back
    census = np.where((census < t_start) | never_done, -1, census)
    census = np.where((census < 0) & ~never_done & (rng.random(m) < 0.5),
                      t_start + rng.integers(0, 60, m), census)
    census = np.where((census > last_day) | (census < RECORDS_FROM), -1, census)

    order = np.lexsort((prop, t_start))
    return {
        "property": prop[order], "tenancy_start": t_start[order], "tenancy_end": t_end[order],
        "household_size": size[order], "size_known": (rng.random(m) > 0.02)[order],
        "census": census[order],
    }


class HouseholdLookup:
    """Which household lived at a home on a given day (vectorised)."""

    SHIFT = np.int64(1 << 22)

    def __init__(self, households: Frame) -> None:
        self.base = int(households["tenancy_start"].min()) - 1
        prop = households["property"].astype(np.int64)
        key = prop * self.SHIFT + (households["tenancy_start"] - self.base)
        self.order = np.argsort(key, kind="stable")
        self.keys = key[self.order]
        self.prop = prop[self.order]
        end = households["tenancy_end"]
        self.end = np.where(end >= 0, end, np.iinfo(np.int64).max // 4)[self.order]

    def at(self, prop: np.ndarray, day: np.ndarray) -> np.ndarray:
        """Household index (row in households) or -1 for a void home."""
        q = prop.astype(np.int64) * self.SHIFT + (day - self.base)
        pos = np.searchsorted(self.keys, q, side="right") - 1
        posc = np.clip(pos, 0, len(self.keys) - 1)
        ok = (pos >= 0) & (self.prop[posc] == prop) & (self.end[posc] >= day)
        return np.where(ok, self.order[posc], -1)


def make_vulnerabilities(rng: np.random.Generator, cal: Calendar, props: Frame, hh: Frame) -> Frame:
    """About three in ten households have at least one recorded vulnerability."""
    m = len(hh["property"])
    tenure = props["tenure"][hh["property"]]
    p_any = np.where(tenure == TENURES.index("supported"), 0.75,
                     np.where(tenure == TENURES.index("older_persons"), 0.6, 0.27))
    has = rng.random(m) < p_any
    count = np.where(has, 1 + rng.poisson(0.35, m), 0)
    owner = np.repeat(np.arange(m), count)
    k = len(owner)
    vt = list(VULNERABILITY_TYPES)
    base_p = np.array([0.16, 0.20, 0.10, 0.14, 0.07, 0.07, 0.02, 0.05, 0.05, 0.05, 0.03, 0.06])
    vtype = rng.choice(len(vt), k, p=base_p / base_p.sum())
    o_ten = tenure[owner]
    size = hh["household_size"][owner]
    older = o_ten == TENURES.index("older_persons")
    vtype = np.where(older & (rng.random(k) < 0.55), vt.index("age_75_plus"), vtype)
    young = (size >= 3) & ~older & (rng.random(k) < 0.25)
    vtype = np.where(young, vt.index("child_under_5"), vtype)
    # One row per household and type.
    key = owner * 16 + vtype
    _, first = np.unique(key, return_index=True)
    first.sort()
    owner, vtype = owner[first], vtype[first]
    k = len(owner)
    t_start = np.maximum(hh["tenancy_start"][owner], RECORDS_FROM)
    t_last = np.where(hh["tenancy_end"][owner] >= 0, hh["tenancy_end"][owner], cal.end_day - 1)
    span = np.maximum(t_last - t_start, 1)
    recorded = t_start + np.minimum((rng.beta(0.7, 2.0, k) * span).astype(np.int64), span)
    recorded = np.minimum(recorded, cal.end_day - 1)
    adj_given = rng.random(k) < 0.68
    adjustments = np.empty(k, dtype=object)
    pick = rng.random(k)
    for t, name in enumerate(vt):
        mask = vtype == t
        options = ref.REASONABLE_ADJUSTMENTS[name]
        idx = (pick[mask] * len(options)).astype(np.int64)
        adjustments[mask] = np.array(options, dtype=object)[idx]
    adjustments[~adj_given] = None
    review = np.where(rng.random(k) < 0.8, recorded + 365, -1)
    order = np.lexsort((vtype, owner, recorded))
    return {"household": owner[order], "vulnerability_type": vtype[order], "recorded_on": recorded[order],
            "reasonable_adjustment": adjustments[order], "review_due": review[order]}


def vulnerable_from(vuln: Frame, n_households: int) -> np.ndarray:
    """Day each household was first recorded as vulnerable (huge when never)."""
    first = np.full(n_households, np.iinfo(np.int64).max // 4)
    np.minimum.at(first, vuln["household"], vuln["recorded_on"])
    return first


def make_stock(rng: np.random.Generator, cal: Calendar, homes: int, years: float) -> Stock:
    props = make_properties(rng, cal, homes, years)
    hh = make_households(rng, cal, props)
    vuln = make_vulnerabilities(rng, cal, props, hh)
    n = len(props["region"])
    repair_frailty = rng.gamma(2.2, 1 / 2.2, n)
    # Damp-prone homes are partly the same homes that need many repairs.
    damp_latent = 0.55 * np.log(repair_frailty) + rng.normal(0, 0.5, n)
    return Stock(props, hh, vuln, repair_frailty, damp_latent, HouseholdLookup(hh))
