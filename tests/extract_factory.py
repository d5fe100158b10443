"""Hand-made extracts for tests: a handful of rows, every other column filled with a harmless default.

A test names only the columns its rule cares about; the factory fills the rest so
that the row is valid under the contract and belongs to the test's one home,
household, team and contractor unless the test says otherwise.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from housing_assurance.contract import TABLES

ARROW_TYPES = {
    "string": pa.string(), "enum": pa.string(), "int": pa.int64(), "double": pa.float64(),
    "bool": pa.bool_(), "date": pa.date32(), "timestamp": pa.timestamp("us"),
}

# Defaults for required columns; nullable columns default to null.
DEFAULTS: dict[str, dict] = {
    "properties": {"address": "1 Test Street", "postcode": "AB1 2CD", "region": "North", "area": "Northtown",
                   "property_type": "house", "tenure": "general_needs"},
    "households": {"property_id": "P1", "tenancy_start": date(2020, 1, 1)},
    "vulnerabilities": {"household_id": "H1", "vulnerability_type": "mental_health",
                        "recorded_on": date(2020, 1, 1)},
    "teams": {"team_name": "Test team", "region": "North", "function": "repairs",
              "manager_email": "manager@example.org"},
    "contractors": {"contractor_name": "In-house", "is_in_house": True},
    "repairs": {"property_id": "P1", "reported_at": datetime(2026, 1, 5, 9), "priority": "routine",
                "target_at": datetime(2026, 2, 2, 9), "category": "plumbing", "contractor_id": "C1",
                "team_id": "T1", "status": "open", "source_system": "hms"},
    "appointments": {"job_id": "J1", "slot_start": datetime(2026, 1, 6, 9), "outcome": "attended"},
    "contacts": {"property_id": "P1", "contacted_at": datetime(2026, 1, 6, 9), "channel": "phone",
                 "reason": "enquiry"},
    "damp_mould_cases": {"property_id": "P1", "reported_at": datetime(2026, 1, 5, 9), "source": "resident",
                         "status": "open", "team_id": "T1"},
    "complaints": {"received_at": datetime(2026, 1, 5, 9), "category": "repairs", "team_id": "T1"},
    "surveys": {"responded_at": datetime(2026, 1, 6, 9), "satisfied": True},
}

# Every extract gets one home, one household, one team and the in-house workforce unless overridden.
BASE_ROWS = {
    "properties": [{"property_id": "P1"}],
    "households": [{"household_id": "H1"}],
    "teams": [{"team_id": "T1"}],
    "contractors": [{"contractor_id": "C1"}],
}


def table(name: str, rows: list[dict]) -> pa.Table:
    """An arrow table with exactly the contract's columns, defaults filled in."""
    spec = TABLES[name]
    filled = [{**DEFAULTS[name], **row} for row in rows]
    arrays = {}
    for col in spec.columns:
        values = [r.get(col.name) for r in filled]
        if col.name == spec.primary_key:
            values = [v if v is not None else f"{name[:2].upper()}{i + 1}" for i, v in enumerate(values)]
        arrays[col.name] = pa.array(values, ARROW_TYPES[col.type])
    return pa.table(arrays)


def write_extract(folder: Path, extracted_at: str = "2026-11-23T06:00:00", **tables: list[dict]) -> Path:
    """Write a contract extract: every table (empty unless given), the base rows where not given."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_text(json.dumps(
        {"contract_version": 1, "landlord": "Test Homes", "extracted_at": extracted_at}))
    for name in TABLES:
        rows = tables.get(name, BASE_ROWS.get(name, []))
        pq.write_table(table(name, rows), folder / f"{name}.parquet")
    return folder
