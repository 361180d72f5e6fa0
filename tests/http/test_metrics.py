"""Prometheus metrics at /.well-known/pod-server/metrics: off by default, guarded when on.

Multiprocess mode (several gunicorn workers sharing a metrics folder) is checked against a real
gunicorn in tests/test_gunicorn.py: it switches prometheus-client process-wide, so not in here.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client.parser import text_string_to_metric_families

from pod_server import create_app
from pod_server.config import Secret, Settings, from_env
from pod_server.http.metrics import PATH, status_class

PROBLEM = "application/problem+json"
REMOTE = {"REMOTE_ADDR": "198.51.100.7"}


def make_app(**overrides: Any) -> Flask:
    settings = Settings(base_url="http://localhost/", backend="memory", single_pod=True, access_log=False)
    return create_app(settings, **overrides)


def samples(client: FlaskClient, **kwargs: Any) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get(PATH, **kwargs)
    assert response.status_code == 200, response.data
    assert response.content_type.startswith("text/plain; version=")
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for s in family.samples
    }


def test_off_by_default() -> None:
    client = make_app().test_client()
    for method in ("GET", "HEAD", "PUT", "DELETE"):
        response = client.open(PATH, method=method, data=b"x", content_type="text/plain")
        assert response.status_code == 404, method
    assert client.get(PATH).content_type == PROBLEM
    assert b"pod_server_http" not in client.get(PATH).data


def test_counts_requests_by_method_and_status_class() -> None:
    client = make_app(metrics=True).test_client()
    client.put("/a.txt", data=b"hello", content_type="text/plain")
    client.get("/a.txt")
    client.get("/a.txt")
    client.get("/missing")
    client.open("/a.txt", method="BREW")
    values = samples(client)
    assert values[("pod_server_http_requests_total", (("method", "PUT"), ("status", "2xx")))] == 1
    assert values[("pod_server_http_requests_total", (("method", "GET"), ("status", "2xx")))] == 2
    assert values[("pod_server_http_requests_total", (("method", "GET"), ("status", "4xx")))] == 1
    assert values[("pod_server_http_requests_total", (("method", "OTHER"), ("status", "4xx")))] == 1
    assert values[("pod_server_http_request_duration_seconds_count", (("method", "GET"),))] == 3
    assert values[("pod_server_http_response_bytes_total", (("method", "GET"),))] >= 10
    # The scrape itself is the one request in flight.
    assert values[("pod_server_http_requests_in_flight", ())] == 1
    again = samples(client)
    assert again[("pod_server_http_requests_total", (("method", "GET"), ("status", "2xx")))] == 3


def test_every_app_counts_for_itself() -> None:
    first = make_app(metrics=True).test_client()
    first.get("/")
    second = make_app(metrics=True).test_client()
    assert ("pod_server_http_requests_total", (("method", "GET"), ("status", "2xx"))) not in samples(second)


def test_without_a_token_only_loopback_may_scrape() -> None:
    client = make_app(metrics=True).test_client()
    assert client.get(PATH, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get(PATH, environ_base={"REMOTE_ADDR": "::1"}).status_code == 200
    refused = client.get(PATH, environ_base=REMOTE)
    assert refused.status_code == 403
    assert refused.content_type == PROBLEM
    # A proxy on this machine makes every caller look local: proxied requests are refused too.
    proxied = client.get(PATH, headers={"X-Forwarded-For": "203.0.113.9"})
    assert proxied.status_code == 403
    assert client.get(PATH, headers={"Forwarded": "for=203.0.113.9"}).status_code == 403


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong-token", 401),
        ("Basic czNjcjN0LW1ldHJpY3M=", 401),
        ("Bearer s3cr3t-metrics-extra", 401),
        ("Bearer s3cr3t-metrics", 200),
        ("bearer s3cr3t-metrics", 200),
    ],
)
def test_a_token_is_required_from_anywhere_when_set(authorization: str | None, status: int) -> None:
    client = make_app(metrics=True, metrics_token=Secret("s3cr3t-metrics")).test_client()
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get(PATH, headers=headers, environ_base=REMOTE)
    assert response.status_code == status
    if status == 401:
        assert response.content_type == PROBLEM
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert b"s3cr3t" not in response.data


def test_the_path_is_not_a_writable_resource() -> None:
    for single_pod in (True, False):
        client = make_app(metrics=True, single_pod=single_pod).test_client()
        for method in ("PUT", "POST", "PATCH", "DELETE"):
            response = client.open(PATH, method=method, data=b"x", content_type="text/plain")
            assert response.status_code == 405, (single_pod, method)
            assert response.headers["Allow"] == "GET, HEAD"
        assert client.get(PATH).content_type.startswith("text/plain; version=")


def test_status_classes() -> None:
    assert [status_class(s) for s in (101, 200, 304, 404, 503, 999)] == [
        "1xx",
        "2xx",
        "3xx",
        "4xx",
        "5xx",
        "other",
    ]


def test_metrics_dir_defaults_to_the_data_folder_except_in_memory() -> None:
    env = {"POD_SERVER_DATA_DIR": "/srv/pods", "POD_SERVER_METRICS": "1"}
    assert str(from_env(env).multiprocess_metrics_dir) == "/srv/pods/metrics"
    assert from_env(env, backend="memory").multiprocess_metrics_dir is None
    assert from_env({**env, "POD_SERVER_METRICS": "0"}).multiprocess_metrics_dir is None
    chosen = from_env({**env, "POD_SERVER_METRICS_DIR": "/run/pod-metrics"})
    assert str(chosen.multiprocess_metrics_dir) == "/run/pod-metrics"
    # Derived, so it follows a later change of the data folder.
    assert str(from_env(env).replace(data_dir="/elsewhere").multiprocess_metrics_dir) == "/elsewhere/metrics"
