"""Runs the simulation stages in order and turns the result into contract tables.

Each stage draws from its own random stream (seed, stage number), so the
output depends only on the arguments. Internally rows point at each other by
integer position; ids are formatted once, here, in the order rows are written
(so job J00000001 is the first job reported).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from housing_assurance.contract import (
    APPOINTMENT_OUTCOMES,
    CHANNELS,
    COMPLAINT_CATEGORIES,
    COMPLAINT_OUTCOMES,
    CONTACT_REASONS,
    DM_SOURCES,
    DM_STATUSES,
    EPC_RATINGS,
    HAZARD_LEVELS,
    JOB_STATUSES,
    OMBUDSMAN_OUTCOMES,
    PRIORITIES,
    PROPERTY_TYPES,
    REPAIR_CATEGORIES,
    ROOT_CAUSES,
    SOURCE_SYSTEMS,
    TABLES,
    TENURES,
    VULNERABILITY_TYPES,
)
from housing_assurance.db import EARLIEST_EXTRACTED_AT

from . import complaints as cx
from . import damp, engagement, quality, repairs
from . import reference as ref
from .calendar import Calendar, day_number, is_set, to_date
from .stock import make_stock

Frame = dict[str, np.ndarray]
Progress = Callable[[str, float], None]
ARROW_TYPES = {
    "string": pa.string(), "enum": pa.string(), "int": pa.int64(), "double": pa.float64(),
    "bool": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us"),
}


def window_start(end: date, years: int) -> date:
    try:
        return end.replace(year=end.year - years)
    except ValueError:  # 29 February
        return end.replace(year=end.year - years, day=28)


# ---------------------------------------------------------------- arrow helpers

def ids(prefix: str, idx: np.ndarray, width: int) -> pa.Array:
    """Formatted ids ("J00001234"); a negative index is null."""
    idx = np.asarray(idx, dtype=np.int64)
    digits = pc.utf8_lpad(pc.cast(pa.array(idx, mask=idx < 0), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def timestamps(t: np.ndarray) -> pa.Array:
    ok = is_set(t)
    return pa.array(np.where(ok, t, 0) * 1_000_000, type=pa.timestamp("us"), mask=~ok)


def dates(d: np.ndarray) -> pa.Array:
    ok = (d >= -1_000_000) & (d != -1) & (d < 10_000_000)
    return pa.array(np.where(ok, d, 0).astype(np.int32), type=pa.date32(), mask=~ok)


def enums(codes: np.ndarray, names: tuple[str, ...]) -> pa.Array:
    codes = np.asarray(codes, dtype=np.int64)
    return pa.array(list(names), pa.string()).take(pa.array(codes, mask=codes < 0))


def ints(v: np.ndarray, known: np.ndarray | None = None) -> pa.Array:
    mask = ~known if known is not None else None
    return pa.array(np.asarray(v, dtype=np.int64), pa.int64(), mask=mask)


def bools(v: np.ndarray) -> pa.Array:
    """1 = true, 0 = false, -1 = null."""
    v = np.asarray(v)
    return pa.array(v == 1, pa.bool_(), mask=v < 0)


def strings(values: np.ndarray | list) -> pa.Array:
    return pa.array(list(values), pa.string())


def floats(v: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(v, dtype=np.float64), pa.float64(), from_pandas=True)


def table(name: str, columns: dict[str, pa.Array]) -> pa.Table:
    """A table with exactly the contract's columns, in its order and types."""
    spec = TABLES[name]
    assert list(columns) == spec.column_names, (name, list(columns))
    fields = [pa.field(c.name, ARROW_TYPES[c.type]) for c in spec.columns]
    arrays = [columns[c.name].cast(ARROW_TYPES[c.type]) for c in spec.columns]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def width(default: int, n: int) -> int:
    return max(default, len(str(n + 100)))


def _concat(frames: list[Frame]) -> Frame:
    keys = frames[0].keys()
    return {k: np.concatenate([f[k] for f in frames]) for k in keys}


def _rank(order: np.ndarray) -> np.ndarray:
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return rank


def _remap(ref_idx: np.ndarray, rank: np.ndarray) -> np.ndarray:
    return np.where(ref_idx >= 0, rank[np.maximum(ref_idx, 0)], -1)


# ---------------------------------------------------------------- the pipeline

