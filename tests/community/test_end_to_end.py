"""The whole community story on two live pod-servers (separate gunicorn processes), three people:

- Alice (server A) founds "commons" on A and is its first admin;
- Bob (server B) is invited and accepts; Carol (server A) asks to join and Alice accepts;
- Bob and Carol record contributions in their own pods; Alice acknowledges them;
- a value rule is adopted by a vote, the ledger service computes credit as the community's agent;
- Carol is removed by a vote.

Every step is checked in the RDF on both sides (the community pod and the member's pod, read over
HTTP like any Solid app would) and validated against the bundled shapes (shapes/). The tests run in
file order on one pair of servers; later steps build on earlier ones. Bad input is at the end:
each refusal is checked to leave the stored RDF exactly as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pod_client.community import Community, adopt_value_rule, remove_member
from pod_client.digest import content_digest
from pod_client.errors import PodClientError
from pod_client.ledger import RECOMPUTE_QUERY, compute_credit, period_bounds, write_report
from pod_client.session import Session
from rdflib import Graph, Literal, URIRef

from pod_server.shapes import ShapeLibrary
from pod_server.vocab import AS, CBPP, LDP, OPENGOV, ORG, PROV, RDF, RDFS, SCHEMA, TIME, VCARD, VF
from tests.community.two_servers import Server, User, register, two_servers

pytestmark = pytest.mark.slow

SHAPES = ShapeLibrary.bundled()


@dataclass
class World:
    a: Server
    b: Server
    alice: User
    bob: User
    carol: User
    mallory: User
    erin: User
    state: dict[str, Any]

    def community(self, user: User | None) -> Community:
        session = Session.anonymous() if user is None else user.session
        return Community(session, self.state["url"])


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp: Path = tmp_path_factory.mktemp("two-servers")
    with two_servers(tmp) as (a, b):
        yield World(
            a,
            b,
            alice=register(a, "alice"),
            bob=register(b, "bob"),
            carol=register(a, "carol"),
            mallory=register(b, "mallory"),
            erin=register(a, "erin"),
            state={},
        )


# -- reading and checking ------------------------------------------------------------------------


def read(user: User | None, url: str) -> Graph:
    """The RDF of ``url`` as ``user`` (or the public) reads it over HTTP."""
    session = Session.anonymous() if user is None else user.session
    doc = url.split("#", 1)[0]
    response = session.request("GET", doc, headers={"Accept": "text/turtle"})
    assert response.status_code == 200, f"GET {doc}: {response.status_code} {response.text[:300]}"
    return Graph().parse(data=response.text, format="turtle", publicID=doc)


def status(user: User | None, url: str) -> int:
    session = Session.anonymous() if user is None else user.session
    return session.request("GET", url.split("#", 1)[0], headers={"Accept": "text/turtle"}).status_code


def conforms(graph: Graph, shape: str) -> None:
    """``graph`` has at least one node the shape targets, and conforms."""
    found = SHAPES.validate(graph, shape)
    assert found.focus_count >= 1, f"nothing in the graph is targeted by the {shape} shape"
    assert found.conforms, found.text


def members_of(world: World) -> set[str]:
    group = read(None, world.state["url"] + "groups/members")
    conforms(group, "member-group")
    node = URIRef(world.state["url"] + "groups/members#group")
    return {str(m) for m in group.objects(node, VCARD.hasMember)}


def roster(world: World) -> dict[str, dict[str, Any]]:
    """Confirmed and pending (invited, unconfirmed) memberships as the community reports them;
    ended ones are not listed."""
    info = world.community(None).show()
    return {
        m.webid: {"confirmed": m.confirmed, "roles": set(m.roles)} for m in (*info.members, *info.pending)
    }


def check_both_halves(world: World, member: User, community_half: str) -> tuple[Graph, Graph]:
    """Both halves exist, conform to the membership shape and point at each other."""
    theirs = read(None, community_half)
    conforms(theirs, "membership")
    node = URIRef(community_half)
    assert theirs.value(node, ORG.member) == URIRef(member.webid)
    assert theirs.value(node, ORG.organization) == URIRef(world.state["webid"])
    member_half = theirs.value(node, RDFS.seeAlso)
    assert member_half is not None, "the community half does not link the member's half"
    assert str(member_half).startswith(member.pod), "the member half is not in the member's pod"
    mine = read(member, str(member_half))
    conforms(mine, "membership")
    assert mine.value(member_half, ORG.member) == URIRef(member.webid)
    assert mine.value(member_half, ORG.organization) == URIRef(world.state["webid"])
    assert mine.value(member_half, RDFS.seeAlso) == node
    return theirs, mine


def inbox_items(user: User) -> list[Graph]:
    inbox = read(user, user.pod + "inbox/")
    return [read(user, str(child)) for child in inbox.objects(None, LDP.contains)]


def snapshot(world: World, *relative: str) -> dict[str, bytes]:
    """The stored bytes of community resources (containers list their children), as Alice reads."""
    found = {}
    for rel in relative:
        url = world.state["url"] + rel
        response = world.alice.session.request("GET", url, headers={"Accept": "text/turtle"})
        found[rel] = response.content if response.status_code == 200 else str(response.status_code).encode()
    return found


def refused(call: Any, status_code: int) -> PodClientError:
    with pytest.raises(PodClientError) as caught:
        call()
    assert caught.value.status == status_code, f"{caught.value.status}: {caught.value}"
    assert str(caught.value), "a refusal must say why"
    return caught.value


# -- the story -----------------------------------------------------------------------------------


def test_alice_founds_a_community_on_server_a(world: World) -> None:
    commons, answer = Community.create(
        world.alice.session,
        world.a.url,
        "commons",
        "OpenMaps Commons",
        description="Free map tiles for everyone",
        mission="Keep the map of our town open and current",
    )
    world.state.update(url=commons.url, webid=commons.webid)
    assert commons.url == world.a.url + "commons/"
    assert answer["confirmed"] is True

    profile = read(None, commons.url + "profile/card")  # any Solid app can read it, logged in or not
    conforms(profile, "community")
    me = URIRef(commons.webid)
    assert profile.value(me, CBPP.mission) == Literal("Keep the map of our town open and current")
    for container in ("inbox/", "ledger/", "proposals/", "decisions/", "contributions/"):
        assert status(world.alice, commons.url + container) == 200

    theirs, _ = check_both_halves(world, world.alice, answer["membership"])
    roles = {str(r).rsplit("#", 1)[1] for r in theirs.objects(URIRef(answer["membership"]), ORG.role)}
    assert roles == {"member", "admin"}
    assert members_of(world) == {world.alice.webid}
    admins = read(None, commons.url + "groups/admin")
    assert set(admins.objects(None, VCARD.hasMember)) == {URIRef(world.alice.webid)}


def test_bob_on_server_b_is_invited_and_accepts(world: World) -> None:
    invited = world.community(world.alice).invite(world.bob.webid)
    assert invited["notified"] is True  # an as:Invite went to Bob's inbox on server B
    assert roster(world)[world.bob.webid]["confirmed"] is False  # invited is not yet a member
    assert any((None, RDF.type, AS.Invite) in g for g in inbox_items(world.bob))

    world.community(world.bob).accept_invitation()
    check_both_halves(world, world.bob, invited["membership"])
    assert roster(world)[world.bob.webid]["confirmed"] is True
    assert members_of(world) == {world.alice.webid, world.bob.webid}


def test_carol_asks_to_join_and_alice_accepts(world: World) -> None:
    asked = world.community(world.carol).join()
    assert world.carol.webid not in members_of(world)  # a request is only a claim
    requests_ = world.community(world.alice).join_requests()
    (request,) = [r for r in requests_ if r["actor"] == world.carol.webid]
    assert request["membership"] == asked["membership"]

    accepted = world.community(world.alice).accept_request(request["membership"])
    check_both_halves(world, world.carol, accepted["membership"])
    assert members_of(world) == {world.alice.webid, world.bob.webid, world.carol.webid}


def test_members_record_contributions_in_their_own_pods(world: World) -> None:
    start, _ = period_bounds(datetime.now(UTC).strftime("%Y-%m"))
    when = start + timedelta(hours=1)
    bob = world.community(world.bob).contribute(
        ["documentation"],
        hours=3.5,
        note="Rewrote the install guide",
        at=when,
        visibility="community",
        evidence=["https://git.example/openmaps/tiles/pull/42"],
    )
    carol = world.community(world.carol).contribute(
        ["care"], hours=3, note="Welcomed and mentored two newcomers", at=when, visibility="public"
    )
    world.state.update(bob_contribution=bob, carol_contribution=carol)
    assert bob.startswith(world.bob.pod) and carol.startswith(world.carol.pod)

    conforms(read(world.bob, bob), "contribution")
    conforms(read(world.carol, carol), "contribution")
    # Visibility is the document's ACL: Bob's is for the community only (server A's members group,
    # checked by server B), Carol's is public.
    assert status(None, bob) == 401
    assert status(world.mallory, bob) == 403
    assert status(world.alice, bob) == 200
    assert status(None, carol) == 200
    mine = read(world.bob, bob)
    assert mine.value(URIRef(bob), VF.receiver) == URIRef(world.state["webid"])
    # Announced to the community, as pointers only.
    announced = read(world.alice, world.state["url"] + "contributions/")
    assert len(set(announced.objects(None, LDP.contains))) == 2


def test_alice_acknowledges_both_contributions_in_the_ledger(world: World) -> None:
    entries = {}
    for key in ("bob_contribution", "carol_contribution"):
        contribution = world.state[key]
        entry = world.community(world.alice).acknowledge(contribution, note="thanks!")["entry"]
        graph = read(None, entry)  # the ledger is public: anyone can recompute credit
        conforms(graph, "acknowledgement")
        node = next(graph.subjects(RDF.type, CBPP.Acknowledgement))
        assert (node, RDF.type, AS.Accept) in graph
        assert graph.value(node, AS.object) == URIRef(contribution)
        assert graph.value(node, PROV.wasAssociatedWith) == URIRef(world.alice.webid)
        # The digest pins the version Alice reviewed: the document as its author's server serves it.
        doc = contribution.split("#", 1)[0]
        author = world.bob if key == "bob_contribution" else world.carol
        served = author.session.request("GET", doc, headers={"Accept": "text/turtle"}).content
        assert str(graph.value(node, CBPP.objectDigest)) == content_digest(served, doc)
        entries[key] = entry
    world.state["entries"] = entries


def _vote_everyone(world: World, motion: str, options: dict[str, str]) -> dict[str, Any]:
    ballots = {}
    for name, option in options.items():
        user: User = getattr(world, name)
        ballots[name] = world.community(user).vote(motion, option)["ballot"]
        ballot = read(user, ballots[name])
        conforms(ballot, "vote")  # the ballot lives in the voter's own pod
        assert str(ballots[name]).startswith(user.pod)
    tally = world.community(world.alice).tally(motion)
    decision = read(world.alice, tally["decision"])
    event = URIRef(tally["decision"].split("#", 1)[0] + "#event")
    assert (event, RDF.type, OPENGOV.VoteEvent) in decision
    counts = {
        str(decision.value(c, SCHEMA.option)): int(decision.value(c, RDF.value))  # type: ignore[arg-type]
        for c in decision.objects(event, OPENGOV.count)
    }
    expected = {o: sum(1 for v in options.values() if v == o) for o in ("yes", "no", "abstain")}
    assert counts == expected
    assert set(decision.objects(event, PROV.used)) == {URIRef(b) for b in ballots.values()}
    return {"tally": tally, "event": event}


def test_a_value_rule_is_adopted_by_vote(world: World) -> None:
    commons = world.community(world.alice)
    effect = adopt_value_rule("Hours count", Decimal(10), {"care": Decimal(2)}, cap_per_period=Decimal(40))
    motion = commons.propose("Credit 10 per acknowledged hour; care counts double", effect=effect)["motion"]
    conforms(read(world.bob, motion), "motion")
    outcome = _vote_everyone(world, motion, {"alice": "yes", "bob": "yes", "carol": "yes"})
    assert outcome["tally"]["result"] == "pass"

    profile = read(None, world.state["url"] + "profile/card")
    rule = profile.value(URIRef(world.state["webid"]), CBPP.valueRule)
    assert rule is not None and str(rule).startswith(world.state["url"] + "rules/")
    rules = read(None, str(rule))
    conforms(rules, "value-rule")
    assert rules.value(rule, PROV.wasGeneratedBy) == outcome["event"]  # the outcome applied itself
    assert rules.value(rule, CBPP.creditPerHour).toPython() == Decimal(10)  # type: ignore[union-attr]


def test_the_ledger_service_computes_credit_as_the_community(world: World) -> None:
    # The ledger service runs as the community's own agent: Alice's account made the community's
    # pod, so it may mint client credentials for the community's WebID.
    agent = world.alice.credentials_for(world.state["webid"])
    assert agent.webid == world.state["webid"]
    label = datetime.now(UTC).strftime("%Y-%m")
    start, end = period_bounds(label)
    report = compute_credit(agent, world.state["url"], start, end)
    url = write_report(agent, world.state["url"], report, label)

    graph = read(None, url)
    for claim in graph.subjects(RDF.type, VF.Claim):
        single = Graph()
        for triple in graph.triples((claim, None, None)):
            single.add(triple)
        quantity = graph.value(claim, VF.resourceQuantity)
        for triple in graph.triples((quantity, None, None)):
            single.add(triple)
        conforms(single, "claim")
        sources = set(graph.objects(claim, PROV.wasDerivedFrom))
        assert URIRef(str(graph.value(claim, VF.triggeredBy))) in sources
        assert sources & {URIRef(e) for e in world.state["entries"].values()}, "no ledger entry behind it"
    totals = {
        str(graph.value(t, VF.receiver)): (
            Decimal(str(graph.value(t, CBPP.uncappedAmount))),
            Decimal(str(graph.value(t, CBPP.amount))),
        )
        for t in graph.subjects(RDF.type, CBPP.CreditTotal)
    }
    # Bob: 3.5 h of documentation x 10 = 35. Carol: 3 h of care x 2 x 10 = 60, capped at 40.
    assert totals == {
        world.bob.webid: (Decimal(35), Decimal(35)),
        world.carol.webid: (Decimal(60), Decimal(40)),
    }
    # Anyone can recompute every figure from the report with SPARQL.
    recomputed = set()
    for row in graph.query(RECOMPUTE_QUERY):
        values = row.asdict()  # type: ignore[union-attr]
        receiver = str(values["receiver"])
        assert Decimal(str(values["recomputedUncapped"])) == totals[receiver][0]
        assert Decimal(str(values["recomputedAmount"])) == totals[receiver][1]
        recomputed.add(receiver)
    assert recomputed == set(totals)
    report_node = next(graph.subjects(RDF.type, CBPP.CreditReport))
    run = graph.value(report_node, PROV.wasGeneratedBy)
    assert graph.value(run, PROV.wasAssociatedWith) == URIRef(world.state["webid"])


def test_carol_is_removed_by_a_vote(world: World) -> None:
    commons = world.community(world.alice)
    motion = commons.propose("Remove Carol", effect=remove_member(world.carol.webid))["motion"]
    outcome = _vote_everyone(world, motion, {"alice": "yes", "bob": "yes", "carol": "no"})
    assert outcome["tally"]["result"] == "pass"

    # Community side: the half is ended (history kept) by the decision; the group no longer has her.
    half = world.community(world.carol).community_half_url(world.carol.webid)
    theirs = read(None, half)
    conforms(theirs, "membership")
    during = theirs.value(URIRef(half), ORG.memberDuring)
    assert theirs.value(during, TIME.hasEnd) is not None
    assert outcome["event"] in set(theirs.objects(None, PROV.wasGeneratedBy))
    assert members_of(world) == {world.alice.webid, world.bob.webid}
    assert world.carol.webid not in roster(world)
    # Member side: Carol was told (as:Remove in her inbox); her own half is now an unconfirmed claim.
    assert any((None, RDF.type, AS.Remove) in g for g in inbox_items(world.carol)), "no as:Remove"
    # ...and she can no longer take part.
    refused(lambda: world.community(world.carol).propose("Let me back"), 403)


# -- bad input: refused with a clear error, nothing changes --------------------------------------


def test_a_vote_by_a_non_member_is_refused(world: World) -> None:
    commons = world.community(world.alice)
    motion = commons.propose("Adopt a logo")["motion"]
    before = snapshot(world, motion.split("#", 1)[0].removeprefix(world.state["url"]), "inbox/")
    for outsider in (world.mallory, world.carol):  # never a member; a removed member
        error = refused(lambda u=outsider: world.community(u).vote(motion, "yes"), 403)
        assert "member" in str(error).lower()
    assert snapshot(world, *before) == before


def test_a_self_acknowledgement_is_refused(world: World) -> None:
    own = world.community(world.alice).contribute(["facilitation"], hours=1, visibility="public")
    before = snapshot(world, "ledger/")
    error = refused(lambda: world.community(world.alice).acknowledge(own), 403)
    assert "own" in str(error).lower()
    assert snapshot(world, "ledger/") == before


def test_a_forged_membership_half_is_refused(world: World) -> None:
    commons = world.community(world.alice)
    before = snapshot(world, "members/", "groups/members")
    # Mallory (server B) writes, in her own pod, a "member half" that says Erin is a member, and
    # asks the community to accept it: the half is not in Erin's pod, so it proves nothing.
    forged = world.community(world.mallory)
    doc = forged.storage() + "memberships/forged"
    body = (
        "@prefix org: <http://www.w3.org/ns/org#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .\n"
        f"<#membership> a org:Membership ; org:member <{world.erin.webid}> ;\n"
        f"  org:organization <{world.state['webid']}> ;\n"
        f"  rdfs:seeAlso <{commons.community_half_url(world.erin.webid)}> .\n"
    )
    put = world.mallory.session.request(
        "PUT", doc, headers={"Content-Type": "text/turtle"}, data=body.encode()
    )
    assert put.status_code in (201, 204), put.text
    world.mallory.session.request(  # readable by anyone, so the refusal is about what it says
        "PUT",
        doc + ".acl",
        headers={"Content-Type": "text/turtle"},
        data=(
            "@prefix acl: <http://www.w3.org/ns/auth/acl#> .\n"
            f"<#o> a acl:Authorization ; acl:agent <{world.mallory.webid}> ; acl:accessTo <{doc}> ;"
            " acl:mode acl:Read, acl:Write, acl:Control .\n"
            f"<#p> a acl:Authorization ; acl:agentClass <http://xmlns.com/foaf/0.1/Agent> ;"
            f" acl:accessTo <{doc}> ; acl:mode acl:Read .\n"
        ).encode(),
    )
    error = refused(lambda: commons.accept_request(doc + "#membership"), 422)
    assert "storage" in str(error).lower() or "pod" in str(error).lower()
    # Nor can anyone write a community half by hand: members/ is the server's.
    hand = world.mallory.session.request(
        "PUT",
        commons.community_half_url(world.mallory.webid).split("#")[0],
        headers={"Content-Type": "text/turtle"},
        data=b"<#membership> a <http://www.w3.org/ns/org#Membership> .",
    )
    assert hand.status_code in (401, 403)
    assert snapshot(world, *before) == before
    assert world.erin.webid not in roster(world)


def test_a_non_conforming_contribution_is_refused(world: World) -> None:
    container = world.bob.pod + "contributions/"
    before = world.bob.session.request("GET", container, headers={"Accept": "text/turtle"}).content
    # No provider, no kind, negative hours: the container's shape refuses it with the SHACL report.
    body = (
        "@prefix vf: <https://w3id.org/valueflows/ont/vf#> .\n"
        "@prefix cbpp: <https://w3id.org/pod-server/cbpp#> .\n"
        "@prefix om: <http://www.ontology-of-units-of-measure.org/resource/om-2/> .\n"
        "<#it> a vf:EconomicEvent, cbpp:Contribution ; vf:action vf:work ;\n"
        f"  vf:receiver <{world.state['webid']}> ;\n"
        "  vf:effortQuantity [ a vf:Measure ; vf:hasNumericalValue -2 ; vf:hasUnit om:hour ] .\n"
    )
    response = world.bob.session.request(
        "POST",
        container,
        headers={"Content-Type": "text/turtle", "Accept": "text/turtle"},
        data=body.encode(),
    )
    assert response.status_code == 422, response.text
    report = Graph().parse(data=response.text, format="turtle")
    assert (None, URIRef("http://www.w3.org/ns/shacl#conforms"), Literal(False)) in report
    assert 'rel="http://www.w3.org/ns/ldp#constrainedBy"' in response.headers.get("Link", "")
    after = world.bob.session.request("GET", container, headers={"Accept": "text/turtle"}).content
    assert after == before


def test_the_record_is_the_servers_even_for_admins(world: World) -> None:
    """The ledger is append-only, groups are derived, decisions and votes are recorded by the
    server: an admin's hand edit is refused and changes nothing."""
    entry = world.state["entries"]["bob_contribution"]
    targets = ["groups/members", "members/", entry.split("#", 1)[0].removeprefix(world.state["url"])]
    decisions = read(world.alice, world.state["url"] + "decisions/")
    targets += [str(d).removeprefix(world.state["url"]) for d in decisions.objects(None, LDP.contains)][:1]
    before = snapshot(world, *targets)
    for rel in targets:
        url = world.state["url"] + rel + ("x" if rel.endswith("/") else "")
        for method in ("PUT", "DELETE"):
            answer = world.alice.session.request(
                method, url, headers={"Content-Type": "text/turtle"}, data=b"<#x> <#y> <#z> ."
            )
            assert answer.status_code == 403, f"{method} {url}: {answer.status_code}"
    assert snapshot(world, *before) == before
