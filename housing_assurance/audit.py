"""The audit trail: an append-only log of who opened which case, drill-down list or pack.

One JSON object per line, with time, user, action, scope and target (a case id, KPI id or
file name), and no resident's personal data. Each line carries a hash of the line before it, so
a line removed or rewritten outside the app shows up as a broken chain. The app can only append
and read: no function here truncates, rewrites or deletes.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

from housing_assurance.scope import Scope
from housing_assurance.settings import PROJECT_ROOT

GENESIS = "0" * 64


def audit_file() -> Path:
    return Path(os.environ.get("HOUSING_ASSURANCE_AUDIT", PROJECT_ROOT / "audit" / "audit.jsonl"))


def _hash(previous: str, body: str) -> str:
    return hashlib.sha256((previous + body).encode()).hexdigest()


def record(user: str, action: str, scope: Scope, target: str | None = None, as_of: str | None = None,
           path: Path | None = None) -> None:
    """Append one entry (under a file lock, so concurrent sessions keep the chain intact)."""
    path = path or audit_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
    with os.fdopen(fd, "r+", encoding="utf-8") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.seek(0)
        last = GENESIS
        for line in f:
            if line.strip():
                last = json.loads(line).get("hash", GENESIS)
        entry = {
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
            "user": user,
            "action": action,
            "scope": {"region": scope.region, "teams": list(scope.teams) if scope.teams is not None else None},
            "target": target,
            "as_of": as_of,
        }
        body = json.dumps(entry, sort_keys=True)
        entry["hash"] = _hash(last, body)
        f.write(json.dumps(entry, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())


def read_entries(path: Path | None = None) -> list[dict]:
    """Every entry with `chain_ok`: False from the first line whose hash does not follow."""
    path = path or audit_file()
    if not path.exists():
        return []
    entries, last, intact = [], GENESIS, True
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            intact = False
            entries.append({"chain_ok": False, "raw": line[:200]})
            continue
        stored = entry.pop("hash", "")
        intact = intact and stored == _hash(last, json.dumps(entry, sort_keys=True))
        last = stored
        entries.append({**entry, "chain_ok": intact})
    return entries
