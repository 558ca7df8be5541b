"""Alembic environment: kitvet passes an open connection in ``config.attributes``."""

from __future__ import annotations

from alembic import context

from kitvet.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - kitvet always passes one
    raise RuntimeError("run migrations through kitvet.store.db.migrate()")
context.configure(connection=connection, target_metadata=metadata,
                  render_as_batch=connection.dialect.name == "sqlite")
context.run_migrations()
