"""pod_client.pod against a live pod-server over real HTTP: graphs with content negotiation, N3
Patch from a diff, optimistic concurrency, streamed files with progress, paged listings, recursive
delete, storage discovery and the error mapping. Raw ``requests`` calls check what the server
really stored, independently of the client."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from pod_client.errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    PodClientError,
    PreconditionFailed,
)
from pod_client.pod import Document, Entry, Pod, n3_patch, parse_rdf
from pod_client.session import Session
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import XSD

from tests.access.helpers import make_person
from tests.clients.people import session_for
from tests.conftest import LiveServer

EX = Namespace("http://example.org/ns#")
ACL_TURTLE = """@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.
<#all> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <./>; acl:default <./>;
    acl:mode acl:Read, acl:Write, acl:Control."""


class Recording(Session):
    """An anonymous session that remembers each request it sends (method, URL, headers)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, str, dict[str, str]]] = []

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self.sent.append((method, url, dict(kwargs.get("headers") or {})))
        return super().request(method, url, **kwargs)


@pytest.fixture(scope="module")
def pod() -> Pod:
    return Pod(Session.anonymous())


def stored(live: LiveServer, url: str) -> Graph:
    """What the server holds at ``url``, read without pod_client."""
    response = requests.get(url, headers={"Accept": "text/turtle"}, timeout=10)
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.content, format="turtle", publicID=url)


def sample(url: str) -> Graph:
    me = URIRef(url + "#me")
    g = Graph()
    g.bind("ex", EX)
    g.add((me, EX.name, Literal('Zoë « quoted " » \n two lines', lang="fr")))
    g.add((me, EX.age, Literal(42)))
    g.add((me, EX.born, Literal("1980-02-29", datatype=XSD.date)))
    g.add((me, EX.knows, URIRef(url + "#you")))
    g.add((me, EX.address, BNode("addr")))
    g.add((BNode("addr"), EX.city, Literal("Paris")))
    return g


# -- graphs ------------------------------------------------------------------------------------------


