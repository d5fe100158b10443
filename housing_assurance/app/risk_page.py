"""Homes at risk of damp and mould: the explainable list for the scope, reasons in full, then how it did before.

Scores, reasons and the back-test come from housing_assurance.risk through the app's caches, keyed by
the week and the scope.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import streamlit as st

from housing_assurance import risk
from housing_assurance.app import data
from housing_assurance.app.markup import MESSAGE, plain
from housing_assurance.app.shell import header
from housing_assurance.app.state import View, page_param, refuse, write_url
from housing_assurance.app.tables import CASE_URL_PATH, downloads
from housing_assurance.words import date_text

SHOW_CHOICES = (50, 100, 250, 500)
# Rows tall enough for three lines: st.dataframe wraps a cell's text only in rows taller than 4rem.
REASONS_ROW = 72
WHY_WIDTH = 520  # pixels: a home's three reasons in two or three lines, its case link still in view at 1440 px


def why_text(reasons: pl.Expr) -> pl.Expr:
    """A home's reasons in one cell, each starting with a capital: 'Property type other · 4 plumbing …'."""
    return reasons.list.eval(pl.element().str.slice(0, 1).str.to_uppercase() + pl.element().str.slice(1)) \
        .list.join(" · ")


def risk_page(view: View) -> None:
    header("Homes at risk of damp and mould", view,
              f"Which homes are most likely to report damp or mould in the 13 weeks after "
              f"{date_text(view.as_of)}, learned only from what the records showed on that date, with each "
              "home's three strongest reasons. Homes with no damp and mould case open come first; homes with a case "
              "already open follow them.", scorecard=False)

    asked = page_param("show")
    show = int(asked) if asked and asked.isdigit() and int(asked) in SHOW_CHOICES else 100
    if asked is not None and str(show) != asked:
        refuse("The number of homes", asked, f"is not one of {', '.join(map(str, SHOW_CHOICES))}; showing 100.")

    try:
        with st.spinner("Learning from the year before this week and scoring every home…"):
            homes = data.homes_at_risk(view.key, view.as_of, *view.scope_args, view.allowed.teams)
    except risk.RiskError as exc:
        st.warning(plain(str(exc).capitalize(), MESSAGE))
        homes = None
    if homes is not None and homes.is_empty():
        st.info("No homes in stock in this scope.")
    elif homes is not None:
        show = st.selectbox("Homes shown", SHOW_CHOICES, index=SHOW_CHOICES.index(show),
                            format_func=lambda n: f"First {n}", width=240)
        said = risk.summarise(homes)
        st.markdown(f"**{said.homes:,} homes** in scope; **{said.top_share_without_case:,}** without an open case "
                    f"are in the landlord's top 5% by risk; {said.with_open_case:,} already have a damp and mould "
                    "case open.")
        top = homes.head(show)
        shown = top.select(
            pl.col("rank").alias("Rank"),
            pl.col("property_id").alias("Home"),
            (100 * pl.col("score")).alias("Chance"),
            (pl.col("band").str.slice(0, 1).str.to_uppercase() + pl.col("band").str.slice(1)).alias("Band"),
            why_text(pl.col("reasons")).alias("Why"),
            pl.Series("History", [view.url(CASE_URL_PATH, case=c, kind="dm") if c else None
                                  for c in top["latest_case_id"].to_list()], dtype=pl.String),
            pl.col("has_open_dm_case").alias("Case open"),
            pl.col("area").alias("Area"),
            pl.col("property_type").str.to_titlecase().alias("Type"),
        )
        st.dataframe(shown, hide_index=True, width="stretch", height=min(38 + REASONS_ROW * len(shown), 720),
                     row_height=REASONS_ROW, placeholder="—", column_config={
                         "Chance": st.column_config.NumberColumn(
                             "Chance of a report", format="%.1f%%",
                             help="The model's chance of a damp and mould report at this home in the next "
                              "13 weeks"),
                         "Why": st.column_config.TextColumn(
                             "Why (strongest reason first)", width=WHY_WIDTH,
                             help="The factors that raise the home's chance most above an average home"),
                         "Band": st.column_config.TextColumn(
                             help="Very high: the landlord's top 1% of homes; high: top 5%; raised: top 20%"),
                         "History": st.column_config.LinkColumn(
                             "Latest case", display_text=r"case=([^&]*)",
                             help="Opens the home's latest damp and mould case and its history; "
                                  "— where the home has never reported damp or mould"),
                         "Case open": st.column_config.CheckboxColumn(),
                     })
        downloads(view, top.drop("as_of"), f"homes_at_risk_{view.as_of}", "Homes at risk of damp and mould",
                  key="homes_at_risk")
        st.caption("Reasons are the factors that raise the home's chance most above an average home, in the "
                   "records as they stood on the date. A home low on the list may have fewer than three.")

    st.subheader("Has the list worked before?")
    try:
        with st.spinner("Replaying the list at six past dates…"):
            result = data.risk_backtest(view.key, view.as_of, *view.scope_args)
    except risk.RiskError as exc:
        st.info(str(exc).capitalize())
        result = None
    if result is not None:
        for line in risk.describe_backtest(result):
            st.markdown(f"- {line}")
        per_date = result.dates.select(
            pl.col("as_of").map_elements(date_text, return_dtype=pl.String).alias("List of"),
            pl.col("homes_with_report").alias("Homes that reported"),
            pl.col("capture_top5_pct").alias("Share in top 5%"),
            pl.col("precision_top100_pct").alias("Top 100 that reported"),
            pl.col("roc_auc").alias("Ranking (AUC)"),
        )
        st.dataframe(per_date, hide_index=True, width="stretch", placeholder="—", column_config={
            "Homes that reported": st.column_config.NumberColumn(format="localized"),
            "Share in top 5%": st.column_config.NumberColumn(format="%.0f%%"),
            "Top 100 that reported": st.column_config.NumberColumn(format="%.0f%%"),
            "Ranking (AUC)": st.column_config.NumberColumn(format="%.2f"),
        })
        last = result.dates["as_of"].max()
        st.caption(f"Each past list was made from the records as they stood on its date, and judged on the reports "
                   f"of the 13 weeks that followed (the latest up to {date_text(last + timedelta(days=91))}).")
    with st.expander("How the list is made, and its limits"):
        st.markdown(
            "- A logistic regression learns, from the homes at 13 dates over the year before, which records came "
            "before a damp and mould report: earlier reports and how recent, leak, roof, plumbing and heating "
            "repairs, repeat repairs, the home's type, age and EPC rating, crowding, a vulnerable household, "
            "residents' contacts, and the time of year.\n"
            "- It ranks homes; it does not know about homes whose damp is never reported, and it cannot see "
            "what the records do not hold (ventilation, heating use, a recent refurbishment).\n"
            "- Property details and household size are taken as they stand in today's extract.\n"
            "- Use it to choose where to look first, alongside officers' knowledge, never to decide who gets help.")

    write_url(view, show=str(show) if show != 100 else None)
