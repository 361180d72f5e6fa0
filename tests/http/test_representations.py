"""Content negotiation, malformed input, JSON-LD contexts, ranges (Solid Protocol §5.1, RFC 9110)."""

from __future__ import annotations

import json

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from tests.conftest import LiveServer
from tests.http.helpers import TURTLE

DOC = b"""@prefix foaf: <http://xmlns.com/foaf/0.1/> .
<#me> foaf:name "Ada"@en ; foaf:age 36 ; foaf:knows [ foaf:name "Grace" ] .
"""

OUT_FORMATS = [
    ("text/turtle", "turtle"),
    ("application/ld+json", "json-ld"),
    ("application/n-triples", "nt"),
    ("application/n-quads", "nquads"),
    ("application/rdf+xml", "xml"),
]


def _expected(url: str) -> Graph:
    g = Graph()
    g.parse(data=DOC, format="turtle", publicID=url)
    return g


@pytest.mark.parametrize(("media_type", "fmt"), OUT_FORMATS)
def test_every_rdf_format_out(live: LiveServer, media_type: str, fmt: str) -> None:
    url = live.fresh() + "doc"
    live.http.put(url, data=DOC, headers=TURTLE)
    r = live.http.get(url, headers={"Accept": media_type})
    assert r.status_code == 200
    assert r.headers["Content-Type"].split(";")[0] == media_type
    g = Graph()
    g.parse(data=r.content, format=fmt, publicID=url)
    assert isomorphic(g, _expected(url))


@pytest.mark.parametrize(("media_type", "fmt"), [*OUT_FORMATS, ("text/n3", "n3")])
def test_every_rdf_format_in(live: LiveServer, media_type: str, fmt: str) -> None:
    url = live.fresh() + "doc"
    # An N-Triples document is a valid N-Quads document too.
    body = _expected(url).serialize(format="nt" if fmt == "nquads" else fmt)
    r = live.http.put(
        url, data=body.encode() if isinstance(body, str) else body, headers={"Content-Type": media_type}
    )
    assert r.status_code == 201, r.text
    back = Graph()
    back.parse(
        data=live.http.get(url, headers={"Accept": "text/turtle"}).content, format="turtle", publicID=url
    )
    assert isomorphic(back, _expected(url))


def test_not_acceptable(live: LiveServer) -> None:
    url = live.fresh() + "doc"
    live.http.put(url, data=DOC, headers=TURTLE)
    r = live.http.get(url, headers={"Accept": "image/png"})
    assert r.status_code == 406
    assert "text/turtle" in r.json()["detail"]
    txt = live.fresh() + "a.txt"
    live.http.put(txt, data=b"x", headers={"Content-Type": "text/plain"})
    assert live.http.get(txt, headers={"Accept": "application/json"}).status_code == 406
    assert live.http.get(txt, headers={"Accept": "text/*"}).status_code == 200


def test_quality_values_choose_the_format(live: LiveServer) -> None:
    url = live.fresh() + "doc"
    live.http.put(url, data=DOC, headers=TURTLE)
    r = live.http.get(url, headers={"Accept": "text/turtle;q=0.5, application/ld+json;q=0.9"})
    assert r.headers["Content-Type"].startswith("application/ld+json")


def test_malformed_rdf_is_refused_with_line_and_not_stored(live: LiveServer) -> None:
    url = live.fresh() + "bad.ttl"
    bad = b'@prefix ex: <http://example.org/> .\n\nex:a ex:b "unterminated .\n'
    r = live.http.put(url, data=bad, headers=TURTLE)
    assert r.status_code == 400
    problem = r.json()
    assert r.headers["Content-Type"] == "application/problem+json"
    assert "line" in problem["detail"]
    assert live.http.get(url).status_code == 404
    good = live.http.put(url, data=DOC, headers=TURTLE)
    assert good.status_code == 201
    assert live.http.put(url, data=bad, headers=TURTLE).status_code == 400
    assert live.http.get(url).content == DOC  # the old version is kept


def test_jsonld_remote_context_is_refused(live: LiveServer) -> None:
    url = live.fresh() + "doc.jsonld"
    body = json.dumps({"@context": "https://example.org/context.jsonld", "@id": "#x", "name": "x"})
    r = live.http.put(url, data=body, headers={"Content-Type": "application/ld+json"})
    assert r.status_code == 400
    assert "example.org/context.jsonld" in r.json()["detail"]


def test_jsonld_with_inline_context(live: LiveServer) -> None:
    url = live.fresh() + "doc.jsonld"
    body = json.dumps({"@context": {"name": "http://xmlns.com/foaf/0.1/name"}, "@id": "#x", "name": "Ada"})
    assert live.http.put(url, data=body, headers={"Content-Type": "application/ld+json"}).status_code == 201
    g = Graph()
    g.parse(data=live.http.get(url, headers={"Accept": "text/turtle"}).content, format="turtle", publicID=url)
    assert g.value(URIRef(url + "#x"), URIRef("http://xmlns.com/foaf/0.1/name")) == Literal("Ada")


def test_content_length_counts_bytes(live: LiveServer) -> None:
    url = live.fresh() + "uni.txt"
    text = "ünïcødé 🐝".encode()
    live.http.put(url, data=text, headers={"Content-Type": "text/plain; charset=utf-8"})
    r = live.http.get(url)
    assert int(r.headers["Content-Length"]) == len(text) == len(r.content)
    rdf = live.fresh() + "uni.ttl"
    live.http.put(rdf, data='<#a> <#b> "ünïcødé 🐝" .'.encode(), headers=TURTLE)
    for accept, _ in OUT_FORMATS:
        r = live.http.get(rdf, headers={"Accept": accept})
        assert int(r.headers["Content-Length"]) == len(r.content), accept


def test_ranges(live: LiveServer) -> None:
    url = live.fresh() + "bytes.bin"
    data = bytes(range(100))
    live.http.put(url, data=data, headers={"Content-Type": "application/octet-stream"})
    r = live.http.get(url, headers={"Range": "bytes=10-19"})
    assert r.status_code == 206
    assert r.content == data[10:20]
    assert r.headers["Content-Range"] == "bytes 10-19/100"
    assert live.http.get(url, headers={"Range": "bytes=-5"}).content == data[-5:]
    assert live.http.get(url, headers={"Range": "bytes=95-"}).content == data[95:]
    bad = live.http.get(url, headers={"Range": "bytes=200-300"})
    assert bad.status_code == 416
    assert bad.headers["Content-Range"] == "bytes */100"
    assert live.http.get(url, headers={"Range": "bytes=0-1,5-6"}).status_code == 200  # ignored


def test_cached_representations_follow_every_change(live: LiveServer) -> None:
    """Listings and converted RDF are cached by ETag; a change must never serve the old bytes."""
    base = live.fresh()
    url = base + "doc"
    jsonld = {"Accept": "application/ld+json"}
    live.http.put(url, data=b'<#a> <http://example.org/p> "one" .', headers=TURTLE)
    for _ in range(2):  # the second read comes from the cache
        assert b"one" in live.http.get(url, headers=jsonld).content
        assert b"doc" in live.http.get(base).content
    live.http.put(url, data=b'<#a> <http://example.org/p> "two" .', headers=TURTLE)
    assert b"two" in live.http.get(url, headers=jsonld).content
    live.http.put(base + "other", data=b"x", headers={"Content-Type": "text/plain"})
    assert f"<{base}other>".encode() in live.http.get(base).content
    live.http.delete(base + "other")
    assert f"<{base}other>".encode() not in live.http.get(base).content
