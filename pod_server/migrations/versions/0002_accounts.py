"""Accounts, pods, WebIDs, client credentials, account tokens, WebID challenges, login throttling.

Revision ID: 0002
Revises: 0001
Create Date: 2024-07-01

Hand-written; must work on SQLite and PostgreSQL. Secrets (passwords, client secrets, account
tokens) are stored only as hashes. Rows that belong to an account go when the account goes
(``ON DELETE CASCADE``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _account_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["account_id"], ["accounts.id"], name=f"fk_{table}_account", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        # The email as typed, lower-cased: unique, so two spellings of one address are one account.
        sa.Column("email_key", sa.Text(), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("email_key", name="uq_accounts_email_key"),
    )
    op.create_table(
        "pods",
        # The storage root's path: "/" in single-pod mode, "/{name}/" otherwise.
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("webid", sa.Text(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("path", name="pk_pods"),
        _account_fk("pods"),
    )
    op.create_index("ix_pods_account", "pods", ["account_id"])
    op.create_table(
        "webids",
        sa.Column("webid", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("webid", name="pk_webids"),
        _account_fk("webids"),
        sa.CheckConstraint("kind IN ('own', 'external')", name="ck_webids_kind"),
    )
    op.create_index("ix_webids_account", "webids", ["account_id"])
    op.create_table(
        "client_credentials",
        sa.Column("client_id", sa.Text(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("webid", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("client_id", name="pk_client_credentials"),
        _account_fk("client_credentials"),
    )
    op.create_index("ix_client_credentials_account", "client_credentials", ["account_id"])
    op.create_table(
        "account_tokens",
        sa.Column("token_hash", sa.Text(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("expires", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_account_tokens"),
        _account_fk("account_tokens"),
    )
    op.create_index("ix_account_tokens_expires", "account_tokens", ["expires"])
    op.create_table(
        "webid_challenges",
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("webid", sa.Text(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("expires", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "webid", name="pk_webid_challenges"),
        _account_fk("webid_challenges"),
    )
    op.create_table(
        "login_failures",
        # "email:<lower-cased email>" or "ip:<address>"; one row per failed attempt.
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_failures"),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"])
    # Expired rows are deleted by a range on this index, never by a full scan.
    op.create_index("ix_login_failures_at", "login_failures", ["at"])


def downgrade() -> None:
    op.drop_index("ix_login_failures_at", table_name="login_failures")
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("webid_challenges")
    op.drop_index("ix_account_tokens_expires", table_name="account_tokens")
    op.drop_table("account_tokens")
    op.drop_index("ix_client_credentials_account", table_name="client_credentials")
    op.drop_table("client_credentials")
    op.drop_index("ix_webids_account", table_name="webids")
    op.drop_table("webids")
    op.drop_index("ix_pods_account", table_name="pods")
    op.drop_table("pods")
    op.drop_table("accounts")
