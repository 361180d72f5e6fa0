"""The access log: one JSON line per request, with a request id, and never a secret."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import pytest
from flask import Flask, Response

from pod_server import create_app
from pod_server.config import Settings
from pod_server.http.access_log import LOGGER_NAME, request_id_from

FIELDS = {"id", "method", "path", "status", "duration_ms", "bytes", "pid"}


def make_app(**overrides: Any) -> Flask:
    settings = Settings(base_url="http://localhost/", backend="memory", single_pod=True)
    return create_app(settings, **overrides)


def lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == LOGGER_NAME]


@pytest.fixture
def caplog(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger=LOGGER_NAME)
    return caplog


def test_one_line_per_request_with_every_field(caplog: pytest.LogCaptureFixture) -> None:
    client = make_app().test_client()
    put = client.put("/notes/a.txt", data=b"hello", content_type="text/plain")
    get = client.get("/notes/a.txt")
    missing = client.get("/notes/nothing-here")
    assert (put.status_code, get.status_code, missing.status_code) == (201, 200, 404)

    logged = lines(caplog)
    assert [(x["method"], x["path"], x["status"]) for x in logged] == [
        ("PUT", "/notes/a.txt", 201),
        ("GET", "/notes/a.txt", 200),
        ("GET", "/notes/nothing-here", 404),
    ]
    for entry, response in zip(logged, [put, get, missing], strict=True):
        assert set(entry) == FIELDS
        assert entry["pid"] == os.getpid()
        assert entry["duration_ms"] >= 0
        assert entry["id"] == response.headers["X-Request-Id"]
    assert logged[1]["bytes"] == 5


def test_head_sends_no_body_bytes(caplog: pytest.LogCaptureFixture) -> None:
    client = make_app().test_client()
    client.put("/a.txt", data=b"hello", content_type="text/plain")
    client.head("/a.txt")
    assert lines(caplog)[-1]["bytes"] == 0


def test_secrets_and_query_strings_never_reach_the_log(
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    client = make_app().test_client()
    headers = {
        "Authorization": "DPoP secret-token-123",
        "DPoP": "eyJhbGciOiJFUzI1NiJ9.secret-dpop-proof.c2lnbmF0dXJl",
        "Cookie": "session=secret-cookie-456",
    }
    client.put("/s.txt?access_token=secret", data=b"x", content_type="text/plain", headers=headers)
    client.get("/s.txt?access_token=secret&code=secret-code-789", headers=headers)
    client.get("/nothing?access_token=secret", headers=headers)

    assert len(lines(caplog)) == 3
    out, err = capfd.readouterr()
    captured = caplog.text + out + err
    assert "/s.txt" in captured  # the lines were captured: the checks below can fail
    for secret in ("secret-token-123", "secret-dpop-proof", "secret-cookie-456", "access_token", "secret"):
        assert secret not in captured


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("abc-123", True),
        ("0f8e7d6c.5b4a:proxy_1", True),
        ("has spaces in it", False),
        ("x" * 65, False),
        ('"><script>', False),
        ("", False),
    ],
)
def test_request_id_is_kept_only_when_safe(caplog: pytest.LogCaptureFixture, sent: str, kept: bool) -> None:
    response = make_app().test_client().get("/nothing", headers={"X-Request-Id": sent})
    echoed = response.headers["X-Request-Id"]
    assert (echoed == sent) is kept
    assert lines(caplog)[-1]["id"] == echoed
    # The problem details name the same id (RFC 9457 "instance").
    assert response.get_json()["instance"] == f"urn:request:{echoed}"


def test_generated_ids_differ() -> None:
    assert request_id_from(None) != request_id_from(None)


def failing_app() -> Flask:
    app = make_app()

    @app.get("/__boom")
    def boom() -> Response:
        raise RuntimeError("the view failed")

    return app


def test_a_request_that_raises_still_gets_exactly_one_line(caplog: pytest.LogCaptureFixture) -> None:
    response = failing_app().test_client().get("/__boom?token=secret")
    assert response.status_code == 500
    logged = lines(caplog)
    assert [(x["path"], x["status"]) for x in logged] == [("/__boom", 500)]
    assert logged[0]["id"] == response.headers["X-Request-Id"]


def test_an_exception_escaping_flask_still_gets_exactly_one_line(caplog: pytest.LogCaptureFixture) -> None:
    # No error handler catches SystemExit (gunicorn raises it in a worker that timed out).
    app = make_app()

    @app.get("/__exit")
    def leave() -> Response:
        raise SystemExit(1)

    with pytest.raises(SystemExit):
        app.test_client().get("/__exit")
    assert [(x["path"], x["status"], x["bytes"]) for x in lines(caplog)] == [("/__exit", 500, None)]


def test_a_failing_after_request_hook_still_gets_exactly_one_line(caplog: pytest.LogCaptureFixture) -> None:
    app = make_app()

    @app.after_request
    def broken(response: Response) -> Response:
        raise RuntimeError("a hook failed")

    response = app.test_client().get("/")
    assert response.status_code == 500
    assert [(x["path"], x["status"]) for x in lines(caplog)] == [("/", 500)]


def test_off_writes_nothing_but_still_tags_requests(caplog: pytest.LogCaptureFixture) -> None:
    response = make_app(access_log=False).test_client().get("/")
    assert response.status_code == 200
    assert response.headers["X-Request-Id"]
    assert lines(caplog) == []


def test_log_level_above_info_silences_the_lines(caplog: pytest.LogCaptureFixture) -> None:
    make_app(log_level="warning").test_client().get("/")
    assert lines(caplog) == []
