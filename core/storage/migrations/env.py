"""Alembic environment: runs on the connection `database.upgrade` hands over."""

from alembic import context

from core.storage import subscription_tables  # noqa: F401  (registers its tables)
from core.storage.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `trending-arxiv db upgrade`")
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
