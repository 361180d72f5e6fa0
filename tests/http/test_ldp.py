"""Solid Protocol resources and containers over real HTTP (Solid Protocol 0.11 §3 to §5)."""

from __future__ import annotations

import threading

import requests
from rdflib import Literal, URIRef

from pod_server.vocab import DCTERMS, LDP, PIM, RDF, STAT, media_type_class
from tests.conftest import LiveServer
from tests.http.helpers import TURTLE, graph, links

DOC = b'@prefix foaf: <http://xmlns.com/foaf/0.1/> .\n<#me> foaf:name "Ada" .\n'


def test_put_creates_document_and_intermediate_containers(live: LiveServer) -> None:
    base = live.fresh()
    url = base + "a/b/doc.ttl"
    r = live.http.put(url, data=DOC, headers=TURTLE)
    assert r.status_code == 201
    assert r.headers["Location"] == url
    for container in (base, base + "a/", base + "a/b/"):
        got = live.http.get(container)
        assert got.status_code == 200, container
    assert (URIRef(base + "a/"), LDP.contains, URIRef(base + "a/b/")) in graph(live.http.get(base + "a/"))
    got = live.http.get(url, headers={"Accept": "text/turtle"})
    assert got.status_code == 200
    assert got.content == DOC  # stored Turtle is served as sent, not re-serialised
    assert got.headers["Content-Type"].startswith("text/turtle")


def test_put_replaces_and_changes_etag(live: LiveServer) -> None:
    url = live.fresh() + "doc.ttl"
    first = live.http.put(url, data=DOC, headers=TURTLE)
    etag1 = live.http.head(url).headers["ETag"]
    second = live.http.put(url, data=DOC.replace(b"Ada", b"Grace"), headers=TURTLE)
    assert (first.status_code, second.status_code) == (201, 204)
    etag2 = live.http.head(url).headers["ETag"]
    assert etag1 != etag2
    assert b"Grace" in live.http.get(url).content


def test_writes_without_content_type_are_refused(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "x.ttl", data=DOC, headers=TURTLE)
    for method, url in (("PUT", base + "y"), ("POST", base), ("PATCH", base + "x.ttl")):
        r = requests.Request(method, url, data=b"hello").prepare()
        r.headers.pop("Content-Type", None)
        resp = live.http.send(r)
        assert resp.status_code == 400, method
        assert "Content-Type" in resp.json()["detail"]
    assert live.http.get(base + "y").status_code == 404


def test_non_rdf_bytes_round_trip(live: LiveServer) -> None:
    url = live.fresh() + "image.png"
    data = bytes(range(256)) * 10
    assert live.http.put(url, data=data, headers={"Content-Type": "image/png"}).status_code == 201
    got = live.http.get(url)
    assert got.content == data
    assert got.headers["Content-Type"] == "image/png"
    assert f'<{LDP.NonRDFSource}>; rel="type"' in got.headers["Link"]


def test_post_creates_child_with_absolute_location(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "seed.txt", data=b"x", headers={"Content-Type": "text/plain"})
    r = live.http.post(base, data=DOC, headers=TURTLE)
    assert r.status_code == 201
    location = r.headers["Location"]
    assert location.startswith(base) and location != base
    assert live.http.get(location).status_code == 200
    assert (URIRef(base), LDP.contains, URIRef(location)) in graph(live.http.get(base))


def test_post_honours_slug_and_keeps_it_unique(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "seed.txt", data=b"x", headers={"Content-Type": "text/plain"})
    first = live.http.post(base, data=DOC, headers={**TURTLE, "Slug": "notes"})
    second = live.http.post(base, data=DOC, headers={**TURTLE, "Slug": "notes"})
    assert first.headers["Location"] == base + "notes"
    assert second.headers["Location"].startswith(base + "notes-")
    assert second.headers["Location"] != first.headers["Location"]


def test_slug_never_escapes_the_container(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "inner/seed.txt", data=b"x", headers={"Content-Type": "text/plain"})
    for slug in ("../escape", "a/b", "..", "%2e%2e%2fx", "x.acl", "x.meta", ".well-known"):
        r = live.http.post(base + "inner/", data=b"x", headers={"Content-Type": "text/plain", "Slug": slug})
        assert r.status_code == 201, slug
        location = r.headers["Location"]
        assert location.startswith(base + "inner/"), (slug, location)
        rest = location[len(base + "inner/") :]
        assert "/" not in rest and rest not in {"..", "."}, (slug, location)
        assert not rest.endswith((".acl", ".meta")), (slug, location)


