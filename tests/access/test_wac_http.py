"""Web Access Control over real HTTP, with real DPoP-bound tokens from our own identity provider.

Alice owns the pod. Each case gets a fresh container ``c-*/`` holding ``doc.ttl``; Alice writes
the container's ACL: her own full control plus the one grant under test (``acl:accessTo`` and
``acl:default`` the container, so ``doc.ttl`` inherits it). Then someone tries something.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread
from typing import Any

import pytest
import requests

from pod_server.vocab import ACL
from tests.access.helpers import PUBLIC, Agent, Person, log_in, make_person
from tests.conftest import LiveServer, _serve
from tests.http.helpers import links
from tests.idp.helpers import AppSite, app_site

ORIGIN = "https://app.example"
PREFIXES = "@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
DOC = b"<#a> <http://example.org/p> <#b> ."


@dataclass
class World:
    server: LiveServer
    site: AppSite
    alice: Person
    agents: dict[str, Agent]

    @property
    def pod(self) -> str:
        return self.alice.pod


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with app_site() as site:
        for server in _serve(
            tmp_path_factory.mktemp("wac"),
            single_pod=False,
            backend="filesystem",
            fetch_allow_hosts=("127.0.0.1",),  # the remote group lives on the test site
        ):
            alice, bob, carol, dave = (make_person(server, n) for n in ("alice", "bob", "carol", "dave"))
            agents = {
                "alice": log_in(server, alice),
                "bob": log_in(server, bob, "app"),
                "bob-other-app": log_in(server, bob, "other"),
                "carol": log_in(server, carol),
                "dave": log_in(server, dave),
                "public": PUBLIC,
            }
            agents["bob@origin"] = agents["bob"].from_origin(ORIGIN)
            agents["bob@elsewhere"] = agents["bob"].from_origin("https://evil.example")
            agents["public@origin"] = PUBLIC.from_origin(ORIGIN)
            group = f"<#it> <http://www.w3.org/2006/vcard/ns#hasMember> <{carol.webid}> ."
            assert agents["alice"].put(alice.pod + "groups/team", group.encode()).status_code == 201
            site.documents["/team"] = (200, {"Content-Type": "text/turtle"}, group.encode())
            yield World(server, site, alice, agents)


def auth(name: str, subject: str, target: str, modes: str) -> str:
    """One ``acl:Authorization`` in Turtle: ``auth("g", "acl:agent <w>", "acl:accessTo <c>", "acl:Read")``."""
    return f"<#{name}> a acl:Authorization; {subject}; {target}; acl:mode {modes} .\n"


def grant(world: World, kind: str, modes: str, container: str) -> str:
    """The Turtle of one authorization of ``kind`` with ``modes`` on ``container`` (and, by
    default, everything in it)."""
    bob = world.agents["bob"]
    target = f"acl:accessTo <{container}>; acl:default <{container}>"
    me = f"acl:agent <{bob.webid}>"
    subjects = {
        "public": "acl:agentClass foaf:Agent",
        "authenticated": "acl:agentClass acl:AuthenticatedAgent",
        "bob": f"acl:agent <{bob.webid}>",
        "group": f"acl:agentGroup <{world.pod}groups/team#it>",
        "remote-group": f"acl:agentGroup <{world.site.url}team#it>",
        "origin": f"acl:agent <{bob.webid}>; acl:origin <{ORIGIN}>",
        "origin-only": f"acl:origin <{ORIGIN}>",
        "client": f'{me}; acl:condition [ a acl:ClientCondition; acl:client "{bob.client_id}" ]',
        "issuer": f"{me}; acl:condition [ a acl:IssuerCondition; acl:issuer <{world.server.url}> ]",
        "other-issuer": f"{me}; acl:condition [ a acl:IssuerCondition; acl:issuer <https://idp.example/> ]",
        "unknown-condition": f"{me}; acl:condition [ a <https://example.org/TimeCondition> ]",
    }
    return auth("grant", subjects[kind], target, modes)


def owner_rule(world: World, container: str) -> str:
    return (
        f"<#owner> a acl:Authorization; acl:agent <{world.alice.webid}>; acl:accessTo <{container}>; "
        f"acl:default <{container}>; acl:mode acl:Read, acl:Write, acl:Control .\n"
    )


def fresh_container(world: World, rules: str = "") -> str:
    """A new container holding ``doc.ttl``, its ACL Alice's control plus ``rules`` (where
    ``<CONTAINER>`` stands for the container's URL)."""
    container = f"{world.pod}c-{uuid.uuid4().hex[:8]}/"
    alice = world.agents["alice"]
    assert alice.put(container + "doc.ttl", DOC).status_code == 201
    acl = PREFIXES + owner_rule(world, container) + rules.replace("<CONTAINER>", f"<{container}>")
    r = alice.put(container + ".acl", acl.encode())
    assert r.status_code == 201, r.text
    return container


