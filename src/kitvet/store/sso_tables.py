"""The tables of single sign-on (OpenID Connect): who each identity-provider account is in
kitvet, and the sign-ins under way.

Created by the Alembic revision ``sso0001`` (branch ``sso``, after the accounts' ``server0001``).
A user signed in through the identity provider has a row in ``users`` too (role and
institutions from the provider's claims, an unusable password hash); ``sso_identities`` ties
the provider's (issuer, subject) to that user name, so a provider account never takes over a
local account of the same name. ``sso_logins`` keeps what a sign-in under way needs back at the
callback (PKCE verifier, nonce, where to go), keyed by the SHA-256 of its ``state``, for ten
minutes at most; the row is deleted when the callback uses it.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table

metadata = MetaData()

T = String(40)  # ISO 8601 UTC timestamps, as in kitvet.store.tables

sso_identities = Table(
    "sso_identities", metadata,
    Column("issuer", String(300), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("username", String(100), nullable=False, unique=True),
    Column("created_at", T, nullable=False),
    Column("last_login_at", T, nullable=False),
    PrimaryKeyConstraint("issuer", "subject"),
)

sso_logins = Table(
    "sso_logins", metadata,
    Column("state_hash", String(64), primary_key=True),  # sha256 of the state parameter
    Column("browser_hash", String(64), nullable=False),  # sha256 of the browser's cookie
    Column("code_verifier", String(128), nullable=False),
    Column("nonce", String(64), nullable=False),
    Column("next_url", String(500), nullable=False),
    Column("created_at", T, nullable=False),
    Column("expires_at", T, nullable=False),
)
