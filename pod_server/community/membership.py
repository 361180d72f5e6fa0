"""The membership actions of ``POST {c}.well-known/community/<action>`` (model §5): invite,
confirm, accept, leave, sync; and the roster ``GET {c}.well-known/community`` answers.

Each action is ``fn(svc, c, credentials, body) -> (status, JSON answer)``, runs under the
community's lock (the HTTP layer takes it) and checks everything before it writes, so a refused
request changes nothing.
"""

from __future__ import annotations

from typing import Any

from rdflib import URIRef

from pod_server.access.credentials import Credentials
from pod_server.community import fields
from pod_server.community.model import Community, Member, role_name
from pod_server.community.roster import check_member_half
from pod_server.community.service import CommunityService
from pod_server.errors import Conflict, Forbidden, NotFound, Unauthorized, UnprocessableContent
from pod_server.vocab import AS, CBPP, ORG

Answer = tuple[int, dict[str, Any]]


def _entry(c: Community, member: Member) -> dict[str, Any]:
    return {
        "webid": member.webid,
        "roles": sorted(role_name(c, r) or r for r in member.roles),
        "confirmed": member.confirmed,
        "since": member.since,
        "membership": member.community_half,
    }


def roster_json(svc: CommunityService, c: Community, members: list[Member] | None = None) -> dict[str, Any]:
    """``{"community", "pod", "name", "members": [...], "pending": [...]}``: confirmed members,
    and the invited or unconfirmed ones; ended memberships are not listed. Without ``members``,
    the roster as last derived (:meth:`CommunityService.recorded_roster`: no request to other pods)."""
    found = svc.recorded_roster(c) if members is None else members
    return {
        "community": c.webid,
        "pod": c.url,
        "name": svc.title(c),
        "members": [_entry(c, m) for m in found if m.active],
        "pending": [_entry(c, m) for m in found if not m.ended and not m.confirmed],
    }


def _webid(c: Community, credentials: Credentials, what: str) -> str:
    if credentials.webid is None:
        raise Unauthorized(f"log in to {what} {c.url}")
    return credentials.webid


def _roles(svc: CommunityService, c: Community, body: dict[str, Any]) -> set[str]:
    name = fields.text(body, "role", max_length=100)
    return {svc.role(c, name)} if name else set()


def invite(svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]) -> Answer:
    """Policy ``cbpp:invite``: write W's community half without a member half (an invitation)
    and tell W (LDN ``as:Invite``). 409 when W is already a confirmed member."""
    fields.only(body, {"webid", "role"})
    admin = svc.require(c, credentials, CBPP.invite)
    webid = fields.required_iri(body, "webid")
    roles = _roles(svc, c, body)
    current = svc.member(c, webid)
    if current is not None and current.active:
        raise Conflict(f"{webid} is already a confirmed member of {c.url}")
    node = svc.admit(c, webid, roles, generated_by="#invite", actor=admin.webid)
    notified = svc.announce(
        c, webid, AS.Invite, URIRef(node), f"You are invited to join {svc.title(c) or c.url}"
    )
    return 201, {"membership": node, "notified": notified}


def confirm(svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]) -> Answer:
    """The invited W links their member half: 404 without an invitation, 422 when the member
    half does not agree (model §4)."""
    fields.only(body, {"membership"})
    webid = _webid(c, credentials, "confirm your membership of")
    member_half = fields.required_iri(body, "membership")
    found = svc.half(c, webid)
    if found is None or found[0].ended:
        raise NotFound(f"{webid} has no invitation to {c.url}; ask an admin to invite you")
    problem = check_member_half(svc.agent, c, webid, member_half)
    if problem is not None:
        raise UnprocessableContent(problem)
    node = svc.confirm(c, webid, member_half, actor=webid)
    member = next((m for m in svc.derive_groups(c) if m.webid == webid), None)
    return 200, {
        "confirmed": bool(member and member.confirmed),
        "membership": node,
        "roles": sorted(role_name(c, r) or r for r in (member.roles if member else ())),
    }


def accept(svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]) -> Answer:
    """Policy ``cbpp:admit``: accept a join request. The member half (read as ``C``) names W and
    must agree; then W's community half is written, linked, with an ``<#accept>`` by the admin."""
    fields.only(body, {"membership", "role"})
    admin = svc.require(c, credentials, CBPP.admit)
    member_half = fields.required_iri(body, "membership")
    roles = _roles(svc, c, body)
    claimed = svc.agent.graph(c.webid, member_half)
    members = [m for m in claimed.objects(URIRef(member_half), ORG.member) if isinstance(m, URIRef)]
    if len(members) != 1:
        raise UnprocessableContent(f"the member half {member_half} must name exactly one org:member")
    webid = str(members[0])
    current = svc.member(c, webid)
    if current is not None and current.active:
        raise Conflict(f"{webid} is already a confirmed member of {c.url}")
    problem = check_member_half(svc.agent, c, webid, member_half)
    if problem is not None:
        raise UnprocessableContent(problem)
    node = svc.admit(c, webid, roles, generated_by="#accept", member_half=member_half, actor=admin.webid)
    svc.derive_groups(c)
    notified = svc.announce(c, webid, AS.Accept, URIRef(node), f"Welcome to {svc.title(c) or c.url}")
    return 201, {"membership": node, "confirmed": True, "notified": notified}


def leave(svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]) -> Answer:
    """A member (or someone invited) ends their membership: ``time:hasEnd`` and ``<#leave>``."""
    fields.only(body, set())
    webid = _webid(c, credentials, "leave")
    found = svc.half(c, webid)
    if found is None or found[0].ended:
        raise Forbidden(f"{webid} is not a member of {c.url}; there is nothing to leave")
    svc.end_membership(c, webid, generated_by="#leave", activity=AS.Leave)
    return 200, {"left": True, "membership": found[0].node}


def sync(svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]) -> Answer:
    """Any member (anyone with a current community half): re-derive the groups from the roster
    (members may have deleted or changed their halves); answers the roster."""
    fields.only(body, set())
    webid = _webid(c, credentials, "sync")
    found = svc.half(c, webid)
    if found is None or found[0].ended:
        raise Forbidden(f"only members of {c.url} may sync its groups; {webid} is not one")
    return 200, roster_json(svc, c, svc.derive_groups(c))


__all__ = ["Answer", "accept", "confirm", "invite", "leave", "roster_json", "sync"]
