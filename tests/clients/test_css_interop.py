"""pod_client against a second, independent Solid server: the Community Solid Server (issue 6).

Everything here goes through the library's public API, as a user's script would, against CSS 7
(``@css:config/file.json``: WAC, its own Solid-OIDC provider, every notification channel). One
CSS runs for the whole module (tests/clients/css.py); it is provisioned with two people through
CSS's account API. Each test works in a fresh container of its own.

CSS behaviour the client has to live with (seen while writing these tests):

- a 401 says ``WWW-Authenticate: Bearer scope="openid webid"`` (not ``DPoP``);
- ``PUT`` answers carry no ``ETag``; updating with ``PUT`` answers 205 Reset Content;
- ETags are ``"<modified ms>-<content type>"``: the same state has a different ETag per
  representation, and CSS compares only the time part for ``If-Match``;
- ``PUT`` on an existing container is 409 ("Existing containers cannot be updated via PUT");
- ``DELETE`` of a non-empty container is 409; an N3 Patch deleting absent triples is 409, and
  one with an empty formula (``solid:inserts { }``) is 422 ("can not contain blank nodes");
- the storage description is Turtle with relative IRIs (``<../../.notifications/...>``);
- the pod root is publicly readable, its children are not (the pod's ``.acl`` grants the public
  ``acl:accessTo`` the root only);
- a new pod's profile has no ``pim:storage``, no type indexes and no preferences file;
- deleting a channel does not close its WebSocket; the notifications just stop.

Without node or ``npm install`` in tests/interop these tests skip, except under ``CI=true``.
"""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator

import pytest
from pod_client import (
    Forbidden,
    NotAuthenticated,
    NotFound,
    PodClientError,
    PreconditionFailed,
    acl,
    notifications,
    profile,
)
from pod_client.pod import Pod
from pod_client.session import Session
from pod_client.vocab import PIM, RDF, SOLID
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import SDO

from tests.clients.css import CssPerson, CssServer, css_fixture

pytestmark = pytest.mark.slow

css = css_fixture()


def _session(person: CssPerson) -> Session:
    return Session.client_credentials(person.issuer, person.client_id, person.client_secret)


@pytest.fixture(scope="module")
def owner(css: CssServer) -> Iterator[Pod]:
    """The owner's pod, logged in with client credentials."""
    session = _session(css.owner)
    yield Pod(session)
    session.close()


@pytest.fixture(scope="module")
def other(css: CssServer) -> Iterator[Pod]:
    """A second person, logged in, with no rights in the owner's pod."""
    session = _session(css.other)
    yield Pod(session)
    session.close()


@pytest.fixture(scope="module")
def public() -> Pod:
    return Pod(Session.anonymous())


@pytest.fixture
def place(css: CssServer, owner: Pod) -> str:
    """A fresh container in the owner's pod: private (it inherits the pod's owner-only default)."""
    url = f"{css.owner.pod}t-{uuid.uuid4().hex[:10]}/"
    owner.create_container(url)
    return url


IT = URIRef("urn:example:it")
"""The subject of the test graphs: absolute, so a graph compares equal after its round trip."""


def _graph(*names: str) -> Graph:
    graph = Graph()
    for name in names:
        graph.add((IT, SDO.name, Literal(name)))
    return graph


def _names(graph: Graph) -> set[str]:
    return {str(o) for o in graph.objects(None, SDO.name)}


def _next_millisecond() -> None:
    """CSS's ETag is the modification time in milliseconds: two writes in the same millisecond
    would share it, so a test that needs a changed ETag waits one out."""
    time.sleep(0.005)


# -- logging in ------------------------------------------------------------------------------------


def test_client_credentials_log_in_as_the_pods_webid(css: CssServer, owner: Pod) -> None:
    assert owner.session.webid == css.owner.webid
    assert owner.session.issuer == css.owner.issuer == css.base
    assert owner.session.client_id == css.owner.client_id


def test_a_wrong_secret_is_not_authenticated(css: CssServer) -> None:
    with pytest.raises(NotAuthenticated) as caught:
        Session.client_credentials(css.owner.issuer, css.owner.client_id, "not-the-secret")
    assert caught.value.message  # CSS's explanation (invalid_client) is carried