def test_post_with_container_link_creates_container(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "seed.txt", data=b"x", headers={"Content-Type": "text/plain"})
    r = live.http.post(
        base,
        headers={**TURTLE, "Slug": "photos", "Link": f'<{LDP.BasicContainer}>; rel="type"'},
        data=b"",
    )
    assert r.status_code == 201
    assert r.headers["Location"] == base + "photos/"
    got = live.http.get(base + "photos/")
    assert (URIRef(base + "photos/"), RDF.type, LDP.BasicContainer) in graph(got)


def test_container_lists_children_with_metadata(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "doc.ttl", data=DOC, headers=TURTLE)
    live.http.put(base + "note.txt", data="héllo".encode(), headers={"Content-Type": "text/plain"})
    live.http.put(base + "sub/x.txt", data=b"x", headers={"Content-Type": "text/plain"})
    g = graph(live.http.get(base))
    me = URIRef(base)
    assert set(g.objects(me, LDP.contains)) == {
        URIRef(base + "doc.ttl"),
        URIRef(base + "note.txt"),
        URIRef(base + "sub/"),
    }
    note = URIRef(base + "note.txt")
    assert (note, RDF.type, LDP.Resource) in g
    assert (note, RDF.type, media_type_class("text/plain")) in g
    assert g.value(note, STAT.size) == Literal(len("héllo".encode()))
    assert g.value(note, DCTERMS.modified) is not None
    assert g.value(note, STAT.mtime) is not None
    assert (URIRef(base + "sub/"), RDF.type, LDP.BasicContainer) in g


def test_description_and_acl_resources_are_not_listed(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "doc.ttl", data=DOC, headers=TURTLE)
    assert (
        live.http.put(
            base + "doc.ttl.meta", data=b'<> <http://purl.org/dc/terms/title> "T" .', headers=TURTLE
        ).status_code
        == 201
    )
    contained = set(graph(live.http.get(base)).objects(URIRef(base), LDP.contains))
    assert contained == {URIRef(base + "doc.ttl")}


def test_client_cannot_write_containment_triples(live: LiveServer) -> None:
    base = live.fresh()
    body = f"<{base}> <{LDP.contains}> <{base}fake> .".encode()
    assert live.http.put(base, data=body, headers=TURTLE).status_code == 409
    live.http.put(base + "doc.ttl", data=DOC, headers=TURTLE)
    patch = f"INSERT DATA {{ <{base}> <{LDP.contains}> <{base}fake> . }}"
    r = live.http.patch(base, data=patch, headers={"Content-Type": "application/sparql-update"})
    assert r.status_code == 409
    contained = set(graph(live.http.get(base)).objects(URIRef(base), LDP.contains))
    assert contained == {URIRef(base + "doc.ttl")}


def test_delete_rules(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "doc.ttl", data=DOC, headers=TURTLE)
    live.http.put(base + "doc.ttl.meta", data=b'<> <http://purl.org/dc/terms/title> "T" .', headers=TURTLE)
    assert live.http.delete(base).status_code == 409  # not empty
    assert live.http.delete(live.url).status_code == 405  # storage root
    assert "DELETE" not in live.http.delete(live.url).headers["Allow"]
    assert live.http.delete(base + "doc.ttl").status_code == 204
    assert live.http.get(base + "doc.ttl").status_code == 404
    assert live.http.get(base + "doc.ttl.meta").status_code == 404  # went with its subject
    assert URIRef(base + "doc.ttl") not in set(graph(live.http.get(base)).objects(URIRef(base), LDP.contains))
    assert live.http.delete(base).status_code == 204
    assert live.http.delete(base).status_code == 404


def test_document_and_container_cannot_share_a_name(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "thing", data=b"x", headers={"Content-Type": "text/plain"})
    assert live.http.put(base + "thing/", data=b"", headers=TURTLE).status_code == 409
    assert (
        live.http.put(base + "thing/child.txt", data=b"x", headers={"Content-Type": "text/plain"}).status_code
        == 409
    )