INSERT = 'INSERT DATA { <#c> <http://example.org/p> "new" . }'
DELETE = "DELETE DATA { <#a> <http://example.org/p> <#b> . }"
WHERE = (
    'DELETE { ?s <http://example.org/p> ?o } INSERT { ?s <http://example.org/p> "x" } '
    "WHERE { ?s <http://example.org/p> ?o }"
)


def attempt(agent: Agent, action: str, container: str) -> requests.Response:
    doc = container + "doc.ttl"
    actions: dict[str, Any] = {
        "GET doc": lambda: agent.get(doc),
        "HEAD doc": lambda: agent.head(doc),
        "OPTIONS doc": lambda: agent.request("OPTIONS", doc),
        "GET container": lambda: agent.get(container),
        "PUT doc": lambda: agent.put(doc, DOC),
        "PUT new": lambda: agent.put(container + "new.ttl", DOC),
        "PUT new/deep": lambda: agent.put(container + "new/deep/x.ttl", DOC),
        "POST container": lambda: agent.post(container, DOC),
        "PATCH insert": lambda: agent.patch(doc, INSERT),
        "PATCH delete": lambda: agent.patch(doc, DELETE),
        "PATCH where": lambda: agent.patch(doc, WHERE),
        "PATCH new": lambda: agent.patch(container + "patched.ttl", INSERT),
        "DELETE doc": lambda: agent.delete(doc),
        "GET acl": lambda: agent.get(container + ".acl"),
        "GET doc acl": lambda: agent.get(doc + ".acl"),
        "GET meta": lambda: agent.get(doc + ".meta"),
    }
    response: requests.Response = actions[action]()
    return response


