"""The demo landlord's fixed cast: regions, areas, teams, contractors and wording.

All names are invented. E-mail addresses use example.org, postcodes use the
unassigned "BV" postcode area, so nothing here points at a real organisation
or person. The performance figures on teams and contractors are the levers
that make the dashboard tell a story (one poor contractor, teams that differ).
"""

from __future__ import annotations

from dataclasses import dataclass

LANDLORD = "Brookmere Housing (demo)"

REGIONS = ("North", "Central", "South", "East")
REGION_WEIGHTS = (0.28, 0.30, 0.22, 0.20)
AREAS: dict[str, tuple[str, ...]] = {
    "North": ("Ashby Moor", "Kelsall Green", "Ridgeway", "Hollins End", "Wharfside"),
    "Central": ("Brookmere Town Centre", "Millfield", "St Anne's", "Canal Quarter", "Parkside"),
    "South": ("Oakhurst", "Fernlea", "Lowther Park", "Chalk Hill"),
    "East": ("Marshfield", "Eastgate", "Fenby", "Saltings", "Copper Lane"),
}

STREET_STEMS = (
    "Acacia", "Alder", "Ash", "Beech", "Birch", "Bramble", "Cedar", "Chestnut", "Clover",
    "Elm", "Fern", "Foxglove", "Hawthorn", "Hazel", "Heather", "Holly", "Juniper", "Laurel",
    "Linden", "Maple", "Mulberry", "Oak", "Orchard", "Poplar", "Rowan", "Sycamore", "Willow",
    "Yew", "Station", "Church", "Mill", "Park", "Victoria", "Albert", "Queens", "Kings",
    "Meadow", "Brook", "Canal", "Bridge", "School", "Chapel", "Market", "Spring", "Well",
)
STREET_KINDS = ("Road", "Street", "Close", "Avenue", "Gardens", "Way", "Lane", "Crescent",
                "Grove", "Drive", "Place", "Terrace")
BLOCK_KINDS = ("House", "Court", "Tower", "Lodge", "Point")
POSTCODE_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # inward-code letters (no C, I, K, M, O, V)

# Team functions each region has, with the mailbox stem of its manager.
TEAM_FUNCTIONS_BY_REGION = (
    ("repairs", "repairs", "Repairs"),
    ("damp_mould", "dampmould", "Damp and Mould"),
    ("complaints", "complaints", "Complaints"),
    ("housing_management", "housing", "Housing Management"),
)


@dataclass(frozen=True)
class Team:
    team_id: str
    team_name: str
    region: str
    function: str
    manager_email: str
    # Probability of meeting a clock (damp and mould, complaints) or target (repairs).
    quality: float = 0.9
    offline_rate: float = 0.015  # share of its jobs kept in a spreadsheet


# How well each region's teams keep to their clocks: the differences are deliberate.
_QUALITY = {
    ("repairs", "North"): 0.95, ("repairs", "Central"): 0.92, ("repairs", "South"): 0.86,
    ("repairs", "East"): 0.90,
    ("damp_mould", "North"): 0.95, ("damp_mould", "Central"): 0.90, ("damp_mould", "South"): 0.84,
    ("damp_mould", "East"): 0.91,
    ("complaints", "North"): 0.92, ("complaints", "Central"): 0.88, ("complaints", "South"): 0.85,
    ("complaints", "East"): 0.80,
    ("housing_management", "North"): 0.88, ("housing_management", "Central"): 0.86,
    ("housing_management", "South"): 0.82, ("housing_management", "East"): 0.78,
}
_OFFLINE = {"East": 0.06, "South": 0.03}  # East's repairs team still keeps job sheets offline


def teams() -> tuple[Team, ...]:
    out: list[Team] = []
    for region in REGIONS:
        key = region.lower()
        for function, mailbox, label in TEAM_FUNCTIONS_BY_REGION:
            email = f"{mailbox}.{key}@example.org"
            if function == "housing_management" and region in ("South", "East"):
                email = "housing.southeast@example.org"  # one manager covers two patches
            out.append(Team(
                team_id=f"{function.replace('_', '-')}-{key}",
                team_name=f"{label} {region}",
                region=region,
                function=function,
                manager_email=email,
                quality=_QUALITY[(function, region)],
                offline_rate=_OFFLINE.get(region, 0.012) if function in ("repairs", "damp_mould") else 0.0,
            ))
    out.append(Team("contractor-management", "Contract Management", "Central",
                    "contractor_management", "contracts@example.org"))
    return tuple(out)


def team_index(function: str) -> list[int]:
    """Index into teams() of the team with this function, per region (REGIONS order)."""
    all_teams = teams()
    return [next(i for i, t in enumerate(all_teams) if t.function == function and t.region == r)
            for r in REGIONS]


@dataclass(frozen=True)
class Contractor:
    contractor_id: str
    contractor_name: str
    is_in_house: bool
    trades: str | None
    on_time: float  # multiplier on the chance of finishing within target
    failed_visits: float  # multiplier on failed appointments
    missed_share: float  # share of failed appointments missed or cancelled by the landlord's side
    return_visit: float  # chance a job needs a second visit
    not_fixed: float  # chance a completed job was not really fixed
    satisfaction: float  # base chance a surveyed resident is satisfied
    cost: float  # cost multiplier
    verified: float  # chance completion is evidenced


