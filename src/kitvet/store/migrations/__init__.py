"""Alembic migrations of the review database (run by :func:`kitvet.store.db.migrate`)."""