TABLE = [
    # grant kind, modes, who, action, status
    ("public", "acl:Read", "public", "GET doc", 200),
    ("public", "acl:Read", "public", "HEAD doc", 200),
    ("public", "acl:Read", "public", "OPTIONS doc", 204),
    ("public", "acl:Read", "public", "GET container", 200),
    ("public", "acl:Read", "public", "GET meta", 200),
    ("public", "acl:Read", "public", "PUT doc", 401),
    ("public", "acl:Read", "dave", "PUT doc", 403),
    ("public", "acl:Read", "public", "GET acl", 401),
    ("public", "acl:Append", "public", "POST container", 201),
    ("public", "acl:Append", "public", "GET doc", 401),
    ("bob", "acl:Read", "bob", "GET doc", 200),
    ("bob", "acl:Read", "dave", "GET doc", 403),
    ("bob", "acl:Read", "public", "GET doc", 401),
    ("bob", "acl:Read", "public", "OPTIONS doc", 401),
    ("bob", "acl:Read", "bob", "PUT doc", 403),
    ("bob", "acl:Read", "bob", "PATCH insert", 403),
    ("bob", "acl:Read", "bob", "GET acl", 403),
    ("bob", "acl:Read", "bob", "GET doc acl", 403),
    ("bob", "acl:Append", "bob", "POST container", 201),
    ("bob", "acl:Append", "bob", "PATCH insert", 204),
    ("bob", "acl:Append", "bob", "PATCH new", 201),
    ("bob", "acl:Append", "bob", "PATCH delete", 403),
    ("bob", "acl:Append", "bob", "PUT doc", 403),
    ("bob", "acl:Append", "bob", "PUT new", 403),
    ("bob", "acl:Append", "bob", "DELETE doc", 403),
    ("bob", "acl:Append", "bob", "GET doc", 403),
    ("bob", "acl:Write", "bob", "PUT doc", 204),
    ("bob", "acl:Write", "bob", "PUT new", 201),
    ("bob", "acl:Write", "bob", "PUT new/deep", 201),
    ("bob", "acl:Write", "bob", "POST container", 201),
    ("bob", "acl:Write", "bob", "PATCH insert", 204),
    ("bob", "acl:Write", "bob", "PATCH delete", 204),
    ("bob", "acl:Write", "bob", "PATCH where", 403),
    ("bob", "acl:Read, acl:Write", "bob", "PATCH where", 204),
    ("bob", "acl:Write", "bob", "DELETE doc", 204),
    ("bob", "acl:Write", "bob", "GET doc", 403),
    ("bob", "acl:Write", "bob", "GET acl", 403),
    ("bob", "acl:Control", "bob", "GET acl", 200),
    ("bob", "acl:Control", "bob", "GET doc acl", 404),
    ("bob", "acl:Control", "bob", "GET doc", 403),
    ("authenticated", "acl:Read", "dave", "GET doc", 200),
    ("authenticated", "acl:Read", "public", "GET doc", 401),
    ("group", "acl:Read", "carol", "GET doc", 200),
    ("group", "acl:Write", "carol", "PUT doc", 204),
    ("group", "acl:Read", "dave", "GET doc", 403),
    ("remote-group", "acl:Read", "carol", "GET doc", 200),
    ("remote-group", "acl:Read", "dave", "GET doc", 403),
    ("remote-group", "acl:Read", "public", "GET doc", 401),
    ("origin", "acl:Read", "bob@origin", "GET doc", 200),
    ("origin", "acl:Read", "bob@elsewhere", "GET doc", 403),
    ("origin", "acl:Read", "bob", "GET doc", 200),  # no Origin header: acl:origin is not considered
    ("origin", "acl:Read", "dave", "GET doc", 403),
    ("origin-only", "acl:Read", "public@origin", "GET doc", 200),
    ("origin-only", "acl:Read", "public", "GET doc", 401),
    ("client", "acl:Read", "bob", "GET doc", 200),
    ("client", "acl:Read", "bob-other-app", "GET doc", 403),
    ("client", "acl:Read", "public", "GET doc", 401),
    ("issuer", "acl:Read", "bob", "GET doc", 200),
    ("other-issuer", "acl:Read", "bob", "GET doc", 403),
    ("unknown-condition", "acl:Read", "bob", "GET doc", 403),
]


@pytest.mark.parametrize("kind,modes,who,action,status", TABLE)
def test_wac_table(world: World, kind: str, modes: str, who: str, action: str, status: int) -> None:
    container = fresh_container(world)
    rules = PREFIXES + owner_rule(world, container) + grant(world, kind, modes, container)
    assert world.agents["alice"].put(container + ".acl", rules.encode()).status_code == 204
    r = attempt(world.agents[who], action, container)
    assert r.status_code == status, r.text
    if status == 401:
        assert r.headers["WWW-Authenticate"].startswith("DPoP")


# -- effective ACL ------------------------------------------------------------------------------
def test_access_to_and_default_are_separate(world: World) -> None:
    bob = world.agents["bob"]
    webid = bob.webid
    container = f"{world.pod}c-{uuid.uuid4().hex[:8]}/"
    alice = world.agents["alice"]
    assert alice.put(container + "doc.ttl", DOC).status_code == 201
    rules = PREFIXES + owner_rule(world, container)
    access_to = (
        rules
        + f"<#g> a acl:Authorization; acl:agent <{webid}>; acl:accessTo <{container}>; acl:mode acl:Read ."
    )
    assert alice.put(container + ".acl", access_to.encode()).status_code == 201
    assert bob.get(container).status_code == 200
    assert bob.get(container + "doc.ttl").status_code == 403  # accessTo is not inherited
    default = (
        rules
        + f"<#g> a acl:Authorization; acl:agent <{webid}>; acl:default <{container}>; acl:mode acl:Read ."
    )
    assert alice.put(container + ".acl", default.encode()).status_code == 204
    assert bob.get(container).status_code == 403  # default alone is not about the container
    assert bob.get(container + "doc.ttl").status_code == 200


