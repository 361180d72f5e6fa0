"""Two-sided memberships (model §4) through the endpoints of model §5: invite, confirm,
accept, leave, sync, and the roster. Every refusal leaves the community pod byte-for-byte as it was."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from rdflib import Graph, URIRef

from tests.access.helpers import PUBLIC, Agent, Person, log_in, make_person
from tests.community.helpers import Founded, found, key, post, snapshot, write_member_half
from tests.conftest import LiveServer, _serve

AS = "https://www.w3.org/ns/activitystreams#"
VCARD_MEMBER = URIRef("http://www.w3.org/2006/vcard/ns#hasMember")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("membership"), single_pod=False, fetch_allow_private=True)


@pytest.fixture
def community(server: LiveServer) -> Founded:
    alice = make_person(server, "alice")
    return found(server, alice, log_in(server, alice), "c" + uuid.uuid4().hex[:10])


def person(server: LiveServer, name: str) -> tuple[Person, Agent]:
    made = make_person(server, name)
    return made, log_in(server, made)


def group(c: Founded, name: str) -> set[str]:
    answer = PUBLIC.get(f"{c.url}groups/{name}", headers={"Accept": "text/turtle"})
    assert answer.status_code == 200
    graph = Graph().parse(data=answer.text, format="turtle", publicID=f"{c.url}groups/{name}")
    return {str(o) for o in graph.objects(URIRef(f"{c.url}groups/{name}#group"), VCARD_MEMBER)}


def join(c: Founded, server: LiveServer, name: str = "bob", role: str | None = None) -> tuple[Person, Agent]:
    """Invite, write the member half, confirm: a confirmed member."""
    who, agent = person(server, name)
    invited = post(c.admin, c.endpoint("invite"), {"webid": who.webid, **({"role": role} if role else {})})
    assert invited.status_code == 201, invited.text
    half = write_member_half(agent, who, c.webid)
    confirmed = post(agent, c.endpoint("confirm"), {"membership": half})
    assert confirmed.status_code == 200, confirmed.text
    return who, agent


def test_invite_then_confirm(server: LiveServer, community: Founded) -> None:
    bob, agent = person(server, "bob")
    invited = post(community.admin, community.endpoint("invite"), {"webid": bob.webid})
    assert invited.status_code == 201, invited.text
    assert invited.json() == {"membership": community.half_of(bob.webid), "notified": True}
    assert community.pending() == {bob.webid}
    assert bob.webid not in group(community, "members")
    # The invitation reached Bob's inbox (LDN), from the community agent.
    inbox = agent.get(bob.pod + "inbox/", headers={"Accept": "text/turtle"}).text
    note_url = next(line.split("<")[1].split(">")[0] for line in inbox.splitlines() if "ldp:contains" in line)
    note = Graph().parse(data=agent.get(note_url).text, format="turtle", publicID=note_url)
    assert (None, URIRef(AS + "actor"), URIRef(community.webid)) in note
    assert (None, None, URIRef(AS + "Invite")) in note

    half = write_member_half(agent, bob, community.webid)
    confirmed = post(agent, community.endpoint("confirm"), {"membership": half})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["confirmed"] is True
    assert confirmed.json()["roles"] == ["member"]
    assert community.members() == {community.founder.webid, bob.webid}
    assert group(community, "members") == {community.founder.webid, bob.webid}
    assert group(community, "admin") == {community.founder.webid}
    # Members read the members-only parts now (the derived group is in the ACLs).
    assert agent.get(community.url + "proposals/").status_code == 200

    again = post(community.admin, community.endpoint("invite"), {"webid": bob.webid})
    assert again.status_code == 409


def test_invite_with_a_role(server: LiveServer, community: Founded) -> None:
    carol, _ = join(community, server, "carol", role="maintainer")
    assert group(community, "maintainer") == {carol.webid}
    entry = next(m for m in community.roster()["members"] if m["webid"] == carol.webid)
    assert entry["roles"] == ["maintainer", "member"]
    assert (
        post(
            community.admin, community.endpoint("invite"), {"webid": carol.webid + "x", "role": "king"}
        ).status_code
        == 400
    )


def test_a_custom_role_added_by_an_admin(server: LiveServer, community: Founded) -> None:
    """Roles are data: an admin adds one to {c}roles with an N3 Patch; it can be given at once
    and gets its own derived group."""
    patch = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#> . @prefix org: <http://www.w3.org/ns/org#> .\n"
        "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        "_:p a solid:InsertDeletePatch ;\n"
        '  solid:inserts { <#translator> a org:Role ; rdfs:label "translator" } .'
    )
    added = community.admin.patch(
        community.url + "roles", data=patch.encode(), headers={"Content-Type": "text/n3"}
    )
    assert added.status_code in (200, 204), added.text
    erin, _ = join(community, server, "erin", role="translator")
    assert group(community, "translator") == {erin.webid}
    entry = next(m for m in community.roster()["members"] if m["webid"] == erin.webid)
    assert entry["roles"] == ["member", "translator"]
    # Only admins may change the roles.
    refused = PUBLIC.patch(community.url + "roles", data=patch.encode(), headers={"Content-Type": "text/n3"})
    assert refused.status_code == 401


def test_accept_a_join_request(server: LiveServer, community: Founded) -> None:
    dave, agent = person(server, "dave")
    half = write_member_half(agent, dave, community.webid)
    accepted = post(community.admin, community.endpoint("accept"), {"membership": half})
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["confirmed"] is True
    assert dave.webid in community.members()
    assert post(community.admin, community.endpoint("accept"), {"membership": half}).status_code == 409


def test_leave_and_sync(server: LiveServer, community: Founded) -> None:
    bob, bob_agent = join(community, server, "bob")
    carol, carol_agent = join(community, server, "carol")
    left = post(bob_agent, community.endpoint("leave"), {})
    assert left.status_code == 200, left.text
    assert bob.webid not in community.members() | community.pending()
    assert bob.webid not in group(community, "members")
    stored = Graph().parse(
        data=PUBLIC.get(community.half_of(bob.webid)).text,
        format="turtle",
        publicID=community.half_of(bob.webid),
    )
    assert (None, URIRef("http://www.w3.org/2006/time#hasEnd"), None) in stored
    assert (None, None, URIRef(AS + "Leave")) in stored
    assert post(bob_agent, community.endpoint("leave"), {}).status_code == 403

    # Carol deletes her half: her membership is no longer confirmed, and a sync drops her.
    assert carol_agent.delete(f"{carol.pod}memberships/{key(community.webid)}").status_code in (200, 204, 205)
    assert carol.webid in group(community, "members")
    synced = post(community.admin, community.endpoint("sync"), {})
    assert synced.status_code == 200, synced.text
    assert carol.webid in {m["webid"] for m in synced.json()["pending"]}
    assert carol.webid not in group(community, "members")


def test_parallel_invitations_all_land(server: LiveServer, community: Founded) -> None:
    people = [make_person(server, f"p{i}") for i in range(6)]
    answers: list[int] = []

    def invite(p: Person) -> None:
        answers.append(post(community.admin, community.endpoint("invite"), {"webid": p.webid}).status_code)

    threads = [threading.Thread(target=invite, args=(p,)) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert answers == [201] * len(people)
    assert community.pending() == {p.webid for p in people}


# -- refusals: nothing changes -----------------------------------------------------------------


def refused(c: Founded, agent: Agent, action: str, body: Any, status: int, **kw: Any) -> dict[str, Any]:
    before = snapshot(c.server, c.url)
    if isinstance(body, str):
        answer = agent.request("POST", c.endpoint(action), data=body, headers=kw.get("headers", {}))
    else:
        answer = post(agent, c.endpoint(action), body)
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    assert snapshot(c.server, c.url) == before
    problem: dict[str, Any] = answer.json()
    return problem


def test_a_forged_member_half_naming_someone_else(server: LiveServer, community: Founded) -> None:
    bob, bob_agent = person(server, "bob")
    carol, _ = person(server, "carol")
    assert post(community.admin, community.endpoint("invite"), {"webid": bob.webid}).status_code == 201
    # Bob's half says Carol is the member.
    forged = write_member_half(
        bob_agent, bob, community.webid, member=carol.webid, see_also=community.half_of(bob.webid)
    )
    problem = refused(community, bob_agent, "confirm", {"membership": forged}, 422)
    assert "org:member" in problem["detail"]


def test_a_member_half_outside_the_members_storage(server: LiveServer, community: Founded) -> None:
    alice_victim, _ = person(server, "victim")
    mallory, mallory_agent = person(server, "mallory")
    # Mallory writes, in her own pod, a half claiming the victim wants to join; an admin accepts it.
    forged = write_member_half(mallory_agent, mallory, community.webid, member=alice_victim.webid)
    problem = refused(community, community.admin, "accept", {"membership": forged}, 422)
    assert "pim:storage" in problem["detail"]


def test_a_member_half_pointing_at_another_community(server: LiveServer, community: Founded) -> None:
    bob, bob_agent = person(server, "bob")
    assert post(community.admin, community.endpoint("invite"), {"webid": bob.webid}).status_code == 201
    other = f"{server.url}elsewhere/members/{key(bob.webid)}#membership"
    half = write_member_half(bob_agent, bob, community.webid, see_also=other)
    problem = refused(community, bob_agent, "confirm", {"membership": half}, 422)
    assert "rdfs:seeAlso" in problem["detail"]


def test_a_member_half_the_community_may_not_read(server: LiveServer, community: Founded) -> None:
    bob, bob_agent = person(server, "bob")
    assert post(community.admin, community.endpoint("invite"), {"webid": bob.webid}).status_code == 201
    half = write_member_half(bob_agent, bob, community.webid, readable=False)
    problem = refused(community, bob_agent, "confirm", {"membership": half}, 422)
    assert "could not be read" in problem["detail"]


def test_confirm_without_an_invitation(server: LiveServer, community: Founded) -> None:
    eve, agent = person(server, "eve")
    half = write_member_half(agent, eve, community.webid)
    refused(community, agent, "confirm", {"membership": half}, 404)


@pytest.mark.parametrize("action", ["invite", "accept"])
def test_only_admins_invite_and_accept(server: LiveServer, community: Founded, action: str) -> None:
    _, member = join(community, server, "bob")
    _, maintainer = join(community, server, "mo", role="maintainer")
    outsider, outsider_agent = person(server, "out")
    half = write_member_half(outsider_agent, outsider, community.webid)
    body = {"webid": outsider.webid} if action == "invite" else {"membership": half}
    for agent in (member, maintainer, outsider_agent):
        problem = refused(community, agent, action, body, 403)
        assert "admin" in problem["detail"]
    refused(community, PUBLIC, action, body, 401)


@pytest.mark.parametrize("action", ["leave", "sync"])
def test_non_members_may_not_leave_or_sync(server: LiveServer, community: Founded, action: str) -> None:
    _, outsider = person(server, "out")
    refused(community, outsider, action, {}, 403)
    refused(community, PUBLIC, action, {}, 401)


@pytest.mark.parametrize(
    "body,headers,status",
    [
        ("{not json", {"Content-Type": "application/json"}, 400),
        ("[1, 2]", {"Content-Type": "application/json"}, 400),
        ('{"webid": 42}', {"Content-Type": "application/json"}, 400),
        ('{"webid": "not an iri"}', {"Content-Type": "application/json"}, 400),
        ('{"webid": "https://x.example/#me", "extra": 1}', {"Content-Type": "application/json"}, 400),
        ('{"webid": "https://x.example/#me"}', {"Content-Type": "text/turtle"}, 415),
    ],
)
def test_malformed_bodies(community: Founded, body: str, headers: dict[str, str], status: int) -> None:
    refused(community, community.admin, "invite", body, status, headers=headers)


def test_unknown_communities_and_actions(server: LiveServer, community: Founded) -> None:
    bob, agent = person(server, "bob")
    assert requests.get(bob.pod + ".well-known/community", timeout=10).status_code == 404  # a person's pod
    assert (
        requests.get(
            f"{server.url}nobody-{uuid.uuid4().hex[:6]}/.well-known/community", timeout=10
        ).status_code
        == 404
    )
    assert post(agent, bob.pod + ".well-known/community/invite", {"webid": bob.webid}).status_code == 404
    refused(community, community.admin, "crown", {}, 404)
    assert requests.put(community.endpoint(), data=b"{}", timeout=10).status_code == 405
