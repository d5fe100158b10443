"""Where the review database lives, and bringing its schema up to date.

SQLite under data/ by default: enough for one app server, in WAL mode so pages keep reading while
a commentary is saved. Several app servers share one PostgreSQL database instead, named by
HOUSING_ASSURANCE_DB. The schema is Alembic's migrations, run whenever the store is opened and its
schema is not the newest migration's (Alembic itself is loaded only then: a third of a second).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url

from housing_assurance.settings import PROJECT_ROOT

if TYPE_CHECKING:
    from alembic.config import Config

DB_ENV = "HOUSING_ASSURANCE_DB"
MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision: each script's name starts with its revision ("0002_signed_rows.py"), and
# a test holds this equal to Alembic's own head.
HEAD_REVISION = max(p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
# SQLite: a writer waits up to 30 s for another to finish (the driver's default, 5 s, is short on a busy server).
SQLITE_WAIT_S = 30
# Any fixed number: every server that migrates the database takes the same PostgreSQL advisory lock.
_MIGRATION_LOCK = 7_262_019


def database_url() -> str:
    """HOUSING_ASSURANCE_DB (a SQLAlchemy URL), else the SQLite file data/review.sqlite3."""
    return os.environ.get(DB_ENV) or f"sqlite:///{PROJECT_ROOT / 'data' / 'review.sqlite3'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets readers carry on during a write; SQLite enforces foreign keys only when asked, per connection.

    Turning a new database to WAL while another server writes to it is refused at once, without waiting
    (SQLite's way out of two connections each waiting for the other), so it is tried again for as long as
    any writer waits (SQLITE_WAIT_S): three servers started together on a new database each open it."""
    cursor = dbapi_connection.cursor()
    deadline = time.monotonic() + SQLITE_WAIT_S
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str | URL | None = None) -> Engine:
    url = make_url(url or database_url())
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_WAIT_S} if url.get_backend_name() == "sqlite" else {})
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(connection: Connection) -> Config:
    """Alembic's configuration in code: the scripts live in this package, the connection is ours."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def lock_for_writing(connection: Connection) -> None:
    """On SQLite take the write lock at the start, so two writers queue instead of one failing half-way."""
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def is_at_head(connection: Connection) -> bool:
    """The database's schema is the newest migration's, read without loading Alembic."""
    if not inspect(connection).has_table("alembic_version"):
        return False
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == [HEAD_REVISION]


def upgrade_to_head(engine_or_url: Engine | str | URL) -> None:
    """Apply every migration not yet applied; a no-op on an up-to-date database, safe from several servers at once."""
    engine = engine_or_url if isinstance(engine_or_url, Engine) else make_engine(engine_or_url)
    try:
        with engine.connect() as connection:
            if is_at_head(connection):
                return
        from alembic import command

        with engine.begin() as connection:
            lock_for_writing(connection)
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
            command.upgrade(alembic_config(connection), "head")
    finally:
        if engine is not engine_or_url:
            engine.dispose()
