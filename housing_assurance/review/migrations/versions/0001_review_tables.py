"""Review tables: commentaries and their versions, sign-offs and their figures.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTION_STATUS = "action_status IN ('open', 'done', 'dropped')"
ACTION_WHOLE = (
    "(action_what IS NULL AND action_owner IS NULL AND action_due IS NULL AND action_status IS NULL) OR "
    "(action_what IS NOT NULL AND action_owner IS NOT NULL AND action_due IS NOT NULL AND action_status IS NOT NULL)"
)


def _text_and_action() -> list[sa.Column]:
    return [
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("action_what", sa.Text(), nullable=True),
        sa.Column("action_owner", sa.String(length=254), nullable=True),
        sa.Column("action_due", sa.Date(), nullable=True),
        sa.Column("action_status", sa.String(length=10), nullable=True),
        sa.Column("author_email", sa.String(length=254), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "commentaries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.String(length=80), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("scope_region", sa.String(length=100), nullable=True),
        sa.Column("scope_team", sa.String(length=100), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_text_and_action(),
        sa.CheckConstraint(ACTION_STATUS, name=op.f("ck_commentaries_action_status")),
        sa.CheckConstraint(ACTION_WHOLE, name=op.f("ck_commentaries_action_whole")),
        sa.CheckConstraint("scope_region IS NULL OR scope_team IS NULL", name=op.f("ck_commentaries_one_scope")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_commentaries_version")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commentaries")),
    )
    op.create_index(op.f("ix_commentaries_action_status"), "commentaries", ["action_status"])
    op.create_index(
        "uq_commentaries_figure", "commentaries",
        ["as_of", "kpi_id", sa.text("coalesce(scope_region, '')"), sa.text("coalesce(scope_team, '')")],
        unique=True,
    )
    op.create_table(
        "commentary_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commentary_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("change", sa.String(length=10), nullable=False),
        *_text_and_action(),
        sa.CheckConstraint(ACTION_STATUS, name=op.f("ck_commentary_versions_action_status")),
        sa.CheckConstraint(ACTION_WHOLE, name=op.f("ck_commentary_versions_action_whole")),
        sa.CheckConstraint("change IN ('comment', 'action')", name=op.f("ck_commentary_versions_change")),
        sa.ForeignKeyConstraint(["commentary_id"], ["commentaries.id"],
                                name=op.f("fk_commentary_versions_commentary_id_commentaries")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commentary_versions")),
        sa.UniqueConstraint("commentary_id", "version", name=op.f("uq_commentary_versions_commentary_id_version")),
    )
    op.create_table(
        "signoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("signed_by", sa.String(length=254), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("pdf_filename", sa.String(length=255), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.CheckConstraint("length(pdf_sha256) = 64", name=op.f("ck_signoffs_pdf_sha256")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signoffs")),
        sa.UniqueConstraint("as_of", name=op.f("uq_signoffs_as_of")),
    )
    op.create_table(
        "signoff_figures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("signoff_id", sa.Integer(), nullable=False),
        sa.Column("kpi_id", sa.String(length=80), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("numerator", sa.Float(), nullable=True),
        sa.Column("denominator", sa.Float(), nullable=True),
        sa.Column("rag", sa.String(length=5), nullable=True),
        sa.CheckConstraint("rag IN ('green', 'amber', 'red')", name=op.f("ck_signoff_figures_rag")),
        sa.ForeignKeyConstraint(["signoff_id"], ["signoffs.id"], name=op.f("fk_signoff_figures_signoff_id_signoffs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signoff_figures")),
        sa.UniqueConstraint("signoff_id", "kpi_id", name=op.f("uq_signoff_figures_signoff_id_kpi_id")),
    )


def downgrade() -> None:
    op.drop_table("signoff_figures")
    op.drop_table("signoffs")
    op.drop_table("commentary_versions")
    op.drop_index("uq_commentaries_figure", table_name="commentaries")
    op.drop_index(op.f("ix_commentaries_action_status"), table_name="commentaries")
    op.drop_table("commentaries")
