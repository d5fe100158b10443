"""How figures are written for people: UK dates, £, one decimal place, "—" for no data."""

from __future__ import annotations

from datetime import date, datetime

from housing_assurance.kpis import Kpi

NO_DATA = "—"


def format_kpi_value(k: Kpi, value: float | None) -> str:
    if value is None:
        return NO_DATA
    if k.kind == "pct":
        return f"{value:.1f}%"
    if k.kind == "sum_gbp":
        return f"£{value:,.2f}"
    if k.kind in ("count", "sum"):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def format_date(value: date | datetime | None) -> str:
    """23 Nov 2026 (dates) or 23 Nov 2026 14:05 (times)."""
    if value is None:
        return NO_DATA
    if isinstance(value, datetime):
        return value.strftime("%-d %b %Y %H:%M")
    return value.strftime("%-d %b %Y")
