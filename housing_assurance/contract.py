"""The extract contract (shared/spec/extract-contract.md, version 1) as data.

The demo generator, the validator and the data access layer all read this one
definition, so the three can never disagree about a table, a column or an enum.
"""

from __future__ import annotations

from dataclasses import dataclass, field

CONTRACT_VERSION = 1

# Logical types of the contract and the DuckDB type each column is read as.
DUCKDB_TYPES = {
    "string": "VARCHAR",
    "enum": "VARCHAR",
    "int": "BIGINT",
    "double": "DOUBLE",
    "bool": "BOOLEAN",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a key of DUCKDB_TYPES
    nullable: bool = False
    enum: tuple[str, ...] | None = None
    references: tuple[str, str] | None = None  # (table, column) of the parent row


@dataclass(frozen=True)
class Table:
    name: str
    primary_key: str
    columns: tuple[Column, ...]
    about: str = ""
    # Time columns that must not come before another time column: (earlier, later).
    time_order: tuple[tuple[str, str], ...] = field(default=())

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def _c(name: str, type_: str, nullable: bool = False, enum=None, ref=None) -> Column:
    return Column(name, type_, nullable, tuple(enum) if enum else None, ref)


PROPERTY_TYPES = ("house", "flat", "bungalow", "maisonette", "bedsit", "other")
TENURES = ("general_needs", "supported", "older_persons", "shared_ownership", "leasehold")
LOW_COST_RENTAL_TENURES = ("general_needs", "supported", "older_persons")
HOMES_TENURES = LOW_COST_RENTAL_TENURES + ("shared_ownership",)
EPC_RATINGS = ("A", "B", "C", "D", "E", "F", "G")
VULNERABILITY_TYPES = (
    "physical_disability", "mental_health", "respiratory_condition", "long_term_illness",
    "age_75_plus", "child_under_5", "pregnancy", "learning_disability", "sensory_impairment",
    "language_support", "domestic_abuse", "other",
)
TEAM_FUNCTIONS = ("repairs", "damp_mould", "complaints", "housing_management", "contractor_management")
PRIORITIES = ("emergency", "urgent", "routine", "planned")
RESPONSIVE_PRIORITIES = ("emergency", "urgent", "routine")
REPAIR_CATEGORIES = (
    "damp_mould", "leak", "roof", "plumbing", "heating", "electrical", "carpentry",
    "windows_doors", "external", "other",
)
JOB_STATUSES = ("open", "completed", "cancelled")
SOURCE_SYSTEMS = ("hms", "mobile", "spreadsheet")
APPOINTMENT_OUTCOMES = (
    "attended", "no_access", "cancelled_by_landlord", "cancelled_by_resident",
    "missed_by_operative", "pending",
)
CHANNELS = ("phone", "email", "web", "app", "letter", "in_person", "sms")
CONTACT_REASONS = ("new_repair", "repair_chase", "damp_mould_report", "complaint", "enquiry", "other")
DM_SOURCES = ("resident", "staff", "contractor", "stock_survey", "sensor")
HAZARD_LEVELS = ("emergency", "significant", "not_significant")
DM_STATUSES = ("open", "resolved", "closed")
ROOT_CAUSES = ("condensation", "penetrating_damp", "rising_damp", "leak", "structural", "unknown")
COMPLAINT_CATEGORIES = (
    "repairs", "damp_mould", "communication", "staff_conduct", "anti_social_behaviour",
    "estate_services", "other",
)
COMPLAINT_OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "withdrawn")
OMBUDSMAN_OUTCOMES = (
    "severe_maladministration", "maladministration", "service_failure",
    "no_maladministration", "outside_jurisdiction", "pending",
)

