"""The review database's tables, as typed SQLAlchemy classes.

A commentary is kept once per figure (KPI, week, scope) as its current state, and every version
of it, the first included, is also kept in `commentary_versions`, so an edit never loses what was
there before. A sign-off keeps the PDF exactly as signed and the figures it showed. The migrations
in `migrations/versions` create these tables; a test checks the two agree.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ACTION_STATUSES = ("open", "done", "dropped")
RAGS = ("green", "amber", "red")
EMAIL = 254  # the longest e-mail address SMTP allows
KPI_ID = 80
SCOPE_NAME = 100


class UTCDateTime(TypeDecorator[datetime]):
    """Times in UTC on every database: SQLite has no time zones, so it stores them naive and gets them back aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("review times must carry a time zone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


_ACTION_FIELDS = ("action_what", "action_owner", "action_due", "action_status")
# An action has all four fields or none.
ACTION_WHOLE = "(" + " AND ".join(f"{c} IS NULL" for c in _ACTION_FIELDS) + ") OR (" + " AND ".join(
    f"{c} IS NOT NULL" for c in _ACTION_FIELDS) + ")"


class Base(DeclarativeBase):
    # Named constraints, so later migrations can alter them on PostgreSQL and SQLite alike.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class _ActionColumns:
    """The text and action of a commentary version: the same columns in the current row and in history."""

    text: Mapped[str] = mapped_column(Text)
    action_what: Mapped[str | None] = mapped_column(Text)
    action_owner: Mapped[str | None] = mapped_column(String(EMAIL))
    action_due: Mapped[date | None] = mapped_column(Date)
    action_status: Mapped[str | None] = mapped_column(String(10))
    author_email: Mapped[str] = mapped_column(String(EMAIL))
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommentaryRow(_ActionColumns, Base):
    """The current version of the commentary on one figure (one row per KPI, week and scope)."""

    __tablename__ = "commentaries"
    __table_args__ = (
        CheckConstraint("scope_region IS NULL OR scope_team IS NULL", name="one_scope"),
        CheckConstraint(_one_of("action_status", ACTION_STATUSES), name="action_status"),
        CheckConstraint(ACTION_WHOLE, name="action_whole"),
        CheckConstraint("version >= 1", name="version"),
        Index(None, "action_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kpi_id: Mapped[str] = mapped_column(String(KPI_ID))
    as_of: Mapped[date] = mapped_column(Date)
    scope_region: Mapped[str | None] = mapped_column(String(SCOPE_NAME))
    scope_team: Mapped[str | None] = mapped_column(String(SCOPE_NAME))
    version: Mapped[int] = mapped_column()
    # Every UPDATE says "WHERE version = the version read", so a save that lost a race fails (StaleDataError)
    # instead of overwriting; the service sets the numbers itself. commentary_versions' unique
    # (commentary_id, version) refuses the same version twice as well.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}

    versions: Mapped[list[CommentaryVersionRow]] = relationship(
        back_populates="commentary", order_by="CommentaryVersionRow.version")


# One commentary per figure. A unique constraint would let two whole-landlord rows in (NULLs differ), hence
# the coalesce: PostgreSQL and SQLite both index the expression.
Index("uq_commentaries_figure", CommentaryRow.as_of, CommentaryRow.kpi_id,
      func.coalesce(CommentaryRow.scope_region, ""), func.coalesce(CommentaryRow.scope_team, ""), unique=True)


class CommentaryVersionRow(_ActionColumns, Base):
    """Every version of every commentary, as written: who changed what, and when."""

    __tablename__ = "commentary_versions"
    __table_args__ = (
        UniqueConstraint("commentary_id", "version"),
        CheckConstraint("change IN ('comment', 'action')", name="change"),
        CheckConstraint(_one_of("action_status", ACTION_STATUSES), name="action_status"),
        CheckConstraint(ACTION_WHOLE, name="action_whole"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    commentary_id: Mapped[int] = mapped_column(ForeignKey("commentaries.id"))
    version: Mapped[int]
    change: Mapped[str] = mapped_column(String(10))  # 'comment': text (and action) written; 'action': action updated

    commentary: Mapped[CommentaryRow] = relationship(back_populates="versions")


class SignOffRow(Base):
    """A week signed off for the whole landlord, with the PDF pack exactly as signed."""

    __tablename__ = "signoffs"
    __table_args__ = (CheckConstraint("length(pdf_sha256) = 64", name="pdf_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, unique=True)
    signed_by: Mapped[str] = mapped_column(String(EMAIL))
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    pdf_filename: Mapped[str] = mapped_column(String(255))
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    # Loaded only when asked for: listing sign-offs must not read every pack.
    pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    # When the extract the figures came from was taken (revision 0002; unknown for earlier sign-offs).
    extract_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    figures: Mapped[list[SignedFigureRow]] = relationship(back_populates="signoff", order_by="SignedFigureRow.id")


class SignedFigureRow(Base):
    """One figure as it stood when its week was signed off, so a later restatement can be found."""

    __tablename__ = "signoff_figures"
    __table_args__ = (
        UniqueConstraint("signoff_id", "kpi_id"),
        CheckConstraint(_one_of("rag", RAGS), name="rag"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    signoff_id: Mapped[int] = mapped_column(ForeignKey("signoffs.id"))
    kpi_id: Mapped[str] = mapped_column(String(KPI_ID))
    value: Mapped[float | None] = mapped_column(Float)
    numerator: Mapped[float | None] = mapped_column(Float)
    denominator: Mapped[float | None] = mapped_column(Float)
    rag: Mapped[str | None] = mapped_column(String(5))
    # The rows behind the figure as signed off: each row's id and a short hash of the row as it stood at the
    # end of the week (restatements.py), zlib-compressed JSON. Revision 0002; none for earlier sign-offs.
    rows: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)

    signoff: Mapped[SignOffRow] = relationship(back_populates="figures")
