"""Identity-provider state: signing keys, registered clients, codes, refresh tokens, consents.

Revision ID: 0003
Revises: 0002
Create Date: 2024-07-02

Hand-written; must work on SQLite and PostgreSQL. Codes and refresh tokens are stored only as
SHA-256 hashes. ``expires_at`` is indexed so expired rows are deleted by a range scan.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "idp_keys",
        sa.Column("kid", sa.Text(), primary_key=True),
        sa.Column("alg", sa.Text(), nullable=False),
        sa.Column("private_jwk", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("retired_at", sa.Double(), nullable=True),
    )
    op.create_index("ix_idp_keys_alg_created", "idp_keys", ["alg", "created_at"])
    op.create_table(
        "idp_clients",
        sa.Column("client_id", sa.Text(), primary_key=True),
        sa.Column("metadata", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
    )
    op.create_table(
        "idp_codes",
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
    op.create_index("ix_idp_codes_expires_at", "idp_codes", ["expires_at"])
    op.create_table(
        "idp_refresh_tokens",
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
    op.create_index("ix_idp_refresh_tokens_expires_at", "idp_refresh_tokens", ["expires_at"])
    op.create_index("ix_idp_refresh_tokens_family", "idp_refresh_tokens", ["family"])
    op.create_table(
        "idp_consents",
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("webid", sa.Text(), nullable=False),
        sa.Column("scope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "client_id", name="pk_idp_consents"),
    )


def downgrade() -> None:
    op.drop_table("idp_consents")
    op.drop_index("ix_idp_refresh_tokens_family", table_name="idp_refresh_tokens")
    op.drop_index("ix_idp_refresh_tokens_expires_at", table_name="idp_refresh_tokens")
    op.drop_table("idp_refresh_tokens")
    op.drop_index("ix_idp_codes_expires_at", table_name="idp_codes")
    op.drop_table("idp_codes")
    op.drop_table("idp_clients")
    op.drop_index("ix_idp_keys_alg_created", table_name="idp_keys")
    op.drop_table("idp_keys")
