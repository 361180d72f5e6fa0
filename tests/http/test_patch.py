"""PATCH over HTTP: N3 Patch (Solid Protocol §5.3.1) and SPARQL Update."""

from __future__ import annotations

import pytest
from rdflib import Literal, URIRef

from tests.conftest import LiveServer
from tests.http.helpers import TURTLE, graph

N3 = {"Content-Type": "text/n3"}
SPARQL = {"Content-Type": "application/sparql-update"}
EX = "http://example.org/"


def _seed(live: LiveServer) -> str:
    url = live.fresh() + "doc.ttl"
    live.http.put(url, data=f'<#a> <{EX}p> "1" . <#b> <{EX}p> "1" .'.encode(), headers=TURTLE)
    return url


def test_n3_patch_insert_and_delete(live: LiveServer) -> None:
    url = _seed(live)
    patch = f"""@prefix solid: <http://www.w3.org/ns/solid/terms#>.
_:p a solid:InsertDeletePatch;
  solid:where {{ <#a> <{EX}p> ?v }};
  solid:deletes {{ <#a> <{EX}p> ?v }};
  solid:inserts {{ <#a> <{EX}p> "2" }}."""
    r = live.http.patch(url, data=patch, headers=N3)
    assert r.status_code in {200, 204}, r.text
    g = graph(live.http.get(url))
    assert g.value(URIRef(url + "#a"), URIRef(EX + "p")) == Literal("2")


@pytest.mark.parametrize(
    ("where", "status"),
    [
        (f"<#nobody> <{EX}p> ?v", 409),  # no binding
        (f"?s <{EX}p> ?v", 409),  # two bindings
    ],
)
def test_n3_patch_where_must_match_once(live: LiveServer, where: str, status: int) -> None:
    url = _seed(live)
    before = live.http.get(url).content
    patch = f"""@prefix solid: <http://www.w3.org/ns/solid/terms#>.
_:p a solid:InsertDeletePatch; solid:where {{ {where} }}; solid:inserts {{ <#c> <{EX}p> ?v }}."""
    assert live.http.patch(url, data=patch, headers=N3).status_code == status
    assert live.http.get(url).content == before


def test_invalid_n3_patch_is_422(live: LiveServer) -> None:
    url = _seed(live)
    patch = f"""@prefix solid: <http://www.w3.org/ns/solid/terms#>.
_:p a solid:InsertDeletePatch; solid:inserts {{ <#c> <{EX}p> ?unbound }}."""
    assert live.http.patch(url, data=patch, headers=N3).status_code == 422


def test_sparql_update(live: LiveServer) -> None:
    url = _seed(live)
    body = f'INSERT DATA {{ <#c> <{EX}p> "3" . }} ; DELETE DATA {{ <#b> <{EX}p> "1" . }}'
    assert live.http.patch(url, data=body, headers=SPARQL).status_code in {200, 204}
    g = graph(live.http.get(url))
    assert g.value(URIRef(url + "#c"), URIRef(EX + "p")) == Literal("3")
    assert g.value(URIRef(url + "#b"), URIRef(EX + "p")) is None
    body = f'DELETE {{ ?s <{EX}p> "1" }} INSERT {{ ?s <{EX}q> "moved" }} WHERE {{ ?s <{EX}p> "1" }}'
    assert live.http.patch(url, data=body, headers=SPARQL).status_code in {200, 204}
    assert graph(live.http.get(url)).value(URIRef(url + "#a"), URIRef(EX + "q")) == Literal("moved")


def test_whitespace_sparql_update_is_a_no_op(live: LiveServer) -> None:
    url = _seed(live)
    before = live.http.get(url).content
    assert live.http.patch(url, data=" \n\t ", headers=SPARQL).status_code in {200, 204}
    assert graph(live.http.get(url)).isomorphic(graph_of(before, url))


def graph_of(data: bytes, url: str):  # type: ignore[no-untyped-def]
    from rdflib import Graph

    g = Graph()
    g.parse(data=data, format="turtle", publicID=url)
    return g


def test_patch_creates_missing_resource(live: LiveServer) -> None:
    url = live.fresh() + "new/deep/doc.ttl"
    r = live.http.patch(url, data=f'INSERT DATA {{ <#x> <{EX}p> "v" . }}', headers=SPARQL)
    assert r.status_code == 201
    assert graph(live.http.get(url)).value(URIRef(url + "#x"), URIRef(EX + "p")) == Literal("v")


def test_patch_errors(live: LiveServer) -> None:
    url = _seed(live)
    assert live.http.patch(url, data="x", headers={"Content-Type": "application/json"}).status_code == 415
    assert live.http.patch(url, data="INSERT DATA { oops", headers=SPARQL).status_code == 400
    assert live.http.patch(url, data="LOAD <http://example.org/x>", headers=SPARQL).status_code == 422
    txt = live.fresh() + "a.txt"
    live.http.put(txt, data=b"plain", headers={"Content-Type": "text/plain"})
    assert (
        live.http.patch(txt, data=f'INSERT DATA {{ <#x> <{EX}p> "v" . }}', headers=SPARQL).status_code == 409
    )
    assert live.http.get(txt).content == b"plain"


def test_patch_cannot_insert_what_a_put_could_not(live: LiveServer) -> None:
    url = _seed(live)
    before = live.http.get(url).content
    bad_lang = f'INSERT DATA {{ <#x> <{EX}p> "v"@not_a_tag . }}'
    r = live.http.patch(url, data=bad_lang, headers=SPARQL)
    assert 400 <= r.status_code < 500
    assert live.http.get(url).content == before
