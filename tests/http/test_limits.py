"""Limits and hostile input: clear 4xx, never 500, nothing stored (issue: "Bad input")."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.conftest import LiveServer, _serve
from tests.http.helpers import TURTLE


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(
        tmp_path_factory.mktemp("small"),
        single_pod=True,
        max_body_bytes=4096,
        max_rdf_bytes=2048,
        max_triples=20,
        max_literal_bytes=100,
        max_path_length=200,
    )


def test_body_too_large(small: LiveServer) -> None:
    url = small.fresh() + "big.bin"
    r = small.http.put(url, data=b"x" * 5000, headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/problem+json"
    assert small.http.get(url).status_code == 404


def test_chunked_body_too_large(small: LiveServer) -> None:
    url = small.fresh() + "big.bin"

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    r = small.http.put(url, data=chunks(), headers={"Content-Type": "application/octet-stream"})
    assert r.status_code == 413
    assert small.http.get(url).status_code == 404


def test_rdf_limits(small: LiveServer) -> None:
    base = small.fresh()
    too_big = b"<#a> <#b> " + b'"' + b"x" * 2100 + b'" .'
    assert small.http.put(base + "a", data=too_big, headers=TURTLE).status_code == 413
    many = "".join(f"<#s{i}> <#p> <#o> .\n" for i in range(30)).encode()
    r = small.http.put(base + "b", data=many, headers=TURTLE)
    assert r.status_code == 400 and "triples" in r.json()["detail"]
    long_literal = b'<#a> <#b> "' + b"z" * 150 + b'" .'
    assert small.http.put(base + "c", data=long_literal, headers=TURTLE).status_code == 400
    deep = b"[" * 3000 + b"]" * 3000
    assert small.http.put(
        base + "d", data=deep, headers={"Content-Type": "application/ld+json"}
    ).status_code in {400, 413}
    for name in "abcd":
        assert small.http.get(base + name).status_code == 404


def test_path_too_long(small: LiveServer) -> None:
    r = small.http.put(small.url + "x" * 300, data=b"x", headers={"Content-Type": "text/plain"})
    assert r.status_code == 414


@pytest.mark.parametrize(
    ("method", "path", "headers", "body"),
    [
        ("GET", "a//b", {}, None),
        ("GET", "a/%2e%2e/b", {}, None),
        ("GET", "%ff%fe", {}, None),
        ("PUT", "x.ttl", {"Content-Type": "text/turtle", "If-Match": "not-quoted"}, b""),
        ("GET", "", {"Accept": "text/turtle;q=abc"}, None),
        ("PUT", "y.ttl", {"Content-Type": "text/turtle; charset=utf-8"}, b"\xff\xfe<#a> <#b> <#c> ."),
        ("PUT", "z.jsonld", {"Content-Type": "application/ld+json"}, b'{"@id": 5}'),
        ("PUT", "w.jsonld", {"Content-Type": "application/ld+json"}, b"not json"),
        ("PUT", "v.rdf", {"Content-Type": "application/rdf+xml"}, b"<rdf:RDF"),
        ("POST", "nothere/", {"Content-Type": "text/plain"}, b"x"),
        ("PATCH", "p.ttl", {"Content-Type": "text/n3"}, b"@prefix"),
        ("PUT", "q/", {"Content-Type": "image/png"}, b"\x89PNG"),
        ("GET", "", {"Range": "bytes=abc"}, None),
        ("GET", "", {"If-Modified-Since": "yesterday"}, None),
    ],
)
def test_bad_input_is_4xx_never_500(
    small: LiveServer, method: str, path: str, headers: dict[str, str], body: bytes | None
) -> None:
    url = small.fresh() + path
    r = requests.request(method, url, headers=headers, data=body, timeout=10)
    assert r.status_code < 500, r.text
    if r.status_code >= 400:
        assert r.headers["Content-Type"] == "application/problem+json"
        assert r.json()["detail"]
