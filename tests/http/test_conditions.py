"""Conditional requests (RFC 9110 §13) and strong ETags."""

from __future__ import annotations

import pytest

from tests.conftest import LiveServer
from tests.http.helpers import TURTLE

DOC = b'<#a> <http://example.org/p> "1" .'


@pytest.fixture
def doc(live: LiveServer) -> tuple[str, str]:
    url = live.fresh() + "doc.ttl"
    live.http.put(url, data=DOC, headers=TURTLE)
    return url, live.http.head(url).headers["ETag"]


@pytest.mark.parametrize(
    ("method", "header", "value", "status"),
    [
        ("PUT", "If-Match", '"nope"', 412),
        ("PUT", "If-Match", "ETAG", 204),
        ("PUT", "If-None-Match", "*", 412),
        ("PUT", "If-None-Match", "ETAG", 412),
        ("DELETE", "If-Match", '"nope"', 412),
        ("PATCH", "If-Match", '"nope"', 412),
        ("GET", "If-None-Match", "ETAG", 304),
        ("GET", "If-None-Match", '"other"', 200),
        ("GET", "If-Match", '"nope"', 412),
        ("HEAD", "If-None-Match", "ETAG", 304),
    ],
)
def test_preconditions(
    live: LiveServer, doc: tuple[str, str], method: str, header: str, value: str, status: int
) -> None:
    url, etag = doc
    value = etag if value == "ETAG" else value
    body = None
    headers = {header: value}
    if method in {"PUT", "PATCH"}:
        headers["Content-Type"] = "text/turtle" if method == "PUT" else "application/sparql-update"
        body = DOC if method == "PUT" else b'INSERT DATA { <#b> <http://example.org/p> "2" . }'
    r = live.http.request(method, url, data=body, headers=headers)
    assert r.status_code == status
    if status == 412:
        assert live.http.get(url).content == DOC


def test_if_none_match_star_creates_only(live: LiveServer) -> None:
    url = live.fresh() + "once.ttl"
    first = live.http.put(url, data=DOC, headers={**TURTLE, "If-None-Match": "*"})
    second = live.http.put(url, data=b"<#x> <#y> <#z> .", headers={**TURTLE, "If-None-Match": "*"})
    assert (first.status_code, second.status_code) == (201, 412)
    assert live.http.get(url).content == DOC


def test_if_match_on_missing_resource_fails(live: LiveServer) -> None:
    url = live.fresh() + "missing.ttl"
    assert live.http.put(url, data=DOC, headers={**TURTLE, "If-Match": "*"}).status_code == 412
    assert live.http.get(url).status_code == 404


def test_container_etag_changes_with_children(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "a.txt", data=b"a", headers={"Content-Type": "text/plain"})
    before = live.http.head(base).headers["ETag"]
    live.http.put(base + "b.txt", data=b"b", headers={"Content-Type": "text/plain"})
    after = live.http.head(base).headers["ETag"]
    assert before != after
    assert live.http.get(base, headers={"If-None-Match": after}).status_code == 304
