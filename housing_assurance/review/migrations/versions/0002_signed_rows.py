"""Sign-offs keep what restatements need: the rows behind each signed figure, and when the extract was taken.

Both columns are nullable: a week signed off before this revision keeps its figures, and its restatements
say which figures changed without naming the records.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("signoff_figures") as batch_op:
        batch_op.add_column(sa.Column("rows", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("signoffs") as batch_op:
        batch_op.add_column(sa.Column("extract_taken_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("signoffs") as batch_op:
        batch_op.drop_column("extract_taken_at")
    with op.batch_alter_table("signoff_figures") as batch_op:
        batch_op.drop_column("rows")
