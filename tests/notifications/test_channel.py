"""The ChannelStore contract, on every implementation: memory, SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from pod_server.db import Database
from pod_server.errors import Conflict
from pod_server.notifications.channel import Channel, ChannelStore, MemoryChannels
from pod_server.notifications.sql_channels import SqlChannels

POSTGRES_URL = os.environ.get(
    "POD_SERVER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
NOW = 1_800_000_000.0


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ChannelStore]:
    if request.param == "memory":
        yield MemoryChannels()
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    else:
        from tests.postgres import fresh_postgres_url

        url = fresh_postgres_url(POSTGRES_URL)
    database = Database(url)
    try:
        yield SqlChannels(database)
    finally:
        database.close()


def _channel(n: int, **changes: object) -> Channel:
    base = Channel(
        id=f"http://pod.example/.notifications/WebhookChannel2023/{n}",
        type="WebhookChannel2023",
        topic=f"http://pod.example/r{n}",
        topic_path=f"/r{n}",
        end_at=NOW + 60,
        created=NOW,
        webid="http://pod.example/alice#me",
        send_to="https://hooks.example/in",
        rate=2.5,
        start_at=NOW - 5,
        state="abc",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_add_get_round_trips_every_field(store: ChannelStore) -> None:
    channel = _channel(
        1, client_id="https://app.example/id", issuer="https://idp.example/", origin="https://app.example"
    )
    store.add(channel)
    assert store.get(channel.id, now=NOW) == channel


def test_adding_an_existing_id_conflicts(store: ChannelStore) -> None:
    store.add(_channel(1))
    with pytest.raises(Conflict):
        store.add(_channel(1))


def test_expired_channels_are_never_returned_and_expire_deletes_them(store: ChannelStore) -> None:
    store.add(_channel(1, end_at=NOW - 1))
    store.add(_channel(2))
    assert store.get(_channel(1).id, now=NOW) is None
    assert store.webhooks_for(["/r1", "/r2"], now=NOW) == [_channel(2)]
    assert store.expire(NOW) == 1
    assert store.expire(NOW) == 0
    assert store.get(_channel(2).id, now=NOW) == _channel(2)


def test_webhooks_for_matches_topic_and_type(store: ChannelStore) -> None:
    store.add(_channel(1))
    store.add(_channel(2, topic_path="/r1", topic="http://pod.example/r1"))
    store.add(_channel(3, type="WebSocketChannel2023", topic_path="/r1", send_to=None))
    found = store.webhooks_for(["/r1", "/nothing"], now=NOW)
    assert sorted(c.id for c in found) == [_channel(1).id, _channel(2).id]


def test_by_receive_from(store: ChannelStore) -> None:
    ws = _channel(4, type="WebSocketChannel2023", send_to=None, receive_from="ws://pod.example/x/tok")
    store.add(ws)
    assert store.by_receive_from("ws://pod.example/x/tok", now=NOW) == ws
    assert store.by_receive_from("ws://pod.example/x/other", now=NOW) is None
    assert store.by_receive_from("ws://pod.example/x/tok", now=ws.end_at) is None


def test_remove_is_idempotent(store: ChannelStore) -> None:
    store.add(_channel(1))
    assert store.remove(_channel(1).id) is True
    assert store.remove(_channel(1).id) is False
    assert store.get(_channel(1).id, now=NOW) is None


def test_webhook_topics_lists_live_webhook_topics_only(store: ChannelStore) -> None:
    store.add(_channel(1))
    store.add(_channel(2, topic_path="/r1", topic="http://pod.example/r1"))
    store.add(_channel(3, end_at=NOW - 1))
    store.add(_channel(4, type="WebSocketChannel2023", send_to=None))
    assert store.webhook_topics(now=NOW) == {"/r1"}
