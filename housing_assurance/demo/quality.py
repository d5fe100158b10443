"""Deliberate data-quality problems, at the small rates real extracts show.

Each one is a *warning* in the contract's Validation section (never an
error), so the data-quality page and the validator have something true to
report. docs/demo-data.md lists them; tests check their rates stay small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .calendar import DAY, HOUR, NEVER, is_set

Frame = dict[str, np.ndarray]


@dataclass(frozen=True)
class Problem:
    key: str
    table: str
    rate: float  # share of the eligible rows
    about: str


PROBLEMS = (
    Problem("job_completed_without_time", "repairs", 0.002,
            "status completed but completed_at null (of completed jobs)"),
    Problem("job_completed_before_reported", "repairs", 0.001,
            "completed_at before reported_at (of completed jobs)"),
    Problem("job_orphan_household", "repairs", 0.001,
            "household_id that is not in households (of jobs with a household)"),
    Problem("job_unknown_category", "repairs", 0.0002,
            "category 'Plumbing' typed by hand in a spreadsheet (unknown enum value; of all jobs, at most 20)"),
    Problem("case_closed_without_time", "damp_mould_cases", 0.003,
            "status closed but closed_at null (of closed cases)"),
    Problem("contact_orphan_job", "contacts", 0.0005,
            "job_id that is not in repairs (of contacts with a job)"),
    Problem("complaint_responded_before_received", "complaints", 0.002,
            "stage1_responded_at before received_at (of responded complaints)"),
)
UNKNOWN_CATEGORY = "Plumbing"


def _pick(rng: np.random.Generator, eligible: np.ndarray, rate: float) -> np.ndarray:
    """Rows to spoil: the rate of the eligible rows, at least one when any are eligible."""
    idx = np.flatnonzero(eligible)
    if not len(idx):
        return idx
    k = max(1, round(rate * len(idx)))
    return np.sort(rng.choice(idx, size=min(k, len(idx)), replace=False))


def inject(rng: np.random.Generator, jobs: Frame, cases: Frame, contacts: Frame, complaints: Frame,
           n_households: int, n_categories: int) -> dict[str, int]:
    """Spoil a few rows in place; returns how many rows each problem touched."""
    rate = {p.key: p.rate for p in PROBLEMS}
    counts: dict[str, int] = {}
    completed = jobs["status"] == 1
    rows = _pick(rng, completed, rate["job_completed_without_time"])
    jobs["completed_at"][rows] = NEVER
    counts["job_completed_without_time"] = len(rows)
    rows = _pick(rng, completed & is_set(jobs["completed_at"]), rate["job_completed_before_reported"])
    jobs["completed_at"][rows] = jobs["reported"][rows] - rng.integers(HOUR, 3 * DAY, len(rows))
    counts["job_completed_before_reported"] = len(rows)
    rows = _pick(rng, jobs["household"] >= 0, rate["job_orphan_household"])
    jobs["household"][rows] = n_households + 7 + np.arange(len(rows)) * 13
    counts["job_orphan_household"] = len(rows)
    k = min(max(1, round(rate["job_unknown_category"] * len(completed))), 20)  # a handful
    rows = _pick(rng, jobs["source"] == 2, k / max(int((jobs["source"] == 2).sum()), 1))
    jobs["category"][rows] = n_categories  # one past the last valid category: written as UNKNOWN_CATEGORY
    counts["job_unknown_category"] = len(rows)
    rows = _pick(rng, cases["status"] == 2, rate["case_closed_without_time"])
    cases["closed"][rows] = NEVER
    counts["case_closed_without_time"] = len(rows)
    n_jobs = len(jobs["reported"])
    rows = _pick(rng, contacts["job"] >= 0, rate["contact_orphan_job"])
    contacts["job"][rows] = n_jobs + 11 + np.arange(len(rows)) * 17
    counts["contact_orphan_job"] = len(rows)
    rows = _pick(rng, is_set(complaints["s1_resp"]), rate["complaint_responded_before_received"])
    complaints["s1_resp"][rows] = complaints["received"][rows] - rng.integers(HOUR, 2 * DAY, len(rows))
    counts["complaint_responded_before_received"] = len(rows)
    return counts