def test_a_private_resource_reads_with_the_session_and_is_401_for_the_public(
    place: str, owner: Pod, public: Pod
) -> None:
    url = place + "secret.ttl"
    owner.put_graph(url, _graph("only me"))
    assert _names(owner.get_graph(url).graph) == {"only me"}
    # Solid Protocol §"Authorization": no credentials for a protected resource -> 401.
    assert public.session.request("GET", url).status_code == 401
    with pytest.raises(NotAuthenticated):
        public.get_graph(url)


def test_the_pod_root_is_public_but_a_fresh_container_is_not(css: CssServer, place: str, public: Pod) -> None:
    assert public.exists(css.owner.pod)
    with pytest.raises(NotAuthenticated):
        public.list(place)


def test_the_other_person_is_forbidden(place: str, owner: Pod, other: Pod) -> None:
    url = place + "mine.ttl"
    owner.put_graph(url, _graph("mine"))
    with pytest.raises(Forbidden):
        other.get_graph(url)


# -- graphs ----------------------------------------------------------------------------------------


def test_put_then_get_a_graph(place: str, owner: Pod) -> None:
    url = place + "card.ttl"
    owner.put_graph(url, _graph("Ada", "Grace"))
    document = owner.get_graph(url)
    assert document.url == url
    assert document.content_type.startswith("text/turtle")
    assert document.etag  # CSS: "<ms>-text/turtle"
    assert isomorphic(document.graph, _graph("Ada", "Grace"))


def test_put_a_graph_as_json_ld(place: str, owner: Pod) -> None:
    url = place + "card.jsonld"
    owner.put_graph(url, _graph("Ada"), format="application/ld+json")
    assert _names(owner.get_graph(url).graph) == {"Ada"}


def test_patch_from_a_diff_is_an_n3_patch_css_applies(place: str, owner: Pod) -> None:
    url = place + "patched.ttl"
    owner.put_graph(url, _graph("Ada", "Grace"))
    old = owner.get_graph(url)
    new = _graph("Ada", "Barbara")
    owner.patch_graph(url, old.graph, new, etag=old.etag)
    assert isomorphic(owner.get_graph(url).graph, new)


@pytest.mark.parametrize(
    "before,after", [(("Ada",), ("Ada", "Grace")), (("Ada", "Grace"), ("Ada",))], ids=["adds", "removes"]
)
def test_a_one_sided_diff_patches(
    place: str, owner: Pod, before: tuple[str, ...], after: tuple[str, ...]
) -> None:
    """CSS 7 refuses an empty formula (``solid:inserts { }`` is 422, "can not contain blank
    nodes"): a patch that only adds or only removes must leave the other clause out."""
    url = place + "one-sided.ttl"
    owner.put_graph(url, _graph(*before))
    owner.patch_graph(url, _graph(*before), _graph(*after))
    assert _names(owner.get_graph(url).graph) == set(after)


def test_a_patch_deleting_what_is_not_there_is_refused(place: str, owner: Pod) -> None:
    """N3 Patch (Solid Protocol §"N3 Patch"): every triple to delete must be present; CSS: 409."""
    url = place + "drifted.ttl"
    owner.put_graph(url, _graph("Ada"))
    with pytest.raises(PodClientError) as caught:
        owner.patch_graph(url, _graph("Ada", "Ghost"), _graph("Ada"))
    assert caught.value.status == 409


def test_a_stale_etag_is_412_for_put_and_patch(place: str, owner: Pod) -> None:
    url = place + "contended.ttl"
    owner.put_graph(url, _graph("one"))
    seen = owner.get_graph(url)
    _next_millisecond()
    owner.put_graph(url, _graph("two"))  # someone else's write
    with pytest.raises(PreconditionFailed):
        owner.put_graph(url, _graph("three"), etag=seen.etag)
    with pytest.raises(PreconditionFailed):
        owner.patch_graph(url, seen.graph, _graph("three"), etag=seen.etag)
    assert _names(owner.get_graph(url).graph) == {"two"}


