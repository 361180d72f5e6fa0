"""The account tables as the code sees them. The schema is owned by migration 0002_accounts."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Double, Integer, MetaData, Table, Text

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("email", Text, nullable=False),
    Column("email_key", Text, nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("created", Double, nullable=False),
)
pods = Table(
    "pods",
    metadata,
    Column("path", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("webid", Text, nullable=False),
    Column("created", Double, nullable=False),
)
webids = Table(
    "webids",
    metadata,
    Column("webid", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("verified", Boolean, nullable=False),
    Column("created", Double, nullable=False),
)
client_credentials = Table(
    "client_credentials",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("secret_hash", Text, nullable=False),
    Column("webid", Text, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("created", Double, nullable=False),
)
account_tokens = Table(
    "account_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("account_id", Text, nullable=False),
    Column("created", Double, nullable=False),
    Column("expires", Double, nullable=False),
)
webid_challenges = Table(
    "webid_challenges",
    metadata,
    Column("account_id", Text, primary_key=True),
    Column("webid", Text, primary_key=True),
    Column("code", Text, nullable=False),
    Column("expires", Double, nullable=False),
)
login_failures = Table(
    "login_failures",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("key", Text, nullable=False),
    Column("at", Double, nullable=False),
)

__all__ = [
    "account_tokens",
    "accounts",
    "client_credentials",
    "login_failures",
    "metadata",
    "pods",
    "webid_challenges",
    "webids",
]
