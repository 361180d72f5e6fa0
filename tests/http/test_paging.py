"""Paged container listings: ``Prefer: return=representation; max-member-count="N"`` or
``?page-size=N&page-after=NAME``, with ``Link rel="next"`` (LDP Paging style; no Solid server
offers this today, see solid/specification#230)."""

from __future__ import annotations

from rdflib import URIRef

from pod_server.vocab import LDP
from tests.conftest import LiveServer
from tests.http.helpers import graph, links


def test_pages_walk_every_child_once(live: LiveServer) -> None:
    base = live.fresh()
    names = [f"item{i:02d}.txt" for i in range(23)]
    for name in names:
        live.http.put(base + name, data=b"x", headers={"Content-Type": "text/plain"})
    live.http.put(base + "item00.txt.meta", data=b"", headers={"Content-Type": "text/turtle"})
    seen: list[str] = []
    r = live.http.get(base, headers={"Prefer": 'return=representation; max-member-count="10"'})
    pages = 0
    while True:
        assert r.status_code == 200
        pages += 1
        assert str(LDP.Page) in links(r)["type"]
        assert r.headers["Preference-Applied"] == 'return=representation; max-member-count="10"'
        page = sorted(str(o) for o in graph(r).objects(URIRef(base), LDP.contains))
        assert len(page) <= 10
        seen += page
        nxt = links(r).get("next")
        if not nxt:
            break
        (url,) = nxt
        r = live.http.get(url)
    assert pages == 3
    assert seen == [base + n for n in names]


def test_unpaged_listing_is_whole(live: LiveServer) -> None:
    base = live.fresh()
    for i in range(5):
        live.http.put(f"{base}{i}.txt", data=b"x", headers={"Content-Type": "text/plain"})
    r = live.http.get(base)
    assert "next" not in links(r)
    assert len(set(graph(r).objects(URIRef(base), LDP.contains))) == 5


def test_bad_page_size(live: LiveServer) -> None:
    base = live.fresh()
    live.http.put(base + "a.txt", data=b"x", headers={"Content-Type": "text/plain"})
    assert live.http.get(base + "?page-size=abc").status_code == 400
    assert live.http.get(base + "?page-size=0").status_code == 400