def test_put_with_etag_star_only_creates(place: str, owner: Pod) -> None:
    url = place + "once.ttl"
    owner.put_graph(url, _graph("first"), etag="*")
    with pytest.raises(PreconditionFailed):
        owner.put_graph(url, _graph("second"), etag="*")
    assert _names(owner.get_graph(url).graph) == {"first"}


def test_update_graph_retries_after_a_412(place: str, owner: Pod) -> None:
    url = place + "counter.ttl"
    owner.put_graph(url, _graph("start"))
    calls = 0

    def change(graph: Graph) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:  # a concurrent writer gets in between our read and our PATCH
            _next_millisecond()
            owner.put_graph(url, _graph("start", "theirs"))
        graph.add((IT, SDO.name, Literal("ours")))

    document = owner.update_graph(url, change)
    assert calls == 2
    assert _names(document.graph) == _names(owner.get_graph(url).graph) == {"start", "theirs", "ours"}


# -- files -----------------------------------------------------------------------------------------


def test_upload_and_download_a_file_with_progress(place: str, owner: Pod) -> None:
    url = place + "blob.bin"
    body = bytes(range(256)) * 1200  # 300 KiB: several chunks
    sent: list[tuple[int, int | None]] = []
    owner.upload(url, io.BytesIO(body), "application/octet-stream", progress=lambda d, t: sent.append((d, t)))
    assert sent and sent[-1][0] == len(body)
    received: list[tuple[int, int | None]] = []
    out = io.BytesIO()
    content_type = owner.download(url, out, progress=lambda d, t: received.append((d, t)))
    assert out.getvalue() == body
    assert content_type == "application/octet-stream"
    assert received[-1][0] == len(body)
    assert owner.read(url) == (body, "application/octet-stream")


def test_a_missing_file_is_not_found(place: str, owner: Pod) -> None:
    with pytest.raises(NotFound):
        owner.read(place + "nothing-here.txt")


# -- containers ------------------------------------------------------------------------------------


def test_list_a_container(place: str, owner: Pod) -> None:
    owner.put_graph(place + "a.ttl", _graph("a"))
    owner.upload(place + "b.txt", io.BytesIO(b"hello"), "text/plain")
    owner.create_container(place + "sub/")
    entries = {entry.url: entry for entry in owner.list(place)}
    assert set(entries) == {place + "a.ttl", place + "b.txt", place + "sub/"}
    assert entries[place + "sub/"].is_container
    assert not entries[place + "b.txt"].is_container
    assert entries[place + "b.txt"].size == 5  # CSS lists posix:size


def test_creating_an_existing_container_is_fine(place: str, owner: Pod) -> None:
    """CSS answers 409 to PUT on an existing container; the contract says that is fine."""
    owner.create_container(place + "again/")
    owner.create_container(place + "again/")
    assert owner.exists(place + "again/")


def test_delete_recursively(place: str, owner: Pod) -> None:
    tree = place + "tree/"
    owner.put_graph(tree + "x.ttl", _graph("x"))  # CSS makes the intermediate containers
    owner.put_graph(tree + "deep/er/y.ttl", _graph("y"))
    owner.upload(tree + "deep/z.txt", io.BytesIO(b"z"), "text/plain")
    acl.grant(owner, tree + "deep/", ["Read"], public=True)  # an .acl to delete too
    with pytest.raises(PodClientError) as caught:
        owner.delete(tree)  # CSS: "Can only delete empty containers."
    assert caught.value.status == 409
    owner.delete(tree, recursive=True)
    assert not owner.exists(tree)
    assert owner.list(place) == []


def test_the_storage_of_a_resource_is_the_pod(css: CssServer, place: str, owner: Pod) -> None:
    owner.put_graph(place + "deep/in/here.ttl", _graph("x"))
    assert owner.storage_of(place + "deep/in/here.ttl") == css.owner.pod


# -- access control (CSS's file.json uses WAC) -----------------------------------------------------


