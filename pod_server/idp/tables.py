"""The identity provider's tables as SQLAlchemy Core objects, matching migration 0003."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

keys = sa.Table(
    "idp_keys",
    metadata,
    sa.Column("kid", sa.Text(), primary_key=True),
    sa.Column("alg", sa.Text(), nullable=False),
    sa.Column("private_jwk", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
    sa.Column("retired_at", sa.Double(), nullable=True),
)

clients = sa.Table(
    "idp_clients",
    metadata,
    sa.Column("client_id", sa.Text(), primary_key=True),
    sa.Column("metadata", sa.Text(), nullable=False),
    sa.Column("secret_hash", sa.Text(), nullable=True),
    sa.Column("created_at", sa.Double(), nullable=False),
)

codes = sa.Table(
    "idp_codes",
    metadata,
    sa.Column("code_hash", sa.Text(), primary_key=True),
    sa.Column("family", sa.Text(), nullable=False),
    sa.Column("client_id", sa.Text(), nullable=False),
    sa.Column("account_id", sa.Text(), nullable=False),
    sa.Column("webid", sa.Text(), nullable=False),
    sa.Column("redirect_uri", sa.Text(), nullable=False),
    sa.Column("scope", sa.Text(), nullable=False),
    sa.Column("nonce", sa.Text(), nullable=True),
    sa.Column("code_challenge", sa.Text(), nullable=False),
    sa.Column("auth_time", sa.Double(), nullable=False),
    sa.Column("expires_at", sa.Double(), nullable=False),
    sa.Column("used_at", sa.Double(), nullable=True),
)

refresh_tokens = sa.Table(
    "idp_refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.Text(), primary_key=True),
    sa.Column("family", sa.Text(), nullable=False),
    sa.Column("client_id", sa.Text(), nullable=False),
    sa.Column("account_id", sa.Text(), nullable=False),
    sa.Column("webid", sa.Text(), nullable=False),
    sa.Column("scope", sa.Text(), nullable=False),
    sa.Column("jkt", sa.Text(), nullable=False),
    sa.Column("auth_time", sa.Double(), nullable=False),
    sa.Column("expires_at", sa.Double(), nullable=False),
    sa.Column("used_at", sa.Double(), nullable=True),
)

consents = sa.Table(
    "idp_consents",
    metadata,
    sa.Column("account_id", sa.Text(), primary_key=True),
    sa.Column("client_id", sa.Text(), primary_key=True),
    sa.Column("webid", sa.Text(), nullable=False),
    sa.Column("scope", sa.Text(), nullable=False),
    sa.Column("created_at", sa.Double(), nullable=False),
)

__all__ = ["clients", "codes", "consents", "keys", "metadata", "refresh_tokens"]