def test_the_nearest_acl_wins_and_rules_from_other_subjects_count(world: World) -> None:
    bob = world.agents["bob"]
    container = fresh_container(
        world,
        f"<#g> a acl:Authorization; acl:agent <{bob.webid}>; acl:accessTo <CONTAINER>; acl:mode acl:Read .",
    )
    alice = world.agents["alice"]
    rule = (
        f"<#r> a acl:Authorization; acl:agent <{bob.webid}>; acl:default <{container}>; acl:mode acl:Read ."
    )
    assert alice.patch(container + ".acl", f"INSERT DATA {{ {_triples(rule)} }}").status_code == 204
    assert bob.get(container + "doc.ttl").status_code == 200
    # The document's own ACL replaces what it inherited; its rule has an IRI in another document.
    own = PREFIXES + (
        f"<{world.pod}elsewhere#rule> a acl:Authorization; acl:agent <{world.alice.webid}>; "
        f"acl:accessTo <{container}doc.ttl>; acl:mode acl:Read, acl:Control ."
    )
    assert alice.put(container + "doc.ttl.acl", own.encode()).status_code == 201
    assert alice.get(container + "doc.ttl").status_code == 200
    assert bob.get(container + "doc.ttl").status_code == 403


def _triples(turtle: str) -> str:
    return (
        turtle.replace("a acl:Authorization", f"a <{ACL.Authorization}>")
        .replace("acl:agent ", f"<{ACL.agent}> ")
        .replace("acl:default ", f"<{ACL.default}> ")
        .replace("acl:mode acl:Read", f"<{ACL.mode}> <{ACL.Read}>")
    )


# -- Control and ACL documents --------------------------------------------------------------------
def test_a_client_creates_an_acl_with_patch(world: World) -> None:
    """Today's clients create a missing .acl with SPARQL INSERT DATA; Control is what it takes."""
    bob, alice = world.agents["bob"], world.agents["alice"]
    container = fresh_container(world)
    doc_acl = container + "doc.ttl.acl"
    assert alice.get(doc_acl).status_code == 404
    body = (
        f"INSERT DATA {{ <#a> a <{ACL.Authorization}>; <{ACL.agent}> <{world.alice.webid}>, <{bob.webid}>; "
        f"<{ACL.accessTo}> <{container}doc.ttl>; <{ACL.mode}> <{ACL.Read}>, <{ACL.Control}> . }}"
    )
    assert bob.patch(doc_acl, body).status_code == 403  # no Control yet
    assert alice.patch(doc_acl, body).status_code == 201
    assert bob.get(container + "doc.ttl").status_code == 200
    assert bob.get(doc_acl).status_code == 200  # Control now: bob may read and change the ACL
    assert bob.patch(doc_acl, f"DELETE DATA {{ <#a> <{ACL.agent}> <{bob.webid}> . }}").status_code == 204
    assert bob.get(container + "doc.ttl").status_code == 403


def test_acl_resources_advertise_the_condition_types(world: World) -> None:
    container = fresh_container(world)
    r = world.agents["alice"].head(container + ".acl")
    assert links(r)[str(ACL.condition)] == {str(ACL.ClientCondition), str(ACL.IssuerCondition)}
    assert str(ACL.condition) not in links(world.agents["alice"].head(container))


def test_the_owner_cannot_lock_themselves_out(world: World) -> None:
    alice, bob = world.agents["alice"], world.agents["bob"]
    pod_acl = world.pod + ".acl"
    original = alice.get(pod_acl, headers={"Accept": "text/turtle"})
    assert original.status_code == 200
    everything = f"acl:accessTo <{world.pod}>; acl:default <{world.pod}>"
    lockout = PREFIXES + auth("only-bob", f"acl:agent <{bob.webid}>", everything, "acl:Read")
    try:
        assert alice.put(pod_acl, lockout.encode()).status_code == 204
        assert alice.get(world.pod).status_code == 403  # her own rules say no
        assert alice.get(world.pod + "profile/card").status_code == 200  # its own ACL still names her
        assert alice.get(pod_acl).status_code == 200  # but the ACL is always hers
        assert bob.get(pod_acl).status_code == 403
    finally:
        assert alice.put(pod_acl, original.content).status_code == 204
    assert alice.get(world.pod).status_code == 200


