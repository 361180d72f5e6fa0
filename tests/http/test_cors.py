"""CORS (Solid Protocol §8.1): echo the Origin, allow credentials, expose headers, answer preflight."""

from __future__ import annotations

import pytest

from tests.conftest import LiveServer

ORIGIN = "https://app.example"


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
def test_simple_and_actual_requests_echo_the_origin(live: LiveServer, method: str) -> None:
    url = live.fresh() + "doc.txt"
    live.http.put(url, data=b"x", headers={"Content-Type": "text/plain"})
    headers = {"Origin": ORIGIN}
    kwargs = (
        {"data": b"y", "headers": {**headers, "Content-Type": "text/plain"}}
        if method == "PUT"
        else {"headers": headers}
    )
    r = live.http.request(method, url, **kwargs)  # type: ignore[arg-type]
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert r.headers["Access-Control-Allow-Credentials"] == "true"
    assert "Origin" in r.headers["Vary"]
    exposed = {h.strip() for h in r.headers["Access-Control-Expose-Headers"].split(",")}
    for header in (
        "Link",
        "ETag",
        "Location",
        "WAC-Allow",
        "Accept-Patch",
        "Accept-Post",
        "Accept-Put",
        "Allow",
        "Updates-Via",
        "Content-Range",
    ):
        assert header in exposed


def test_errors_carry_cors_headers_too(live: LiveServer) -> None:
    r = live.http.get(live.fresh() + "missing", headers={"Origin": ORIGIN})
    assert r.status_code == 404
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "PATCH", "DELETE"])
def test_preflight(live: LiveServer, method: str) -> None:
    r = live.http.options(
        live.fresh() + "x",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization, dpop, content-type, if-match, slug, link",
        },
    )
    assert r.status_code == 204
    assert method in r.headers["Access-Control-Allow-Methods"]
    assert (
        r.headers["Access-Control-Allow-Headers"] == "authorization, dpop, content-type, if-match, slug, link"
    )
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_no_origin_no_cors(live: LiveServer) -> None:
    r = live.http.get(live.url)
    assert "Access-Control-Allow-Origin" not in r.headers