def test_graph_round_trips_in_turtle(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "card.ttl"
    etag = pod.put_graph(url, sample(url))
    assert etag
    doc = pod.get_graph(url)
    assert isinstance(doc, Document)
    assert doc.content_type == "text/turtle"
    assert doc.etag == etag
    assert isomorphic(doc.graph, sample(url))
    assert isomorphic(stored(live, url), sample(url))


def test_graph_written_as_json_ld_round_trips(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "card.jsonld"
    pod.put_graph(url, sample(url), format="application/ld+json")
    assert isomorphic(pod.get_graph(url).graph, sample(url))


def test_conditional_put(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "doc.ttl"
    first = pod.put_graph(url, sample(url), etag="*")  # create only
    with pytest.raises(PreconditionFailed):
        pod.put_graph(url, Graph(), etag="*")
    second = pod.put_graph(url, Graph(), etag=first)
    with pytest.raises(PreconditionFailed) as caught:
        pod.put_graph(url, sample(url), etag=first)  # stale
    assert caught.value.status == 412 and caught.value.message
    assert second != first and len(stored(live, url)) == 0


def test_patch_from_diff_changes_exactly_the_difference(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "doc.ttl"
    me = URIRef(url + "#me")
    original = Graph()
    for i in range(4):
        original.add((me, EX.value, Literal(i)))
    pod.put_graph(url, original)
    doc = pod.get_graph(url)
    # Someone else adds a triple after our read: a patch (unlike a PUT) keeps it.
    other = f'<{me}> <{EX.other}> "theirs" .'
    answer = requests.patch(
        url,
        data=f"@prefix solid: <http://www.w3.org/ns/solid/terms#>. _:p a solid:InsertDeletePatch; "
        f"solid:inserts {{ {other} }}.",
        headers={"Content-Type": "text/n3"},
        timeout=10,
    )
    assert answer.status_code in (200, 204), answer.text
    new = Graph()
    for triple in doc.graph:
        new.add(triple)
    new.remove((me, EX.value, Literal(1)))
    new.add((me, EX.value, Literal(10)))
    new.add((me, EX.label, Literal("ten", lang="en")))
    etag = pod.patch_graph(url, doc.graph, new)
    assert etag and etag != doc.etag
    expected = Graph()
    for triple in new:
        expected.add(triple)
    expected.add((me, EX.other, Literal("theirs")))
    assert set(stored(live, url)) == set(expected)


def test_patch_document_is_an_insert_delete_patch() -> None:
    s, p = URIRef("http://a.example/s"), URIRef("http://a.example/p")
    text = n3_patch({(s, p, Literal(1))}, {(s, p, Literal("two\n"))})
    patch = Graph().parse(data=text, format="n3")
    assert "solid/terms#InsertDeletePatch" in text
    assert "deletes" in text and "inserts" in text and len(patch) >= 3
    assert "deletes" not in n3_patch(set(), {(s, p, Literal(1))})


def test_no_difference_sends_nothing(live: LiveServer) -> None:
    session = Recording()
    url = live.fresh() + "doc.ttl"
    g = sample(url)
    assert Pod(session).patch_graph(url, g, g, etag='"e"') == '"e"'
    assert session.sent == []


def test_blank_nodes_are_not_patched(live: LiveServer) -> None:
    session = Recording()
    url = live.fresh() + "doc.ttl"
    new = Graph()
    new.add((URIRef(url + "#me"), EX.address, BNode()))
    with pytest.raises(ValueError, match="blank nodes"):
        Pod(session).patch_graph(url, Graph(), new)
    assert session.sent == []


def test_deleting_a_triple_that_is_gone_conflicts(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "doc.ttl"
    pod.put_graph(url, Graph())
    old = Graph()
    old.add((URIRef(url + "#a"), EX.p, Literal(1)))  # what we think is there, but is not
    with pytest.raises(Conflict) as caught:
        pod.patch_graph(url, old, Graph())
    assert caught.value.status == 409 and caught.value.message


def test_update_graph_retries_after_a_concurrent_change(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "counter.ttl"
    me = URIRef(url + "#me")
    pod.put_graph(url, Graph().parse(data=f"<{me}> <{EX.total}> 1 .", format="turtle"))
    other = Pod(Session.anonymous())
    calls: list[int] = []

    def change(graph: Graph) -> None:
        calls.append(len(calls))
        if len(calls) == 1:  # another writer gets in between our read and our write
            other.update_graph(url, lambda g: g.add((me, EX.note, Literal("theirs"))))
        count = graph.value(me, EX.total)
        assert isinstance(count, Literal)
        graph.set((me, EX.total, Literal(int(count) + 1)))

    doc = pod.update_graph(url, change)
    assert len(calls) == 2
    got = stored(live, url)
    assert (me, EX.note, Literal("theirs")) in got
    assert (me, EX.total, Literal(2)) in got and len(got) == 2
    assert doc.etag == requests.head(url, timeout=10).headers["ETag"]
    assert isomorphic(doc.graph, got)


def test_update_graph_gives_up_with_precondition_failed(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "busy.ttl"
    me = URIRef(url + "#me")
    pod.put_graph(url, Graph())
    calls: list[int] = []

    def change(graph: Graph) -> None:
        calls.append(1)
        requests.put(  # someone else rewrites it every time
            url, data=f"<{me}> <{EX.n}> {len(calls)} .", headers={"Content-Type": "text/turtle"}, timeout=10
        )
        graph.add((me, EX.mine, Literal(True)))

    with pytest.raises(PreconditionFailed) as caught:
        pod.update_graph(url, change, attempts=3)
    assert len(calls) == 3
    assert caught.value.status == 412 and caught.value.url == url
    assert (me, EX.mine, Literal(True)) not in stored(live, url)


def test_update_graph_creates_a_missing_resource(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "new.ttl"
    me = URIRef(url + "#me")
    doc = pod.update_graph(url, lambda g: g.add((me, EX.made, Literal(True))))
    assert set(stored(live, url)) == {(me, EX.made, Literal(True))}
    assert doc.etag


# -- files -------------------------------------------------------------------------------------------


def check_progress(calls: list[tuple[int, int | None]], total: int | None, size: int) -> None:
    done = [d for d, _ in calls]
    assert done == sorted(done), "progress goes only forward"
    assert done[0] == 0 and done[-1] == size
    assert len(calls) > 3  # reported as bytes went, not once at the end
    assert {t for _, t in calls} == {total}


def test_upload_and_download_a_large_file_with_progress(live: LiveServer, pod: Pod, tmp_path: Path) -> None:
    size = 5 * 1024 * 1024 + 123
    data = os.urandom(size)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    url = live.fresh() + "big.bin"
    sent: list[tuple[int, int | None]] = []
    etag = pod.upload(url, source, "application/octet-stream", progress=lambda d, t: sent.append((d, t)))
    assert etag
    check_progress(sent, size, size)

    received: list[tuple[int, int | None]] = []
    out = io.BytesIO()
    content_type = pod.download(url, out, progress=lambda d, t: received.append((d, t)))
    assert content_type == "application/octet-stream"
    assert out.getvalue() == data
    check_progress(received, size, size)
    assert pod.read(url) == (data, "application/octet-stream")


def test_upload_of_a_stream_of_unknown_length(live: LiveServer, pod: Pod) -> None:
    class Pipe:
        """Readable only: no seek, no length (like stdin)."""

        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def read(self, n: int = -1) -> bytes:
            return self._data.read(n)

        def seekable(self) -> bool:
            return False

    data = os.urandom(300_000)
    url = live.fresh() + "piped.bin"
    sent: list[tuple[int, int | None]] = []
    pod.upload(url, Pipe(data), "application/octet-stream", progress=lambda d, t: sent.append((d, t)))  # type: ignore[arg-type]
    check_progress(sent, None, len(data))
    assert requests.get(url, timeout=10).content == data


def test_upload_only_if_unchanged(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "f.txt"
    etag = pod.upload(url, io.BytesIO(b"one"), "text/plain", etag="*")
    with pytest.raises(PreconditionFailed):
        pod.upload(url, io.BytesIO(b"two"), "text/plain", etag="*")
    pod.upload(url, io.BytesIO(b"three"), "text/plain", etag=etag)
    with pytest.raises(PreconditionFailed):
        pod.upload(url, io.BytesIO(b"four"), "text/plain", etag=etag)
    assert pod.read(url) == (b"three", "text/plain")
    pod.upload(url, io.BytesIO(b""), "text/plain")
    assert pod.read(url) == (b"", "text/plain")


def test_a_file_is_not_a_graph(live: LiveServer, pod: Pod) -> None:
    url = live.fresh() + "f.txt"
    pod.upload(url, io.BytesIO(b"hello"), "text/plain")
    with pytest.raises(PodClientError) as caught:
        pod.get_graph(url)
    assert caught.value.status == 406 and "text/plain" in caught.value.message  # pod-server's answer
    with pytest.raises(PodClientError, match="not RDF"):
        parse_rdf(b"hello", "text/plain", url)  # a server that sends it anyway


def test_json_ld_with_a_remote_context_is_refused_not_fetched() -> None:
    body = b'{"@context": "http://127.0.0.1:9/never-fetched", "@id": "#me", "name": "x"}'
    with pytest.raises(PodClientError, match="remote @context"):
        parse_rdf(body, "application/ld+json", "http://pod.example/doc")
    imported = b'{"@context": {"@import": "http://127.0.0.1:9/ctx"}, "@id": "#me"}'
    with pytest.raises(PodClientError, match="remote @context"):
        parse_rdf(imported, "application/ld+json; charset=utf-8", "http://pod.example/doc")
    inline = b'{"@context": {"name": "http://example.org/ns#name"}, "@id": "#me", "name": "x"}'
    assert len(parse_rdf(inline, "application/ld+json", "http://pod.example/doc")) == 1


# -- containers --------------------------------------------------------------------------------------


def test_list_describes_children(live: LiveServer, pod: Pod) -> None:
    base = live.fresh()
    pod.upload(base + "a.txt", io.BytesIO(b"12345"), "text/plain")
    pod.create_container(base + "sub/")
    entries = {e.url: e for e in pod.list(base)}
    assert set(entries) == {base + "a.txt", base + "sub/"}
    a, sub = entries[base + "a.txt"], entries[base + "sub/"]
    assert isinstance(a, Entry)
    assert (a.is_container, a.size, a.content_type, a.name) == (False, 5, "text/plain", "a.txt")
    assert isinstance(a.modified, datetime) and a.modified.tzinfo is not None
    assert sub.is_container and sub.name == "sub/"


def test_list_follows_pages(live: LiveServer) -> None:
    base = live.fresh()
    names = {f"item{i:02d}.txt" for i in range(30)}
    for name in names:
        requests.put(base + name, data=b"x", headers={"Content-Type": "text/plain"}, timeout=10)
    session = Recording()
    entries = Pod(session).list(base, page_size=10)
    assert {e.name for e in entries} == names and len(entries) == 30
    gets = [s for s in session.sent if s[0] == "GET"]
    assert len(gets) == 3
    assert 'max-member-count="10"' in gets[0][2]["Prefer"]
    assert "page-after=" in gets[1][1]
    # Without a page size the server answers with the whole listing at once.
    session.sent.clear()
    assert len(Pod(session).list(base)) == 30 and len(session.sent) == 1


def test_create_container(live: LiveServer, pod: Pod) -> None:
    base = live.fresh()
    pod.create_container(base + "a/b/")
    pod.create_container(base + "a/b/")  # again: fine
    pod.create_container(base + "a/")
    assert pod.exists(base + "a/b/")
    assert [e.url for e in pod.list(base + "a/")] == [base + "a/b/"]
    with pytest.raises(ValueError):
        pod.create_container(base + "no-slash")


def test_recursive_delete_of_a_nested_tree(live: LiveServer, pod: Pod) -> None:
    base = live.fresh()
    tree = ["top.txt", "a/one.ttl", "a/b/two.txt", "a/b/c/three.txt", "a/empty/", "d/four.txt"]
    for path in tree:
        if path.endswith("/"):
            pod.create_container(base + path)
        else:
            pod.upload(base + path, io.BytesIO(b"<#x> <#y> <#z> ."), "text/turtle")
    # Auxiliary resources: a container's own ACL and a description resource.
    for aux, body in [("a/b/.acl", ACL_TURTLE), ("a/.meta", ""), ("top.txt.meta", "")]:
        r = requests.put(base + aux, data=body, headers={"Content-Type": "text/turtle"}, timeout=10)
        assert r.status_code in (201, 204), r.text
    session = Recording()
    Pod(session).delete(base + "a/", recursive=True)
    for gone in ["a/", "a/b/", "a/b/c/", "a/empty/", "a/b/two.txt", "a/b/.acl", "a/.meta"]:
        assert requests.head(base + gone, timeout=10).status_code == 404, gone
    deletes = [url for method, url, _ in session.sent if method == "DELETE"]
    assert deletes.index(base + "a/b/c/three.txt") < deletes.index(base + "a/b/c/")
    assert deletes.index(base + "a/b/c/") < deletes.index(base + "a/b/") < deletes.index(base + "a/")
    assert deletes.index(base + "a/b/") < deletes.index(base + "a/b/.acl")  # the ACL after its container
    assert all(url.startswith(base + "a/") for url in deletes)
    assert pod.exists(base + "top.txt") and pod.exists(base + "d/four.txt")
    pod.delete(base, recursive=True)
    assert not pod.exists(base)


def test_deleting_a_non_empty_container_needs_recursive(live: LiveServer, pod: Pod) -> None:
    base = live.fresh()
    pod.upload(base + "f.txt", io.BytesIO(b"x"), "text/plain")
    with pytest.raises(Conflict) as caught:
        pod.delete(base)
    assert caught.value.status == 409 and caught.value.message
    assert pod.exists(base + "f.txt")
    pod.delete(base + "f.txt")
    pod.delete(base)
    assert not pod.exists(base)


def test_not_found(live: LiveServer, pod: Pod) -> None:
    missing = live.fresh() + "missing.ttl"
    assert not pod.exists(missing)
    for call in (pod.get_graph, pod.read, pod.head, pod.delete, pod.list):
        with pytest.raises(NotFound) as caught:
            call(missing)
        assert caught.value.status == 404 and caught.value.url == missing
    with pytest.raises(NotFound):
        pod.download(missing, io.BytesIO())


def test_storage_of_the_open_pod(live: LiveServer, pod: Pod) -> None:
    base = live.fresh()
    assert pod.storage_of(base + "deep/er/file.txt") == live.url
    assert pod.storage_of(live.url) == live.url


# -- logged in, against a provider-mode server -------------------------------------------------------


@pytest.fixture(scope="module")
def owner_and_other(provider: LiveServer) -> Iterator[tuple[Any, Any]]:
    yield make_person(provider, "owner"), make_person(provider, "other")


def test_owner_works_in_their_pod_with_client_credentials(
    provider: LiveServer, owner_and_other: tuple[Any, Any]
) -> None:
    owner, _ = owner_and_other
    pod = Pod(session_for(provider, owner))
    base = f"{owner.pod}work-{uuid.uuid4().hex[:8]}/"
    url = base + "notes/today.ttl"
    pod.put_graph(url, sample(url))
    pod.update_graph(url, lambda g: g.add((URIRef(url + "#me"), EX.done, Literal(True))))
    assert (URIRef(url + "#me"), EX.done, Literal(True)) in pod.get_graph(url).graph
    assert [e.url for e in pod.list(base)] == [base + "notes/"]
    assert pod.storage_of(url) == owner.pod
    assert pod.head(url).headers["WAC-Allow"].startswith('user="read')
    pod.delete(base, recursive=True)
    assert not pod.exists(base)


def test_errors_map_for_the_public_and_for_another_person(
    provider: LiveServer, owner_and_other: tuple[Any, Any]
) -> None:
    owner, other = owner_and_other
    private = owner.pod + "settings/prefs.ttl"
    with pytest.raises(NotAuthenticated) as public:
        Pod(Session.anonymous()).get_graph(private)
    assert public.value.status == 401
    stranger = Pod(session_for(provider, other))
    with pytest.raises(Forbidden) as forbidden:
        stranger.get_graph(private)
    assert forbidden.value.status == 403 and forbidden.value.message
    with pytest.raises(Forbidden):
        stranger.delete(owner.pod + "profile/", recursive=True)
    assert Pod(session_for(provider, owner)).exists(owner.pod + "profile/card")
    with pytest.raises(Forbidden):
        stranger.exists(private)
