"""The audit trail page (administrators only): the append-only log, newest first, its chain checked."""

from __future__ import annotations

import polars as pl
import streamlit as st

from housing_assurance import audit
from housing_assurance.app.markup import MESSAGE, plain
from housing_assurance.app.shell import current_user
from housing_assurance.app.state import View


def _audit_row(e: dict) -> dict:
    """One entry as a table row, every cell text: an entry edited outside the app may hold anything."""
    def text(value) -> str | None:
        return None if value is None else str(value)

    scope = e.get("scope") if isinstance(e.get("scope"), dict) else None
    teams = scope.get("teams") if scope is not None and isinstance(scope.get("teams"), list) else []
    scope_words = None if scope is None else ", ".join(filter(None, map(text, [scope.get("region"), *teams])))
    return {
        "At (UTC)": text(e.get("at")), "Who": text(e.get("actor")), "On behalf of": text(e.get("on_behalf_of")),
        "Action": text(e.get("action")), "What": text(e.get("target", e.get("raw"))),
        "Week ending": text(e.get("as_of")),
        "Scope": scope_words or ("Whole landlord" if scope is not None else None),
        "Chain intact": e["chain_ok"],
    }


def audit_page(view: View) -> None:
    """The append-only audit trail, read-only, newest first, with the keyed chain checked."""
    if not current_user().role.reads_audit:
        st.warning("Only administrators can read the audit trail.")
        return
    st.title("Audit trail")
    entries = audit.read_entries()
    if not entries:
        st.info("Nothing has been recorded yet.")
        return
    broken = [e for e in entries if not e.get("chain_ok")]
    if broken:
        problem = next(e["problem"] for e in entries if "problem" in e)
        st.error(f"The audit file has been altered outside the app ({plain(problem, MESSAGE)}): "
                 f"{len(broken):,} entries from there onwards cannot be trusted. See docs/audit.md.")
    else:
        st.success(f"{len(entries):,} entries; the keyed chain is intact (no entry removed, moved or changed).",
                   icon=":material/verified:")
    frame = pl.DataFrame([_audit_row(e) for e in reversed(entries)])
    st.dataframe(frame, hide_index=True, width="stretch")
