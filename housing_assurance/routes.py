"""The app's pages and the KPI domains, once: the menu, every link, the pack's sections and the
scorecard's headings all read this registry, so a page added here appears everywhere it belongs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Domain:
    """A family of KPIs (the prefix of their ids) and the page that shows them."""

    key: str  # dm, rp, cx, ct, vu, dq
    name: str  # the heading a reader sees
    page: str  # the key of the page that shows its figures and drill-downs


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    file: str  # the page's file, relative to the project
    url_path: str  # "" for the default page
    icon: str
    administrators_only: bool = False


# A page's URL path is its file's name: Streamlit also knows the files in pages/ by their names before the
# app's menu is built, so a pasted link to a path that differs ("damp-and-mould") opens on the overview
# or behind a "Page not found" dialog on a server's first visit.
PAGES: tuple[Page, ...] = (
    Page("overview", "Executive overview", "pages/overview.py", "", ":material/dashboard:"),
    Page("review", "Weekly review", "pages/weekly_review.py", "weekly_review", ":material/fact_check:"),
    Page("dm", "Damp and mould", "pages/damp_mould.py", "damp_mould", ":material/water_drop:"),
    Page("risk", "Homes at risk", "pages/homes_at_risk.py", "homes_at_risk", ":material/warning:"),
    Page("rp", "Repairs", "pages/repairs.py", "repairs", ":material/build:"),
    Page("cx", "Complaints", "pages/complaints.py", "complaints", ":material/forum:"),
    Page("ct", "Contractors", "pages/contractors.py", "contractors", ":material/engineering:"),
    Page("compare", "How we compare", "pages/how_we_compare.py", "how_we_compare", ":material/leaderboard:"),
    Page("vu", "Vulnerability and records", "pages/vulnerability.py", "vulnerability", ":material/diversity_3:"),
    Page("case", "Case", "pages/case.py", "case", ":material/search:"),
    Page("about", "About the data", "pages/about.py", "about", ":material/info:"),
    Page("audit", "Audit trail", "pages/audit.py", "audit", ":material/policy:", administrators_only=True),
)
PAGE: dict[str, Page] = {p.key: p for p in PAGES}

DOMAINS: dict[str, Domain] = {d.key: d for d in (
    Domain("dm", "Damp and mould", "dm"),
    Domain("rp", "Repairs", "rp"),
    Domain("cx", "Complaints", "cx"),
    Domain("ct", "Contractors", "ct"),
    Domain("vu", "Vulnerability and records", "vu"),
    Domain("dq", "Vulnerability and records", "vu"),  # record keeping sits beside vulnerability
)}


def domain_of(kpi_id: str) -> Domain:
    return DOMAINS[kpi_id.split(".")[0]]


def domain_name(kpi_id: str) -> str:
    return domain_of(kpi_id).name


def page_of(kpi_id: str) -> Page:
    """The page whose drill-downs list the cases behind a KPI."""
    return PAGE[domain_of(kpi_id).page]


def sections() -> list[tuple[str, str]]:
    """The domain pages in menu order, as (page key, name): the pack's sections and the overview's groups."""
    keys = list(dict.fromkeys(d.page for d in DOMAINS.values()))
    return [(k, PAGE[k].title) for k in keys]


def href(page_key: str) -> str:
    """A page's address relative to the app's root (for links in tables and e-mails)."""
    return PAGE[page_key].url_path or "."
