"""The query limits are settings like any other: POD_SERVER_QUERY_TIMEOUT, POD_SERVER_QUERY_MAX_ROWS."""

from __future__ import annotations

import pytest

from pod_server.config import ConfigError, Settings, from_env


def test_defaults_and_environment() -> None:
    assert (Settings().query_timeout, Settings().query_max_rows) == (10.0, 10_000)
    found = from_env({"POD_SERVER_QUERY_TIMEOUT": "2.5", "POD_SERVER_QUERY_MAX_ROWS": "7"})
    assert (found.query_timeout, found.query_max_rows) == (2.5, 7)


@pytest.mark.parametrize("env", [{"POD_SERVER_QUERY_TIMEOUT": "0"}, {"POD_SERVER_QUERY_MAX_ROWS": "0"}])
def test_limits_must_allow_something(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="query_timeout must be above 0"):
        from_env(env)
