"""The tables of the estate's accounts (users, sessions, API tokens, login attempts).

Created by the Alembic revision ``server0001`` in ``kitvet/store/migrations/versions``; they live
in the estate's review database beside the estate tables. Secrets are never stored: sessions
and API tokens are kept as SHA-256 hashes of the random values handed out, passwords as argon2id
hashes.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

T = String(40)  # ISO 8601 UTC timestamps, as in kitvet.store.tables
NAME = String(300)

users = Table(
    "users", metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),  # admin | reviewer | auditor
    Column("institutions", Text, nullable=False),  # JSON list; [] = every institution
    Column("created_at", T, nullable=False),
    Column("created_by", NAME, nullable=False),
    Column("disabled_at", T),
)

sessions = Table(
    "sessions", metadata,
    Column("session_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column("username", String(100), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", T, nullable=False),
    Column("expires_at", T, nullable=False),
    Column("client", String(64)),
)
Index("ix_sessions_username", sessions.c.username)

api_tokens = Table(
    "api_tokens", metadata,
    Column("token_id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("name", String(100), nullable=False),
    Column("kind", String(10), nullable=False),  # ingest (an institution) | user (a user)
    Column("institution", NAME),
    Column("username", String(100)),
    Column("created_at", T, nullable=False),
    Column("created_by", NAME, nullable=False),
    Column("revoked_at", T),
    Column("last_used_at", T),
    # revision server0002: ingest | read | write; expiry; the token this one rotated out
    Column("scope", String(10)),
    Column("expires_at", T),
    Column("replaces", Integer),
)

login_attempts = Table(
    "login_attempts", metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False),
    Column("client", String(64), nullable=False),
    Column("at", T, nullable=False),
    Column("ok", Boolean, nullable=False),
)
Index("ix_login_attempts_user_client", login_attempts.c.username, login_attempts.c.client,
      login_attempts.c.at)
