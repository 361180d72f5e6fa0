"""Notification channels (Solid Notifications Protocol): shared by every worker and kept across
restarts, so a WebSocket may connect to another worker than the one that took the subscription and
a webhook outlives a restart.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

Hand-written; must work on SQLite and PostgreSQL. ``topic_path`` is indexed for the per-change
webhook lookup, ``receive_from`` for WebSocket connects, ``end_at`` for expiry by range scan.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "notification_channels",
        sa.Column("id", sa.Text(), primary_key=True),
        sa.Column("type", sa.Text(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.Column("topic_path", sa.Text(), nullable=False),
        sa.Column("end_at", sa.Double(), nullable=False),
        sa.Column("created", sa.Double(), nullable=False),
        sa.Column("webid", sa.Text(), nullable=True),
        sa.Column("client_id", sa.Text(), nullable=True),
        sa.Column("issuer", sa.Text(), nullable=True),
        sa.Column("origin", sa.Text(), nullable=True),
        sa.Column("accept", sa.Text(), nullable=False),
        sa.Column("rate", sa.Double(), nullable=True),
        sa.Column("start_at", sa.Double(), nullable=True),
        sa.Column("state", sa.Text(), nullable=True),
        sa.Column("send_to", sa.Text(), nullable=True),
        sa.Column("receive_from", sa.Text(), nullable=True),
    )
    op.create_index("ix_notification_channels_topic", "notification_channels", ["type", "topic_path"])
    op.create_index("ix_notification_channels_receive_from", "notification_channels", ["receive_from"])
    op.create_index("ix_notification_channels_end_at", "notification_channels", ["end_at"])


def downgrade() -> None:
    op.drop_table("notification_channels")