def test_grant_read_to_the_other_person_then_revoke(
    css: CssServer, place: str, owner: Pod, other: Pod
) -> None:
    url = place + "shared.ttl"
    owner.put_graph(url, _graph("shared"))
    with pytest.raises(Forbidden):
        other.get_graph(url)

    acl.grant(owner, url, ["Read"], agent=css.other.webid)
    assert acl.acl_url(owner, url) == url + ".acl"  # CSS's Link rel="acl"
    rules = acl.show(owner, url)
    assert any(r.subject == f"agent {css.other.webid}" and r.modes == {"Read"} for r in rules)
    assert _names(other.get_graph(url).graph) == {"shared"}
    with pytest.raises(Forbidden):  # Read only
        other.put_graph(url, _graph("vandal"))
    assert _names(owner.get_graph(url).graph) == {"shared"}  # the owner kept their rights

    acl.revoke(owner, url, ["Read"], agent=css.other.webid)
    with pytest.raises(Forbidden):
        other.get_graph(url)
    assert _names(owner.get_graph(url).graph) == {"shared"}


def test_a_container_grant_is_inherited(css: CssServer, place: str, owner: Pod, other: Pod) -> None:
    folder = place + "team/"
    owner.put_graph(folder + "notes.ttl", _graph("notes"))
    acl.grant(owner, folder, ["Read", "Append"], agent=css.other.webid)  # default: True for containers
    assert [entry.url for entry in other.list(folder)] == [folder + "notes.ttl"]
    assert _names(other.get_graph(folder + "notes.ttl").graph) == {"notes"}


def test_grant_public_read(place: str, owner: Pod, public: Pod) -> None:
    url = place + "open.ttl"
    owner.put_graph(url, _graph("open"))
    acl.grant(owner, url, ["Read"], public=True)
    assert _names(public.get_graph(url).graph) == {"open"}
    acl.revoke(owner, url, public=True)
    with pytest.raises(NotAuthenticated):
        public.get_graph(url)


def test_an_acl_of_its_own_is_not_found_until_granted(place: str, owner: Pod) -> None:
    url = place + "inherits.ttl"
    owner.put_graph(url, _graph("x"))
    with pytest.raises(NotFound):
        acl.show(owner, url)


# -- notifications (WebSocketChannel2023) ----------------------------------------------------------


def test_watch_yields_an_event_on_a_write(place: str, owner: Pod) -> None:
    url = place + "watched.ttl"
    owner.put_graph(url, _graph("before"))
    with notifications.watch(owner, url, timeout=15) as changes:
        assert changes.channel["topic"] == url
        owner.put_graph(url, _graph("after"))
        event = next(changes)
    assert isinstance(event, dict)
    assert event["type"] == "Update"
    assert event["object"] == url


def test_a_container_watch_sees_a_child_added_and_removed(place: str, owner: Pod) -> None:
    """Notifications Protocol (Activity Streams): a container's topic gets ``Add`` and ``Remove``
    with the child as ``object`` and the container as ``target``, as CSS sends them."""
    child = place + "born.ttl"
    with notifications.watch(owner, place, timeout=15) as changes:
        owner.put_graph(child, _graph("new"))
        added = next(changes)
        owner.delete(child)
        removed = next(changes)
    assert isinstance(added, dict) and isinstance(removed, dict)
    assert (added["type"], added["object"], added["target"]) == ("Add", child, place)
    assert (removed["type"], removed["object"], removed["target"]) == ("Remove", child, place)


def test_after_unsubscribing_writes_send_nothing(place: str, owner: Pod) -> None:
    """CSS keeps the socket open after the channel is deleted (the protocol does not require it
    to close), so the watch ends by its timeout, with no notification for a later write."""
    url = place + "short.ttl"
    owner.put_graph(url, _graph("x"))
    with notifications.watch(owner, url, timeout=2) as changes:
        notifications.unsubscribe(owner, changes.channel["id"])
        owner.put_graph(url, _graph("y"))
        with pytest.raises((TimeoutError, StopIteration)):
            next(changes)


def test_the_other_person_cannot_subscribe_to_a_private_topic(place: str, owner: Pod, other: Pod) -> None:
    url = place + "hidden.ttl"
    owner.put_graph(url, _graph("x"))
    with pytest.raises(Forbidden):
        notifications.subscribe(other, url)


