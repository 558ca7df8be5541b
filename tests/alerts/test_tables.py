"""The alert tables: created by their own migration branch, as declared, and reversible."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from kitvet.store.alert_tables import metadata
from kitvet.store.db import _alembic_config, pending_migrations, write


def test_migration_matches_the_tables_and_goes_down(estate):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    mine = {t.name for t in metadata.sorted_tables}
    assert mine <= set(inspect(estate.engine).get_table_names())
    with estate.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in diff if d[0] != "remove_table" and d[0] != "remove_index"] == []
    with write(estate.engine) as conn:
        command.downgrade(_alembic_config(conn), "alerts@base")
    assert not mine & set(inspect(estate.engine).get_table_names())
    assert pending_migrations(estate.engine)
