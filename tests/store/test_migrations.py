"""Alembic migrations: applied on init and on open, reversible, and re-init is harmless."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from kitvet.estate import init_estate, open_estate
from kitvet.store.db import _alembic_config, pending_migrations, write
from kitvet.store.tables import metadata


def test_schema_matches_the_tables_and_roundtrips(estate):
    names = set(inspect(estate.engine).get_table_names())
    assert {t.name for t in metadata.sorted_tables} <= names
    assert not pending_migrations(estate.engine)
    with write(estate.engine) as conn:
        command.downgrade(_alembic_config(conn), "base")
    assert not {t.name for t in metadata.sorted_tables} & set(
        inspect(estate.engine).get_table_names())
    assert pending_migrations(estate.engine)
    reopened = open_estate(estate.root)  # upgrade on open
    assert not pending_migrations(reopened.engine)
    assert reopened.status().hosts == 0
    reopened.close()


def test_autogenerate_finds_no_difference(estate):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with estate.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    mine = {t.name for t in metadata.sorted_tables}

    def table_of(d):  # other areas (the server) add their own tables on their own branch
        obj = d[0][1] if isinstance(d, list) else d[1]
        return getattr(obj, "name", None) if d[0] in ("remove_table",) else getattr(
            getattr(obj, "table", None), "name", None)

    assert [d for d in diff if table_of(d) in mine or table_of(d) is None] == []


def test_init_twice_keeps_data_and_refuses_another_database(estate, tmp_path):
    import pytest

    from kitvet.errors import StoreError

    again = init_estate(estate.root, actor="a")
    assert again.config.db_url == estate.config.db_url
    assert len(again.audit(action="estate.init")) == 1
    with pytest.raises(StoreError, match="already uses"):
        init_estate(estate.root, db_url="postgresql://other@127.0.0.1/elsewhere", actor="a")
    again.close()