_P = ("properties", "property_id")
_H = ("households", "household_id")
_T = ("teams", "team_id")
_J = ("repairs", "job_id")
_DM = ("damp_mould_cases", "case_id")
_CX = ("complaints", "complaint_id")

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("properties", "property_id", (
        _c("property_id", "string"),
        _c("uprn", "string", True),
        _c("address", "string"),
        _c("postcode", "string"),
        _c("region", "string"),
        _c("area", "string"),
        _c("property_type", "enum", enum=PROPERTY_TYPES),
        _c("tenure", "enum", enum=TENURES),
        _c("build_year", "int", True),
        _c("epc_rating", "enum", True, EPC_RATINGS),
        _c("bedrooms", "int", True),
        _c("in_stock_from", "date", True),
        _c("in_stock_to", "date", True),
    ), "one row per home or unit the landlord owns or manages",
        (("in_stock_from", "in_stock_to"),)),
    Table("households", "household_id", (
        _c("household_id", "string"),
        _c("property_id", "string", ref=_P),
        _c("tenancy_start", "date"),
        _c("tenancy_end", "date", True),
        _c("household_size", "int", True),
        _c("census_completed_on", "date", True),
    ), "one row per tenancy", (("tenancy_start", "tenancy_end"),)),
    Table("vulnerabilities", "vulnerability_id", (
        _c("vulnerability_id", "string"),
        _c("household_id", "string", ref=_H),
        _c("vulnerability_type", "enum", enum=VULNERABILITY_TYPES),
        _c("recorded_on", "date"),
        _c("reasonable_adjustment", "string", True),
        _c("review_due", "date", True),
    ), "zero or more rows per household (special-category personal data)"),
    Table("teams", "team_id", (
        _c("team_id", "string"),
        _c("team_name", "string"),
        _c("region", "string"),
        _c("function", "enum", enum=TEAM_FUNCTIONS),
        _c("manager_email", "string"),
    ), "the teams that own cases"),
    Table("contractors", "contractor_id", (
        _c("contractor_id", "string"),
        _c("contractor_name", "string"),
        _c("is_in_house", "bool"),
        _c("trades", "string", True),
        _c("contract_start", "date", True),
        _c("contract_end", "date", True),
    ), "contractors, the in-house workforce included", (("contract_start", "contract_end"),)),
    Table("repairs", "job_id", (
        _c("job_id", "string"),
        _c("property_id", "string", ref=_P),
        _c("household_id", "string", True, ref=_H),
        _c("dm_case_id", "string", True, ref=_DM),
        _c("parent_job_id", "string", True, ref=_J),
        _c("reported_at", "timestamp"),
        _c("priority", "enum", enum=PRIORITIES),
        _c("target_at", "timestamp"),
        _c("category", "enum", enum=REPAIR_CATEGORIES),
        _c("contractor_id", "string", ref=("contractors", "contractor_id")),
        _c("team_id", "string", ref=_T),
        _c("status", "enum", enum=JOB_STATUSES),
        _c("completed_at", "timestamp", True),
        _c("cancelled_at", "timestamp", True),
        _c("completion_verified", "bool", True),
        _c("source_system", "enum", enum=SOURCE_SYSTEMS),
        _c("cost_gbp", "double", True),
    ), "one row per repair job (work order)",
        (("reported_at", "completed_at"), ("reported_at", "cancelled_at"), ("reported_at", "target_at"))),
    Table("appointments", "appointment_id", (
        _c("appointment_id", "string"),
        _c("job_id", "string", ref=_J),
        _c("slot_start", "timestamp"),
        _c("outcome", "enum", enum=APPOINTMENT_OUTCOMES),
    ), "one row per appointment slot booked for a job"),
    Table("contacts", "contact_id", (
        _c("contact_id", "string"),
        _c("property_id", "string", ref=_P),
        _c("household_id", "string", True, ref=_H),
        _c("contacted_at", "timestamp"),
        _c("channel", "enum", enum=CHANNELS),
        _c("reason", "enum", enum=CONTACT_REASONS),
        _c("job_id", "string", True, ref=_J),
        _c("dm_case_id", "string", True, ref=_DM),
        _c("complaint_id", "string", True, ref=_CX),
    ), "one row per contact from a resident"),
    Table("damp_mould_cases", "case_id", (
        _c("case_id", "string"),
        _c("property_id", "string", ref=_P),
        _c("household_id", "string", True, ref=_H),
        _c("reported_at", "timestamp"),
        _c("source", "enum", enum=DM_SOURCES),
        _c("hazard_level", "enum", True, HAZARD_LEVELS),
        _c("severity_category", "int", True),
        _c("investigation_completed_at", "timestamp", True),
        _c("summary_sent_at", "timestamp", True),
        _c("safety_work_started_at", "timestamp", True),
        _c("safety_work_completed_at", "timestamp", True),
        _c("further_work_required", "bool", True),
        _c("further_work_started_at", "timestamp", True),
        _c("resolved_at", "timestamp", True),
        _c("closed_at", "timestamp", True),
        _c("status", "enum", enum=DM_STATUSES),
        _c("root_cause", "enum", True, ROOT_CAUSES),
        _c("team_id", "string", ref=_T),
        _c("reopened_from_case_id", "string", True, ref=_DM),
    ), "one row per report of damp or mould at a home",
        (("reported_at", "investigation_completed_at"), ("investigation_completed_at", "summary_sent_at"),
         ("safety_work_started_at", "safety_work_completed_at"), ("reported_at", "resolved_at"),
         ("reported_at", "closed_at"))),
    Table("complaints", "complaint_id", (
        _c("complaint_id", "string"),
        _c("household_id", "string", True, ref=_H),
        _c("property_id", "string", True, ref=_P),
        _c("received_at", "timestamp"),
        _c("category", "enum", enum=COMPLAINT_CATEGORIES),
        _c("team_id", "string", ref=_T),
        _c("stage1_acknowledged_at", "timestamp", True),
        _c("stage1_responded_at", "timestamp", True),
        _c("stage1_extended_to", "date", True),
        _c("stage2_requested_at", "timestamp", True),
        _c("stage2_acknowledged_at", "timestamp", True),
        _c("stage2_responded_at", "timestamp", True),
        _c("stage2_extended_to", "date", True),
        _c("outcome", "enum", True, COMPLAINT_OUTCOMES),
        _c("compensation_offered_gbp", "double", True),
        _c("compensation_paid_gbp", "double", True),
        _c("ombudsman_referred_at", "date", True),
        _c("ombudsman_determined_at", "date", True),
        _c("ombudsman_outcome", "enum", True, OMBUDSMAN_OUTCOMES),
        _c("learning_action", "string", True),
    ), "one row per complaint, with both stages on the row",
        (("received_at", "stage1_acknowledged_at"), ("received_at", "stage1_responded_at"),
         ("stage1_responded_at", "stage2_requested_at"), ("stage2_requested_at", "stage2_acknowledged_at"),
         ("stage2_requested_at", "stage2_responded_at"),
         ("ombudsman_referred_at", "ombudsman_determined_at"))),
    Table("surveys", "survey_id", (
        _c("survey_id", "string"),
        _c("job_id", "string", True, ref=_J),
        _c("complaint_id", "string", True, ref=_CX),
        _c("responded_at", "timestamp"),
        _c("satisfied", "bool"),
        _c("score", "int", True),
    ), "one row per transactional satisfaction survey answer"),
)}

# Status values that must be backed by a timestamp: (table, status column, value, timestamp column).
STATUS_TIMESTAMPS = (
    ("repairs", "status", "completed", "completed_at"),
    ("repairs", "status", "cancelled", "cancelled_at"),
    ("damp_mould_cases", "status", "closed", "closed_at"),
    ("damp_mould_cases", "status", "resolved", "resolved_at"),
)
