"""Alembic runs the review migrations on the connection `upgrade_to_head` hands it: no alembic.ini."""

from alembic import context

from housing_assurance.review.models import Base

connection = context.config.attributes["connection"]
# SQLite cannot ALTER most things; batch mode lets later migrations rebuild a table instead.
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