def build(homes: int, years: int, seed: int, end: date, progress: Progress) -> dict[str, pa.Table]:
    """Simulate the landlord and return the eleven contract tables."""
    if homes < 50:
        raise ValueError("homes must be at least 50")
    if years < 1:
        raise ValueError("years must be at least 1")
    if seed < 0:
        raise ValueError("seed must be zero or a positive whole number")
    if end < EARLIEST_EXTRACTED_AT.date():  # its manifest would be refused as impossible
        raise ValueError(f"the demo's last day (--end) must be {EARLIEST_EXTRACTED_AT.date().isoformat()} or later, "
                         f"not {end.isoformat()}")

    def rng(stage: int) -> np.random.Generator:
        return np.random.default_rng([seed, stage])

    cal = Calendar(window_start(end, years), end)
    progress("homes and households", 0.02)
    stock = make_stock(rng(1), cal, homes, years)
    switch = _contract_switch(cal)

    progress("repairs", 0.06)
    jobs0 = repairs.base_jobs(rng(2), cal, stock)
    _staff(rng(3), cal, stock, jobs0, switch, "repairs")
    jobs0 = repairs.lifecycle(rng(4), cal, stock, jobs0)

    progress("damp and mould", 0.18)
    cases = damp.make_cases(rng(5), cal, stock, jobs0)
    dm_jobs = damp.case_jobs(rng(6), cal, stock, cases)
    _staff(rng(7), cal, stock, dm_jobs, switch, None)
    dm_jobs = repairs.lifecycle(rng(8), cal, stock, dm_jobs)
    base = _concat([jobs0, {k: dm_jobs[k] for k in jobs0}])
    del jobs0, dm_jobs

    progress("follow-on jobs and appointments", 0.25)
    derived, chases = repairs.derived_jobs(rng(9), cal, stock, base)
    _staff(rng(10), cal, stock, derived, switch, None)
    derived = repairs.lifecycle(rng(11), cal, stock, derived)
    jobs = _concat([base, {k: derived[k] for k in base}])
    del base, derived
    # Job numbers follow the order jobs were reported.
    order = np.argsort(jobs["reported"], kind="stable")
    rank = _rank(order)
    jobs = {k: v[order] for k, v in jobs.items()}
    jobs["parent"] = _remap(jobs["parent"], rank)
    chases["job"] = rank[chases["job"]]
    appts = repairs.appointments(rng(12), cal, jobs)

    progress("complaints", 0.33)
    complaints = cx.make_complaints(rng(13), cal, stock, jobs, cases)
    progress("contacts and surveys", 0.36)
    contacts = engagement.make_contacts(rng(14), cal, stock, jobs, chases, cases, complaints)
    surveys = engagement.make_surveys(rng(15), cal, jobs, complaints)
    quality.inject(rng(16), jobs, cases, contacts, complaints, len(stock.households["property"]),
                   len(REPAIR_CATEGORIES))

    return _tables(cal, stock, jobs, appts, cases, complaints, contacts, surveys, switch, progress)


def _contract_switch(cal: Calendar) -> int:
    """The 1 April nearest the middle of the window: the general contract changes hands."""
    mid = (cal.start_day + cal.end_day) // 2
    options = [day_number(date(y, 4, 1)) for y in range(cal.start.year, cal.end.year + 1)]
    inside = [d for d in options if cal.start_day < d < cal.end_day] or [mid]
    return min(inside, key=lambda d: abs(d - mid))


def _staff(rng: np.random.Generator, cal: Calendar, stock, jobs: Frame, switch: int, function: str | None) -> None:
    """Contractor and owning team for each job (in place)."""
    jobs["contractor"] = repairs.assign_contractors(rng, cal, stock, jobs, switch)
    if function is not None:
        jobs["team"] = np.array(ref.team_index(function))[stock.properties["region"][jobs["prop"]]]


