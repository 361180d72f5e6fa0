"""Replay caches: memory, and Redis shared by two cache instances (as two workers would)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from pod_server.auth.replay import MemoryReplayCache, RedisReplayCache
from pod_server.errors import ServiceUnavailable
from tests.redis import redis_url_or_skip


@pytest.fixture
def redis_url() -> Iterator[str]:
    yield redis_url_or_skip()


def test_memory_cache_expires() -> None:
    now = [0.0]
    cache = MemoryReplayCache(clock=lambda: now[0])
    assert cache.first_use("k", 10) and not cache.first_use("k", 10)
    now[0] = 11.0
    assert cache.first_use("k", 10)


def test_memory_cache_refuses_when_full_of_live_keys() -> None:
    cache = MemoryReplayCache(max_entries=2)
    assert cache.first_use("a", 60) and cache.first_use("b", 60)
    with pytest.raises(ServiceUnavailable):
        cache.first_use("c", 60)


def test_redis_cache_is_shared_between_instances(redis_url: str) -> None:
    first, second = RedisReplayCache.from_url(redis_url), RedisReplayCache.from_url(redis_url)
    key = f"jkt:{uuid.uuid4()}"
    assert first.first_use(key, 30)
    assert not second.first_use(key, 30)
    assert not first.first_use(key, 30)
    assert second.first_use(key + "-other", 30)


def test_unreachable_redis_is_a_503_not_a_crash() -> None:
    cache = RedisReplayCache.from_url("redis://127.0.0.1:1/0")
    with pytest.raises(ServiceUnavailable):
        cache.first_use("k", 5)
