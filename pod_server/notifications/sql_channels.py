"""Notification channels in the server database (migration 0004), shared by every worker."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, fields
from typing import Any

import sqlalchemy as sa

from pod_server.db import Database
from pod_server.notifications.channel import Channel

metadata = sa.MetaData()

channels = sa.Table(
    "notification_channels",
    metadata,
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

_NAMES = tuple(f.name for f in fields(Channel))


def _channel(row: Any) -> Channel:
    return Channel(**{name: getattr(row, name) for name in _NAMES})


class SqlChannels:
    """The :class:`~pod_server.notifications.channel.ChannelStore` over :class:`Database`."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def add(self, channel: Channel) -> None:
        with self.database.begin() as conn:  # an existing id: IntegrityError -> Conflict
            conn.execute(channels.insert().values(**asdict(channel)))

    def get(self, channel_id: str, *, now: float) -> Channel | None:
        query = channels.select().where(channels.c.id == channel_id, channels.c.end_at > now)
        with self.database.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _channel(row)

    def by_receive_from(self, receive_from: str, *, now: float) -> Channel | None:
        query = channels.select().where(channels.c.receive_from == receive_from, channels.c.end_at > now)
        with self.database.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else _channel(row)

    def webhooks_for(self, topic_paths: Iterable[str], *, now: float) -> list[Channel]:
        query = channels.select().where(
            channels.c.type == "WebhookChannel2023",
            channels.c.topic_path.in_(list(topic_paths)),
            channels.c.end_at > now,
        )
        with self.database.connect() as conn:
            return [_channel(row) for row in conn.execute(query)]

    def webhook_topics(self, *, now: float) -> set[str]:
        query = (
            sa.select(channels.c.topic_path)
            .where(channels.c.type == "WebhookChannel2023", channels.c.end_at > now)
            .distinct()
        )
        with self.database.connect() as conn:
            return {row.topic_path for row in conn.execute(query)}

    def remove(self, channel_id: str) -> bool:
        with self.database.begin() as conn:
            return conn.execute(channels.delete().where(channels.c.id == channel_id)).rowcount > 0

    def expire(self, now: float) -> int:
        with self.database.begin() as conn:
            return conn.execute(channels.delete().where(channels.c.end_at <= now)).rowcount


__all__ = ["SqlChannels", "channels"]