# -- what responses say ---------------------------------------------------------------------------
def test_wac_allow_reports_user_and_public_modes(world: World) -> None:
    bob = world.agents["bob"]
    container = fresh_container(
        world,
        f"<#b> a acl:Authorization; acl:agent <{bob.webid}>; acl:default <CONTAINER>; acl:mode acl:Write .\n"
        f"<#p> a acl:Authorization; acl:agentClass foaf:Agent; acl:default <CONTAINER>; acl:mode acl:Read .",
    )
    doc = container + "doc.ttl"
    assert bob.get(doc).headers["WAC-Allow"] == 'user="read append write",public="read"'
    assert PUBLIC.head(doc).headers["WAC-Allow"] == 'user="read",public="read"'
    alice = world.agents["alice"]
    assert alice.get(container + ".acl").headers["WAC-Allow"] == 'user="read append write control",public=""'


def test_denied_reads_reveal_nothing(world: World) -> None:
    container = fresh_container(world)
    for who, status in (("public", 401), ("dave", 403)):
        agent = world.agents[who]
        there, missing = agent.get(container + "doc.ttl"), agent.get(container + "missing.ttl")
        assert there.status_code == missing.status_code == status
        for r in (there, missing):
            problem = r.json()
            assert "doc.ttl" not in r.text and "missing" not in r.text and "acl" not in problem["detail"]
            assert "ETag" not in r.headers and "WAC-Allow" not in r.headers
        assert there.json()["detail"] == missing.json()["detail"]


def test_delete_needs_write_on_the_container_too(world: World) -> None:
    bob, alice = world.agents["bob"], world.agents["alice"]
    container = fresh_container(world)
    doc = container + "doc.ttl"
    own = PREFIXES + (
        auth(
            "a",
            f"acl:agent <{world.alice.webid}>",
            f"acl:accessTo <{doc}>",
            "acl:Read, acl:Write, acl:Control",
        )
        + auth("b", f"acl:agent <{bob.webid}>", f"acl:accessTo <{doc}>", "acl:Read, acl:Write")
    )
    assert alice.put(doc + ".acl", own.encode()).status_code == 201
    assert bob.put(doc, DOC).status_code == 204  # Write on the document itself
    assert bob.delete(doc).status_code == 403  # but not on its container
    rule = (
        f"<#c> a acl:Authorization; acl:agent <{bob.webid}>; acl:accessTo <{container}>; acl:mode acl:Write ."
    )
    container_acl = PREFIXES + owner_rule(world, container) + rule
    assert alice.put(container + ".acl", container_acl.encode()).status_code == 204
    assert bob.delete(doc).status_code == 204


# -- remote groups never hold a request for long --------------------------------------------------
class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(6)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_a_dead_remote_group_is_bounded_and_remembered(world: World) -> None:
    slow = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    Thread(target=slow.serve_forever, daemon=True).start()
    try:
        bob = world.agents["bob"]
        container = fresh_container(
            world,
            f"<#g> a acl:Authorization; acl:agentGroup <http://127.0.0.1:{slow.server_port}/g#it>; "
            f"acl:default <CONTAINER>; acl:mode acl:Read .",
        )
        start = time.monotonic()
        assert bob.get(container + "doc.ttl").status_code == 403
        first = time.monotonic() - start
        assert first < 4.0, first  # the group fetch gives up after 2 s
        start = time.monotonic()
        assert bob.get(container + "doc.ttl").status_code == 403
        assert time.monotonic() - start < 1.0  # the failure is remembered
    finally:
        slow.shutdown()
        slow.server_close()


def test_only_authorizations_and_iris_count(world: World) -> None:
    """Rules need a type, a mode, an object and a subject (WAC §6.2); anything else is ignored."""
    bob = world.agents["bob"]
    container = fresh_container(
        world,
        f"<#untyped> acl:agent <{bob.webid}>; acl:default <CONTAINER>; acl:mode acl:Read .\n"
        f"<#nomode> a acl:Authorization; acl:agent <{bob.webid}>; acl:default <CONTAINER> .",
    )
    assert bob.get(container + "doc.ttl").status_code == 403