CONTRACTORS = (
    Contractor("CON-000", "Brookmere Property Services (in-house)", True,
               "plumbing,heating,electrical,carpentry,windows_doors,damp_mould,leak,roof,external,other",
               1.00, 1.0, 0.35, 0.10, 0.030, 0.86, 1.00, 0.90),
    Contractor("CON-101", "Aldwick Heating & Plumbing Ltd", False, "heating,plumbing,leak",
               0.97, 1.0, 0.40, 0.11, 0.040, 0.74, 1.25, 0.86),
    Contractor("CON-102", "Stonebridge Roofing & Building Ltd", False, "roof,external,windows_doors,leak",
               0.90, 1.2, 0.45, 0.14, 0.050, 0.71, 1.35, 0.82),
    Contractor("CON-103", "Kestrel Electrical Services Ltd", False, "electrical",
               0.99, 0.9, 0.40, 0.08, 0.030, 0.78, 1.20, 0.88),
    Contractor("CON-104", "Dryline Damp Specialists Ltd", False, "damp_mould,other",
               0.95, 1.0, 0.40, 0.12, 0.050, 0.72, 1.30, 0.85),
    Contractor("CON-105", "Meadowgate Contracts Ltd", False, "carpentry,plumbing,windows_doors,external,other",
               0.88, 1.3, 0.50, 0.15, 0.060, 0.67, 1.15, 0.78),
    # Took over Meadowgate's contract part-way through the window and performs poorly.
    Contractor("CON-106", "Rapidfix Maintenance Ltd", False,
               "carpentry,plumbing,windows_doors,external,leak,other",
               0.70, 1.9, 0.65, 0.22, 0.110, 0.50, 1.05, 0.62),
)
IN_HOUSE = 0
MEADOWGATE = 5
RAPIDFIX = 6
# Regions where the general-maintenance contract (Meadowgate, then Rapidfix) operates.
GENERAL_CONTRACT_REGIONS = ("South", "East")

# Share of each category's jobs sent to each contractor (in CONTRACTORS order),
# where the general-maintenance contract applies; elsewhere its share goes in-house.
CONTRACTOR_SHARES: dict[str, tuple[float, ...]] = {
    "damp_mould": (0.55, 0, 0, 0, 0.45, 0, 0),
    "leak": (0.60, 0.20, 0.08, 0, 0, 0.12, 0),
    "roof": (0.30, 0, 0.70, 0, 0, 0, 0),
    "plumbing": (0.55, 0.25, 0, 0, 0, 0.20, 0),
    "heating": (0.55, 0.45, 0, 0, 0, 0, 0),
    "electrical": (0.50, 0, 0, 0.50, 0, 0, 0),
    "carpentry": (0.65, 0, 0, 0, 0, 0.35, 0),
    "windows_doors": (0.45, 0, 0.30, 0, 0, 0.25, 0),
    "external": (0.35, 0, 0.40, 0, 0, 0.25, 0),
    "other": (0.65, 0, 0, 0, 0.10, 0.25, 0),
}

REASONABLE_ADJUSTMENTS: dict[str, tuple[str, ...]] = {
    "physical_disability": ("Ground-floor access for visits; allow extra time to answer the door",
                            "Wheelchair user: operatives to keep hallway clear"),
    "mental_health": ("Text the day before every visit; named officer for contact",
                      "Avoid phone calls; contact by e-mail"),
    "respiratory_condition": ("Prioritise damp, mould and heating repairs",
                              "Dust-suppression and no solvent-based products"),
    "long_term_illness": ("Morning appointments only", "Allow rescheduling at short notice"),
    "age_75_plus": ("Call the day before; allow extra time at the door",
                    "Next of kin to be told of major works"),
    "child_under_5": ("Avoid appointments 1pm-3pm (nap time)", "Prioritise heating and hot water"),
    "pregnancy": ("Prioritise heating and damp repairs", "No chemical treatments while pregnant"),
    "learning_disability": ("Easy-read letters; include support worker in contact",
                            "Explain works in person before starting"),
    "sensory_impairment": ("Large-print letters", "BSL interpreter for visits",
                           "Text relay for phone calls"),
    "language_support": ("Interpreter (Polish)", "Interpreter (Urdu)", "Interpreter (Arabic)",
                         "Translated letters (Romanian)"),
    "domestic_abuse": ("Female operatives only; no unannounced visits",
                       "Do not share contact details; use safe phone number only"),
    "other": ("Call support worker before visits", "Carer to be present at visits"),
}

LEARNING_ACTIONS: dict[str, tuple[str, ...]] = {
    "repairs": ("Weekly review of jobs over target with each contractor",
                "Appointment reminder texts the day before",
                "Post-inspection of one in ten completed jobs",
                "Operatives now carry common parts to fix first time"),
    "damp_mould": ("Damp and mould check added to every repair visit",
                   "Named surveyor for every damp and mould case",
                   "Written summary template rewritten in plain English",
                   "Humidity sensors offered to repeat cases"),
    "communication": ("Call-backs logged and chased daily",
                      "Letter templates rewritten in plain English",
                      "Residents told the complaint officer's direct line"),
    "staff_conduct": ("Customer-care refresher for the team involved",
                      "Manager review of calls flagged by residents"),
    "anti_social_behaviour": ("ASB case reviews moved to fortnightly",
                              "Action plans agreed with the resident at the first visit"),
    "estate_services": ("Cleaning schedules published on the web site",
                        "Estate inspections joined by residents quarterly"),
    "other": ("Process note issued to all staff", "Service standard published"),
}
