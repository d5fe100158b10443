"""About the data: the extract, its tables, validation findings, and how the figures are made."""

from __future__ import annotations

import polars as pl
import streamlit as st

from housing_assurance import routes
from housing_assurance.app import data
from housing_assurance.app.case_page import fact
from housing_assurance.app.shell import current_user
from housing_assurance.app.state import View, write_url
from housing_assurance.app.tables import as_extracted, downloads, grid
from housing_assurance.kpis import KPIS
from housing_assurance.settings import PROJECT_ROOT
from housing_assurance.targets import targets
from housing_assurance.words import date_text, definition


def about_page(view: View) -> None:
    extract = data.load_extract(view.key)
    st.title("About the data")
    a, b = st.columns(2)
    a.markdown("  \n".join([
        fact("Landlord", extract.landlord),
        fact("Extract folder", extract.path),
        fact("Extracted", extract.extracted_at),
        fact("Contract version", extract.manifest.get("contract_version")),
    ]))
    if extract.manifest_problem:
        a.error(extract.manifest_problem)
    weeks = view.weeks
    b.markdown("  \n".join([
        fact("Weeks available", f"{len(weeks):,}, ending {date_text(weeks[-1])} to {date_text(weeks[0])}"
              if weeks else None),
        fact("Latest complete week", f"ending {date_text(weeks[0])}" if weeks else None),
    ]))
    st.subheader("Tables")
    counts = data.table_counts(view.key).with_columns(
        pl.when(pl.col("usable")).then(pl.lit("✓ Used")).otherwise(pl.lit("✕ Not used")).alias("usable"))
    grid(counts, hide_index=True, key="tables", column_config={
        "table": "Table", "rows": st.column_config.NumberColumn("Rows", format="localized"), "usable": "Status",
        "problem": "Problem"})
    st.subheader("Validation")
    findings = data.findings(view.key)
    if not current_user().role.whole_landlord:  # examples name other teams' records: counts and checks only
        findings = findings.drop("examples", "message")
    errors = findings.filter(pl.col("severity") == "error")
    warnings = findings.filter(pl.col("severity") == "warning")
    st.markdown(f"**{len(errors):,}** error{'s' if len(errors) != 1 else ''} (a table that cannot be used) · "
                f"**{len(warnings):,}** warning{'s' if len(warnings) != 1 else ''} "
                f"({int(warnings['rows'].sum() or 0):,} rows used but doubtful).")
    if findings.is_empty():
        st.success("✓ The extract meets the contract.")
    else:
        shown = findings.select(
            pl.when(pl.col("severity") == "error").then(pl.lit("✕ Error")).otherwise(pl.lit("! Warning"))
            .alias("Severity"), pl.col("table").alias("Table"), pl.col("column").alias("Column"),
            pl.col("check").alias("Check"), pl.col("rows").alias("Rows"),
            *([pl.col("examples").list.join(", ").alias("Examples"), pl.col("message").alias("What is wrong")]
              if "examples" in findings.columns else []))
        grid(shown, hide_index=True, key="findings",
                     column_config={"Rows": st.column_config.NumberColumn(format="localized")})
        downloads(view, findings, "validation_findings", "Validation findings", key="findings",
                  week=as_extracted(view))
    st.subheader("How the figures are made")
    st.markdown(
        "Every figure is defined once in the KPI catalogue and computed from the rows its drill-down lists. "
        "Read more in the project's documentation: `README.md` (the extract contract and how figures are "
        "made), `docs/app.md` (this app), `docs/validation.md` (the checks above).")
    for title, path in (("This app (docs/app.md)", "docs/app.md"), ("Validation (docs/validation.md)",
                                                                     "docs/validation.md")):
        doc = PROJECT_ROOT / path
        if doc.exists():
            with st.expander(title):
                st.markdown(doc.read_text())
    kpi_definitions()
    write_url(view)


def kpi_definitions() -> None:
    """Every KPI in words, a tab per domain: what is counted, the percentage's numerator among them, the
    period, the target and its amber band (words.definition, from the catalogue), and the page it is on."""
    st.subheader("What each figure means")
    goals = targets()
    by_domain: dict[str, list] = {}
    for k in KPIS.values():
        by_domain.setdefault(routes.domain_name(k.id), []).append(k)
    for tab, kpis in zip(st.tabs(list(by_domain)), by_domain.values(), strict=True):
        with tab:
            for k in kpis:
                lines = "  \n".join(definition(k, goals.get(k.id)))
                st.markdown(f"**{k.title}** · `{k.id}` · on {routes.page_of(k.id).title}  \n{lines}")