def test_headers_on_get_head_and_options(live: LiveServer) -> None:
    base = live.fresh()
    url = base + "doc.ttl"
    live.http.put(url, data=DOC, headers=TURTLE)
    for method in ("GET", "HEAD", "OPTIONS"):
        for target, kind in ((url, LDP.RDFSource), (base, LDP.BasicContainer)):
            r = live.http.request(method, target)
            assert r.status_code in {200, 204}, (method, target)
            rels = links(r)
            assert str(kind) in rels["type"]
            assert str(LDP.Resource) in rels["type"]
            assert rels["describedby"] == {target + ".meta"}
            assert rels["http://www.w3.org/ns/solid/terms#storageDescription"] == {
                live.url + ".well-known/solid"
            }
            assert "GET" in r.headers["Allow"] and "PUT" in r.headers["Allow"]
            assert r.headers["Accept-Patch"] == "text/n3, application/sparql-update"
            assert "Accept-Put" in r.headers
            assert r.headers["ETag"].startswith('"')
            assert "Last-Modified" in r.headers
            assert "Accept" in r.headers["Vary"]
            if target == base:
                assert r.headers["Accept-Post"] == "*/*"
                assert "POST" in r.headers["Allow"]
    root = live.http.head(live.url)
    assert str(PIM.Storage) in links(root)["type"]


def test_storage_description(live: LiveServer) -> None:
    r = live.http.get(live.url + ".well-known/solid", headers={"Accept": "text/turtle"})
    assert r.status_code == 200
    assert (URIRef(live.url), RDF.type, PIM.Storage) in graph(r)
    assert live.http.put(live.url + ".well-known/solid", data=b"", headers=TURTLE).status_code == 405


def test_description_resource_is_editable(live: LiveServer) -> None:
    url = live.fresh() + "photo.png"
    live.http.put(url, data=b"\x89PNG", headers={"Content-Type": "image/png"})
    meta = url + ".meta"
    empty = live.http.get(meta)
    assert empty.status_code == 200 and len(graph(empty)) == 0
    body = f'<{url}> <http://purl.org/dc/terms/title> "Sunset" .'.encode()
    assert live.http.put(meta, data=body, headers=TURTLE).status_code == 201
    patch = f'INSERT DATA {{ <{url}> <http://purl.org/dc/terms/creator> "Ada" . }}'
    assert (
        live.http.patch(meta, data=patch, headers={"Content-Type": "application/sparql-update"}).status_code
        == 204
    )
    g = graph(live.http.get(meta))
    assert g.value(URIRef(url), DCTERMS.title) == Literal("Sunset")
    assert g.value(URIRef(url), DCTERMS.creator) == Literal("Ada")
    # A description of nothing is refused.
    assert live.http.put(url + "-missing.meta", data=body, headers=TURTLE).status_code == 409


def test_concurrent_patches_lose_no_update(live: LiveServer) -> None:
    url = live.fresh() + "counter.ttl"
    live.http.put(url, data=b"", headers=TURTLE)
    n = 24

    def add(i: int) -> None:
        with requests.Session() as s:
            r = s.patch(
                url,
                data=f'INSERT DATA {{ <{url}#it> <http://example.org/v> "{i}" . }}',
                headers={"Content-Type": "application/sparql-update"},
            )
            assert r.status_code == 204, r.text

    threads = [threading.Thread(target=add, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    g = graph(live.http.get(url))
    assert len(set(g.objects(URIRef(url + "#it"), URIRef("http://example.org/v")))) == n


def test_concurrent_posts_with_one_slug_get_distinct_names(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "seed.txt", data=b"x", headers={"Content-Type": "text/plain"})
    locations: list[str] = []

    def post(i: int) -> None:
        with requests.Session() as s:
            r = s.post(
                base, data=f"body {i}".encode(), headers={"Content-Type": "text/plain", "Slug": "same"}
            )
            assert r.status_code == 201
            locations.append(r.headers["Location"])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(locations)) == 16
    bodies = {live.http.get(u).content for u in locations}
    assert bodies == {f"body {i}".encode() for i in range(16)}


def test_document_and_container_of_one_name_cannot_race(live: LiveServer) -> None:
    def put(results: dict[str, int], url: str, body: bytes, ctype: str) -> None:
        with requests.Session() as s:
            results[url] = s.put(url, data=body, headers={"Content-Type": ctype}).status_code

    for _ in range(5):
        base = live.fresh()
        live.http.put(base + "seed.txt", data=b"x", headers={"Content-Type": "text/plain"})
        results: dict[str, int] = {}
        threads = [
            threading.Thread(target=put, args=(results, base + "twin", b"doc", "text/plain")),
            threading.Thread(target=put, args=(results, base + "twin/", b"", "text/turtle")),
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(results.values()) == [201, 409]
