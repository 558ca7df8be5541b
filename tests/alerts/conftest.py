"""Fixtures: an estate on SQLite and on a real PostgreSQL, and real receivers on loopback."""

import sys
from pathlib import Path

_TESTS = str(Path(__file__).resolve().parents[1])
if _TESTS not in sys.path:  # the shared helpers live in tests/store/helpers.py
    sys.path.insert(0, _TESTS)

from store.helpers import db_url, estate  # noqa: E402, F401
