from store.helpers import db_url, estate, pg_database  # noqa: F401