# -- the profile and type indexes ------------------------------------------------------------------


def test_the_profile_names_the_webid(css: CssServer, owner: Pod) -> None:
    document = profile.profile(owner, css.owner.webid)
    assert URIRef(css.owner.webid) in set(document.graph.subjects())


def test_a_css_profile_has_no_type_indexes_so_nothing_is_found(css: CssServer, owner: Pod) -> None:
    """A new CSS 7 pod's profile links no storage (pim:storage), no preferences file and no type
    index: the helpers answer "nothing" rather than fail."""
    assert profile.storages(owner, css.owner.webid) == []
    assert profile.type_indexes(owner, css.owner.webid) == (None, None)
    assert profile.find_locations(owner, css.owner.webid, str(SDO.Recipe)) == []


@pytest.mark.parametrize("public_index", [True, False], ids=["public", "private"])
def test_register_on_a_profile_without_type_indexes(
    css: CssServer, place: str, owner: Pod, public_index: bool
) -> None:
    """With no type index, ``register`` either makes one (and links it: the public one from the
    profile, the private one from a preferences file) or refuses with an error that says so."""
    location = place + "recipes/"
    kind = str(SDO.Recipe) if public_index else str(SDO.Book)
    try:
        profile.register(owner, css.owner.webid, kind, location, public=public_index)
    except PodClientError as exc:
        assert "index" in exc.message.lower(), exc.message
        return
    assert location in profile.find_locations(owner, css.owner.webid, kind)
    public_index_url, private_index_url = profile.type_indexes(owner, css.owner.webid)
    assert (public_index_url if public_index else private_index_url) is not None


def test_type_indexes_made_by_hand_are_found_and_registered_in(
    css: CssServer, owner: Pod, other: Pod
) -> None:
    """Links a public type index from the profile and a private one through a preferences file,
    as the Type Indexes spec has it (runs last: the profile keeps them). Then ``register`` adds
    to each by PATCH, and ``find_locations`` reads both for the owner, only the public one for
    someone else (the private index and the preferences file are the owner's alone)."""
    webid, settings = URIRef(css.owner.webid), css.owner.pod + "settings/"
    public_index, private_index = settings + "publicTypeIndex.ttl", settings + "privateTypeIndex.ttl"
    preferences = settings + "prefs.ttl"
    for url, listed in ((public_index, SOLID.ListedDocument), (private_index, SOLID.UnlistedDocument)):
        index = Graph()
        index.add((URIRef(url), RDF.type, SOLID.TypeIndex))
        index.add((URIRef(url), RDF.type, listed))
        owner.put_graph(url, index)
    acl.grant(owner, public_index, ["Read"], public=True)
    prefs = Graph()
    prefs.add((webid, SOLID.privateTypeIndex, URIRef(private_index)))
    owner.put_graph(preferences, prefs)

    def link(card: Graph) -> None:
        card.add((webid, SOLID.publicTypeIndex, URIRef(public_index)))
        card.add((webid, PIM.preferencesFile, URIRef(preferences)))

    owner.update_graph(profile.profile(owner, css.owner.webid).url, link)
    assert profile.type_indexes(owner, css.owner.webid) == (public_index, private_index)
    assert profile.type_indexes(other, css.owner.webid) == (public_index, None)

    shared, mine = css.owner.pod + "recipes/", css.owner.pod + "diary.ttl"
    profile.register(owner, css.owner.webid, str(SDO.Recipe), shared, public=True)
    profile.register(owner, css.owner.webid, str(SDO.Recipe), mine)
    profile.register(owner, css.owner.webid, str(SDO.Recipe), mine)  # again: no duplicate
    assert profile.find_locations(owner, css.owner.webid, str(SDO.Recipe)) == [shared, mine]
    assert profile.find_locations(other, css.owner.webid, str(SDO.Recipe)) == [shared]
    assert profile.find_locations(owner, css.owner.webid, str(SDO.Book)) == []
    private = owner.get_graph(private_index).graph
    assert len(set(private.subjects(SOLID.instance, URIRef(mine)))) == 1
