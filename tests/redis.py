"""Redis for tests: the real server on 127.0.0.1:6379.

Unreachable: the test is skipped, except in CI (``CI=true``), where it fails: CI provides Redis
and must run these tests.
"""

from __future__ import annotations

import os

import pytest

REDIS_URL = os.environ.get("POD_SERVER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_url_or_skip() -> str:
    """:data:`REDIS_URL` once Redis has answered a PING; skip (or fail under CI) otherwise."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI needs Redis at {REDIS_URL}: {exc}")
        pytest.skip(f"no Redis at {REDIS_URL} ({exc})")
    finally:
        client.close()
    return REDIS_URL
