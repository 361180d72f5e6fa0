"""The community agent reads as C with exactly the access members granted C: from the store for
local URLs (WAC checked), over HTTP with a DPoP-bound token for C elsewhere (here: a member whose
pod is on a second live server)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from rdflib import Graph, URIRef

from pod_server.community.agent import CommunityAgent
from pod_server.errors import UnprocessableContent
from tests.access.helpers import log_in, make_person
from tests.community.helpers import found, post, write_member_half
from tests.conftest import LiveServer, _serve


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("agent-a"), single_pod=False, fetch_allow_private=True)


@pytest.fixture(scope="module")
def other(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("agent-b"), single_pod=False, fetch_allow_private=True)


def agent_of(server: LiveServer) -> CommunityAgent:
    found: CommunityAgent = server.app.extensions["pod_server.community"].service.agent
    return found


def test_local_reads_follow_wac_for_the_reader(server: LiveServer) -> None:
    bob = make_person(server, "bob")
    bob_agent = log_in(server, bob)
    C = f"{server.url}c{uuid.uuid4().hex[:8]}/profile/card#me"
    readable = write_member_half(bob_agent, bob, C)
    agent = agent_of(server)
    assert (URIRef(readable), None, None) in agent.graph(C, readable)
    # Someone else is refused: the owner granted C, not them.
    assert agent.get(f"{server.url}x/profile/card#me", readable).status == 403
    with pytest.raises(UnprocessableContent, match="could not be read"):
        agent.graph(f"{server.url}x/profile/card#me", readable)
    # A missing resource C may not read is refused, not reported missing (WAC: no existence leak).
    assert agent.get(C, bob.pod + "nothing-here").status == 403


def test_notify_is_best_effort(server: LiveServer) -> None:
    bob = make_person(server, "bob")
    agent = agent_of(server)
    C = f"{server.url}c/profile/card#me"
    note = Graph()
    note.add(
        (
            URIRef("urn:uuid:" + uuid.uuid4().hex),
            URIRef("https://www.w3.org/ns/activitystreams#summary"),
            URIRef(C),
        )
    )
    assert agent.notify(C, bob.webid, note) is True
    assert agent.notify(C, f"{server.url}nobody/profile/card#me", note) is False  # no profile
    assert agent.notify(C, "http://127.0.0.1:9/closed#me", note) is False  # nobody listening


def test_a_member_on_another_server_confirms(server: LiveServer, other: LiveServer) -> None:
    alice = make_person(server, "alice")
    community = found(server, alice, log_in(server, alice), "c" + uuid.uuid4().hex[:10])
    bob = make_person(other, "bob")  # Bob's pod and WebID live on the other server
    bob_agent = log_in(other, bob)

    invited = post(community.admin, community.endpoint("invite"), {"webid": bob.webid})
    assert invited.status_code == 201, invited.text
    assert invited.json()["notified"] is True  # LDN POSTed to Bob's inbox on the other server, as C

    # Bob's half is readable by C only: the server must fetch it with a token for C.
    half = write_member_half(bob_agent, bob, community.webid)
    assert bob_agent.get(half).status_code == 200
    confirmed = post(bob_agent, community.endpoint("confirm"), {"membership": half})
    assert confirmed.status_code == 200, confirmed.text
    assert community.members() == {alice.webid, bob.webid}
