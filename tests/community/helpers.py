"""Helpers for community tests on live servers: founding a community, writing member halves the
way a client does (Turtle + an ACL that lets the community agent read it), and snapshots of a
pod's stored bytes to show that a refused request changed nothing."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import requests

from tests.access.helpers import Agent, Person
from tests.conftest import LiveServer

ORG = "http://www.w3.org/ns/org#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


def key(iri: str) -> str:
    """Written out here, not imported: the model's rule is what the test checks."""
    return hashlib.sha256(iri.encode("utf-8")).hexdigest()[:24]


@dataclass
class Founded:
    server: LiveServer
    url: str  # {c}
    webid: str  # C
    founder: Person
    admin: Agent

    def endpoint(self, action: str | None = None) -> str:
        return self.url + ".well-known/community" + (f"/{action}" if action else "")

    def half_of(self, webid: str) -> str:
        return f"{self.url}members/{key(webid)}#membership"

    def roster(self) -> dict[str, Any]:
        answer = requests.get(self.endpoint(), timeout=10)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def members(self) -> set[str]:
        return {m["webid"] for m in self.roster()["members"]}

    def pending(self) -> set[str]:
        return {m["webid"] for m in self.roster()["pending"]}


def found(server: LiveServer, founder: Person, admin: Agent, name: str, **extra: Any) -> Founded:
    """Found ``name`` as ``founder`` and confirm the founder's membership (so they act as admin)."""
    url = f"{server.url}{name}/"
    webid = url + "profile/card#me"
    half = write_member_half(admin, founder, webid)
    made = post(
        admin, server.url + ".communities", {"name": name, "title": name.title(), "membership": half, **extra}
    )
    assert made.status_code == 201, made.text
    assert made.json()["confirmed"] is True
    return Founded(server, url, webid, founder, admin)


def post(agent: Agent, url: str, body: Any) -> requests.Response:
    return agent.request("POST", url, json=body)


def member_half_turtle(member: str, community: str, see_also: str) -> str:
    return (
        f"<#membership> a <{ORG}Membership> ; <{ORG}member> <{member}> ;\n"
        f"  <{ORG}organization> <{community}> ; <{RDFS}seeAlso> <{see_also}> .\n"
    )


def readable_by(url: str, owner: str, reader: str | None) -> str:
    """An ACL for ``url``: the owner controls it, ``reader`` (the community agent) reads it."""
    acl = (
        "@prefix acl: <http://www.w3.org/ns/auth/acl#> .\n"
        f"<#owner> a acl:Authorization ; acl:agent <{owner}> ; acl:accessTo <{url}> ;\n"
        "  acl:mode acl:Read, acl:Write, acl:Control .\n"
    )
    if reader:
        acl += (
            f"<#reader> a acl:Authorization ; acl:agent <{reader}> ; acl:accessTo <{url}> ;\n"
            "  acl:mode acl:Read .\n"
        )
    return acl


def write_member_half(
    agent: Agent,
    person: Person,
    community: str,
    *,
    member: str | None = None,
    see_also: str | None = None,
    where: str | None = None,
    readable: bool = True,
) -> str:
    """Write a member half (by default W's own, agreeing) and return its node IRI."""
    pod = where or person.pod
    url = f"{pod}memberships/{key(community)}"
    c_url = community.split("profile/card#me")[0]
    body = member_half_turtle(
        member or person.webid,
        community,
        see_also or f"{c_url}members/{key(member or person.webid)}#membership",
    )
    answer = agent.put(url, body)
    assert answer.status_code in (201, 205, 204), answer.text
    acl = agent.put(url + ".acl", readable_by(url, person.webid, community if readable else None))
    assert acl.status_code in (201, 205, 204), acl.text
    return url + "#membership"


def snapshot(server: LiveServer, pod_url: str) -> dict[str, bytes]:
    """Every stored resource of the pod at ``pod_url`` (bodies by path, auxiliaries included)."""
    store = server.app.extensions["pod_server.store"]
    root = "/" + pod_url[len(server.url) :]
    found: dict[str, bytes] = {}

    def walk(container: str) -> None:
        found[container] = store.backend.read(container).body
        # The backend lists auxiliary resources (.acl, .meta) as children too.
        for child in store.backend.children(container):
            if child.is_container:
                walk(child.path)
            else:
                found[child.path] = store.backend.read(child.path).body

    walk(root)
    return found


__all__ = [
    "Founded",
    "found",
    "key",
    "member_half_turtle",
    "post",
    "readable_by",
    "snapshot",
    "write_member_half",
]
