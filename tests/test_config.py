from __future__ import annotations

from pathlib import Path

import pytest

from pod_server.config import ConfigError, Secret, Settings, from_env


def test_defaults_serve_localhost_3000() -> None:
    s = from_env({})
    assert s.base_url == "http://localhost:3000/"
    assert (s.host, s.port, s.backend, s.data_dir) == ("127.0.0.1", 3000, "filesystem", Path("data"))
    assert s.sql_url.startswith("sqlite:///") and s.sql_url.endswith("data/pod-server.sqlite3")


def test_environment_then_flags() -> None:
    env = {"POD_SERVER_PORT": "4000", "POD_SERVER_BACKEND": "sql", "POD_SERVER_SINGLE_POD": "yes"}
    s = from_env(env)
    assert (s.port, s.backend, s.single_pod, s.base_url) == (4000, "sql", True, "http://localhost:4000/")
    assert from_env(env, backend="memory", port=None).backend == "memory"


@pytest.mark.parametrize(
    "env",
    [
        {"POD_SERVER_PORT": "abc"},
        {"POD_SERVER_BACKEND": "mongo"},
        {"POD_SERVER_SINGLE_POD": "maybe"},
        {"POD_SERVER_BASE_URL": "ftp://x"},
    ],
)
def test_bad_values_are_named(env: dict[str, str]) -> None:
    with pytest.raises(ConfigError):
        from_env(env)


def test_secrets_do_not_print() -> None:
    s = Settings(metrics_token=Secret("hunter2"))
    assert "hunter2" not in repr(s) and "hunter2" not in str(s)
    assert s.metrics_token is not None and s.metrics_token.reveal() == "hunter2"