def _tables(cal: Calendar, stock, jobs: Frame, appts: Frame, cases: Frame, complaints: Frame,
            contacts: Frame, surveys: Frame, switch: int, progress: Progress) -> dict[str, pa.Table]:
    p = stock.properties
    hh = stock.households
    vu = stock.vulnerabilities
    n_p, n_h = len(p["region"]), len(hh["property"])
    wp, wh, wj, wc, wx = width(6, n_p), width(7, n_h), width(8, len(jobs["prop"])), width(6, len(cases["prop"])), \
        width(6, len(complaints["prop"]))
    team_list = ref.teams()
    team_ids = tuple(t.team_id for t in team_list)
    con_ids = tuple(c.contractor_id for c in ref.CONTRACTORS)
    out: dict[str, pa.Table] = {}

    progress("building properties", 0.450)
    out["properties"] = table("properties", {
        "property_id": ids("P", np.arange(n_p), wp),
        "uprn": pa.array(p["uprn"].astype(str).tolist(), pa.string(), mask=~p["uprn_known"]),
        "address": strings(p["address"]),
        "postcode": strings(p["postcode"]),
        "region": enums(p["region"], ref.REGIONS),
        "area": enums(p["area"], tuple(p["area_names"])),
        "property_type": enums(p["property_type"], PROPERTY_TYPES),
        "tenure": enums(p["tenure"], TENURES),
        "build_year": ints(p["build_year"], p["build_year_known"]),
        "epc_rating": enums(np.where(p["epc_known"], p["epc"], -1), EPC_RATINGS),
        "bedrooms": ints(p["bedrooms"], p["bedrooms_known"]),
        "in_stock_from": dates(p["in_stock_from"]),
        "in_stock_to": dates(p["in_stock_to"]),
    })
    progress("building households", 0.477)
    out["households"] = table("households", {
        "household_id": ids("H", np.arange(n_h), wh),
        "property_id": ids("P", hh["property"], wp),
        "tenancy_start": pa.array(hh["tenancy_start"].astype(np.int32), pa.date32()),
        "tenancy_end": dates(hh["tenancy_end"]),
        "household_size": ints(hh["household_size"], hh["size_known"]),
        "census_completed_on": dates(hh["census"]),
    })
    progress("building vulnerabilities", 0.505)
    out["vulnerabilities"] = table("vulnerabilities", {
        "vulnerability_id": ids("V", np.arange(len(vu["household"])), wh),
        "household_id": ids("H", vu["household"], wh),
        "vulnerability_type": enums(vu["vulnerability_type"], VULNERABILITY_TYPES),
        "recorded_on": pa.array(vu["recorded_on"].astype(np.int32), pa.date32()),
        "reasonable_adjustment": strings(vu["reasonable_adjustment"]),
        "review_due": dates(vu["review_due"]),
    })
    progress("building teams", 0.532)
    out["teams"] = table("teams", {
        "team_id": strings([t.team_id for t in team_list]),
        "team_name": strings([t.team_name for t in team_list]),
        "region": strings([t.region for t in team_list]),
        "function": strings([t.function for t in team_list]),
        "manager_email": strings([t.manager_email for t in team_list]),
    })
    progress("building contractors", 0.559)
    out["contractors"] = _contractors(cal, switch)

    category_names = REPAIR_CATEGORIES + (quality.UNKNOWN_CATEGORY,)
    progress("building repairs", 0.586)
    out["repairs"] = table("repairs", {
        "job_id": ids("J", np.arange(len(jobs["prop"])), wj),
        "property_id": ids("P", jobs["prop"], wp),
        "household_id": ids("H", jobs["household"], wh),
        "dm_case_id": ids("DM", jobs["dm_case"], wc),
        "parent_job_id": ids("J", jobs["parent"], wj),
        "reported_at": timestamps(jobs["reported"]),
        "priority": enums(jobs["priority"], PRIORITIES),
        "target_at": timestamps(jobs["target"]),
        "category": enums(jobs["category"], category_names),
        "contractor_id": enums(jobs["contractor"], con_ids),
        "team_id": enums(jobs["team"], team_ids),
        "status": enums(jobs["status"], JOB_STATUSES),
        "completed_at": timestamps(jobs["completed_at"]),
        "cancelled_at": timestamps(jobs["cancelled_at"]),
        "completion_verified": bools(jobs["verified"]),
        "source_system": enums(jobs["source"], SOURCE_SYSTEMS),
        "cost_gbp": floats(jobs["cost"]),
    })
    order = np.lexsort((appts["slot"], appts["job"]))
    progress("building appointments", 0.614)
    out["appointments"] = table("appointments", {
        "appointment_id": ids("A", np.arange(len(order)), wj),
        "job_id": ids("J", appts["job"][order], wj),
        "slot_start": timestamps(appts["slot"][order]),
        "outcome": enums(appts["outcome"][order], APPOINTMENT_OUTCOMES),
    })
    progress("building contacts", 0.641)
    out["contacts"] = table("contacts", {
        "contact_id": ids("C", np.arange(len(contacts["prop"])), wj),
        "property_id": ids("P", contacts["prop"], wp),
        "household_id": ids("H", contacts["household"], wh),
        "contacted_at": timestamps(contacts["at"]),
        "channel": enums(contacts["channel"], CHANNELS),
        "reason": enums(contacts["reason"], CONTACT_REASONS),
        "job_id": ids("J", contacts["job"], wj),
        "dm_case_id": ids("DM", contacts["case"], wc),
        "complaint_id": ids("CMP", contacts["complaint"], wx),
    })
    progress("building damp_mould_cases", 0.668)
    out["damp_mould_cases"] = table("damp_mould_cases", {
        "case_id": ids("DM", np.arange(len(cases["prop"])), wc),
        "property_id": ids("P", cases["prop"], wp),
        "household_id": ids("H", cases["household"], wh),
        "reported_at": timestamps(cases["reported"]),
        "source": enums(cases["source"], DM_SOURCES),
        "hazard_level": enums(cases["hazard_out"], HAZARD_LEVELS),
        "severity_category": ints(cases["severity_out"], cases["severity_out"] >= 0),
        "investigation_completed_at": timestamps(cases["inv"]),
        "summary_sent_at": timestamps(cases["summary"]),
        "safety_work_started_at": timestamps(cases["safety_start"]),
        "safety_work_completed_at": timestamps(cases["safety_done"]),
        "further_work_required": bools(cases["further_out"]),
        "further_work_started_at": timestamps(cases["further_start"]),
        "resolved_at": timestamps(cases["resolved"]),
        "closed_at": timestamps(cases["closed"]),
        "status": enums(cases["status"], DM_STATUSES),
        "root_cause": enums(cases["root_out"], ROOT_CAUSES),
        "team_id": enums(cases["team"], team_ids),
        "reopened_from_case_id": ids("DM", cases["from_case"], wc),
    })
    c = complaints
    progress("building complaints", 0.695)
    out["complaints"] = table("complaints", {
        "complaint_id": ids("CMP", np.arange(len(c["prop"])), wx),
        "household_id": ids("H", c["household"], wh),
        "property_id": ids("P", c["prop_out"], wp),
        "received_at": timestamps(c["received"]),
        "category": enums(c["category"], COMPLAINT_CATEGORIES),
        "team_id": enums(c["team"], team_ids),
        "stage1_acknowledged_at": timestamps(c["s1_ack"]),
        "stage1_responded_at": timestamps(c["s1_resp"]),
        "stage1_extended_to": dates(c["s1_ext"]),
        "stage2_requested_at": timestamps(c["s2_req"]),
        "stage2_acknowledged_at": timestamps(c["s2_ack"]),
        "stage2_responded_at": timestamps(c["s2_resp"]),
        "stage2_extended_to": dates(c["s2_ext"]),
        "outcome": enums(c["outcome"], COMPLAINT_OUTCOMES),
        "compensation_offered_gbp": floats(c["comp_offered"]),
        "compensation_paid_gbp": floats(c["comp_paid"]),
        "ombudsman_referred_at": dates(c["omb_ref"]),
        "ombudsman_determined_at": dates(c["omb_det"]),
        "ombudsman_outcome": enums(c["omb_outcome"], OMBUDSMAN_OUTCOMES),
        "learning_action": strings(c["learning"]),
    })
    s = surveys
    progress("building surveys", 0.723)
    out["surveys"] = table("surveys", {
        "survey_id": ids("S", np.arange(len(s["at"])), wj),
        "job_id": ids("J", s["job"], wj),
        "complaint_id": ids("CMP", s["complaint"], wx),
        "responded_at": timestamps(s["at"]),
        "satisfied": bools(s["satisfied"].astype(np.int64)),
        "score": ints(s["score"], s["score"] > 0),
    })
    return out


def _contractors(cal: Calendar, switch: int) -> pa.Table:
    y = cal.start.year
    starts = {"CON-101": date(y - 3, 4, 1), "CON-102": date(y - 2, 7, 1), "CON-103": date(y - 4, 4, 1),
              "CON-104": date(y - 1, 10, 1), "CON-105": date(y - 6, 4, 1), "CON-106": to_date(switch)}
    ends = {"CON-105": to_date(switch - 1)}
    cs = ref.CONTRACTORS
    start_days = np.array([day_number(starts[c.contractor_id]) if c.contractor_id in starts else -1 for c in cs])
    end_days = np.array([day_number(ends[c.contractor_id]) if c.contractor_id in ends else -1 for c in cs])
    return table("contractors", {
        "contractor_id": strings([c.contractor_id for c in cs]),
        "contractor_name": strings([c.contractor_name for c in cs]),
        "is_in_house": pa.array([c.is_in_house for c in cs], pa.bool_()),
        "trades": strings([c.trades for c in cs]),
        "contract_start": dates(start_days),
        "contract_end": dates(end_days),
    })
