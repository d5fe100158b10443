"""The audit trail page (administrators only): the append-only log, newest first, its chain checked."""

from __future__ import annotations

import polars as pl
import streamlit as st

from housing_assurance import audit
from housing_assurance.app.shell import current_user
from housing_assurance.app.state import View


def audit_page(view: View) -> None:
    """The append-only audit trail, read-only, newest first, with the hash chain checked."""
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
        st.error(f"The audit file has been altered outside the app: {len(broken):,} entries from the first "
                 "break onwards cannot be trusted.")
    else:
        st.success(f"{len(entries):,} entries; the chain of hashes is intact (no entry removed or changed).",
                   icon=":material/verified:")
    frame = pl.DataFrame([{
        "At (UTC)": e.get("at"), "User": e.get("user"), "Action": e.get("action"), "What": e.get("target"),
        "Week ending": e.get("as_of"),
        "Scope": ", ".join(filter(None, [(e.get("scope") or {}).get("region")] +
                                  ((e.get("scope") or {}).get("teams") or []))) or "Whole landlord",
        "Chain intact": e.get("chain_ok"),
    } for e in reversed(entries)])
    st.dataframe(frame, hide_index=True, width="stretch")
