"""A community on a live provider-mode server, with people who joined it the way clients do:
an admin invites W, W writes the member half in their own pod (readable by the community agent
``C``) and confirms. Also contributions and ballots in members' pods, and the JSON endpoints.

Used by the ledger and governance tests; everything goes over HTTP except making accounts."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests
from rdflib import Graph, URIRef

from pod_server.vocab import LDP
from tests.access.helpers import Agent, Person, log_in, make_person
from tests.conftest import LiveServer

PREFIXES = """@prefix vf: <https://w3id.org/valueflows/ont/vf#> .
@prefix cbpp: <https://w3id.org/pod-server/cbpp#> .
@prefix kind: <https://w3id.org/pod-server/kinds#> .
@prefix om: <http://www.ontology-of-units-of-measure.org/resource/om-2/> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix org: <http://www.w3.org/ns/org#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix opengov: <http://www.w3.org/ns/opengov#> .
@prefix schema: <http://schema.org/> .
"""


@dataclass
class Someone:
    person: Person
    agent: Agent

    @property
    def webid(self) -> str:
        return self.person.webid

    @property
    def pod(self) -> str:
        return self.person.pod


@dataclass
class World:
    server: LiveServer
    url: str
    webid: str
    founder: Someone
    people: dict[str, Someone] = field(default_factory=dict)

    def at(self, relative: str) -> str:
        return self.url + relative

    def action(self, who: Someone | None, name: str, body: dict[str, Any]) -> requests.Response:
        agent = who.agent if who is not None else Agent()
        return agent.request(
            "POST",
            self.at(".well-known/community/" + name),
            json=body,
            headers={"Content-Type": "application/json"},
        )


def write_private(who: Someone, url: str, turtle: str, readers: tuple[str, ...]) -> None:
    """PUT ``turtle`` at ``url`` in ``who``'s pod, readable by the owner and ``readers`` only."""
    answer = who.agent.put(url, PREFIXES + turtle)
    assert answer.status_code in (200, 201, 204), answer.text
    acl = "http://www.w3.org/ns/auth/acl#"
    rules = [
        f"<#owner> a <{acl}Authorization> ; <{acl}accessTo> <{url}> ; <{acl}agent> <{who.webid}> ; "
        f"<{acl}mode> <{acl}Read>, <{acl}Write>, <{acl}Control> ."
    ]
    for n, reader in enumerate(readers):
        rules.append(
            f"<#reader{n}> a <{acl}Authorization> ; <{acl}accessTo> <{url}> ; <{acl}agent> <{reader}> ; "
            f"<{acl}mode> <{acl}Read> ."
        )
    answer = who.agent.put(url + ".acl", "\n".join(rules))
    assert answer.status_code in (200, 201, 204), answer.text


def someone(server: LiveServer, name: str) -> Someone:
    person = make_person(server, name)
    return Someone(person, log_in(server, person))


def member_half(world: World, who: Someone) -> str:
    """Write ``who``'s half of the membership in their pod (model §4); its node IRI."""
    key = hashlib.sha256(world.webid.encode()).hexdigest()[:24]
    url = f"{who.pod}memberships/{key}"
    community_half = world.at(
        "members/" + hashlib.sha256(who.webid.encode()).hexdigest()[:24] + "#membership"
    )
    write_private(
        who,
        url,
        f"<#membership> a org:Membership ; org:member <{who.webid}> ; org:organization <{world.webid}> ;"
        f" rdfs:seeAlso <{community_half}> .",
        (world.webid,),
    )
    return url + "#membership"


def found(server: LiveServer) -> World:
    """A new community whose founder (admin + member) is confirmed."""
    founder = someone(server, "founder")
    name = "c" + uuid.uuid4().hex[:10]
    world = World(server, f"{server.url}{name}/", f"{server.url}{name}/profile/card#me", founder)
    half = member_half(world, founder)
    answer = founder.agent.request(
        "POST",
        server.url + ".communities",
        json={"name": name, "title": "Commons " + name, "membership": half},
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["confirmed"] is True, answer.text
    assert answer.json()["pod"] == world.url
    return world


def join(world: World, name: str, role: str | None = None) -> Someone:
    """A new person invited (with ``role``) by the founder who confirms: a confirmed member."""
    who = someone(world.server, name)
    body = {"webid": who.webid} | ({"role": role} if role else {})
    answer = world.action(world.founder, "invite", body)
    assert answer.status_code == 201, answer.text
    answer = world.action(who, "confirm", {"membership": member_half(world, who)})
    assert answer.status_code == 200, answer.text
    world.people[name] = who
    return who


def contribution(
    world: World,
    who: Someone,
    *,
    provider: str | None = None,
    receiver: str | None = None,
    note: str = "Rewrote the install guide",
    hours: str = "3.5",
) -> tuple[str, str]:
    """A contribution in ``who``'s pod readable by C; (node IRI, its Turtle as written)."""
    url = f"{who.pod}work/{uuid.uuid4().hex[:8]}"
    turtle = (
        f"<#it> a vf:EconomicEvent, cbpp:Contribution ; vf:action vf:work ;\n"
        f"  vf:provider <{provider or who.webid}> ; vf:receiver <{receiver or world.webid}> ;\n"
        f"  vf:resourceClassifiedAs kind:documentation ;\n"
        f"  vf:effortQuantity [ a vf:Measure ; vf:hasNumericalValue {hours} ; vf:hasUnit om:hour ] ;\n"
        f'  vf:hasPointInTime "2026-11-03T16:00:00Z"^^xsd:dateTimeStamp ;\n'
        f'  vf:note "{note}" ; cbpp:visibility cbpp:CommunityOnly .\n'
    )
    write_private(who, url, turtle, (world.webid,))
    return url + "#it", turtle


def ballot(world: World, who: Someone, event: str, option: str, *, agent: str | None = None) -> str:
    """A ballot in ``who``'s pod readable by C (model §7); its node IRI."""
    url = f"{who.pod}votes/{uuid.uuid4().hex[:8]}"
    write_private(
        who,
        url,
        f"<#vote> a opengov:Vote ; opengov:voteEvent <{event}> ; schema:agent <{agent or who.webid}> ;"
        f' schema:option "{option}" .',
        (world.webid,),
    )
    return url + "#vote"


def listing(world: World, relative: str) -> set[str]:
    """The children of a container of the community, as its founder sees them."""
    answer = world.founder.agent.get(world.at(relative), headers={"Accept": "text/turtle"})
    assert answer.status_code == 200, answer.text
    graph = Graph().parse(data=answer.text, format="turtle", publicID=world.at(relative))
    return {str(o) for o in graph.objects(URIRef(world.at(relative)), LDP.contains)}


def body_of(world: World, url: str) -> str:
    answer = world.founder.agent.get(url, headers={"Accept": "text/turtle"})
    assert answer.status_code == 200, answer.text
    return answer.text
