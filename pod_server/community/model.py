"""What a community and a membership are, as values (docs/decisions/0009-communities.md).

A community is a pod whose WebID profile says ``C a cbpp:Community``; ``C = {c}profile/card#me``
is the community's own agent. A membership has two halves (model §4): the community half at a
predictable URL, ``{c}members/{key}#membership`` with ``key = member_key(W)``, and the member's
half somewhere in one of W's storages. Only a membership whose halves point at each other is
*confirmed*.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

KEY_LENGTH = 24
"""Hex characters of sha256 kept in a member key: 96 bits, unguessable collisions."""

MEMBERSHIP_FRAGMENT = "#membership"
MEMBER = "member"
ADMIN = "admin"
MAINTAINER = "maintainer"
DEFAULT_ROLES = (ADMIN, MAINTAINER, MEMBER)
"""The roles every community starts with (``{c}roles``); admins may add more."""


def member_key(iri: str) -> str:
    """The first 24 hex characters of sha256(``iri`` as UTF-8): names ``{c}members/{key}`` for a
    member W, and (by convention) ``{m}memberships/{key}`` for a community C."""
    return hashlib.sha256(iri.encode("utf-8")).hexdigest()[:KEY_LENGTH]


@dataclass(frozen=True)
class Community:
    """A community pod. Invariant: ``url`` ends with '/', ``path`` is its storage path, and
    ``webid == url + "profile/card#me"``."""

    path: str
    url: str
    webid: str

    @classmethod
    def of(cls, path: str, url: str) -> Community:
        return cls(path, url, url + "profile/card#me")

    def at(self, relative: str) -> str:
        """The URL of a resource inside the community pod, e.g. ``at("ledger/")``."""
        return self.url + relative

    def path_of(self, relative: str) -> str:
        """The storage path of a resource inside the community pod."""
        return self.path + relative

    def role(self, name: str) -> str:
        """The IRI of a role: ``{c}roles#{name}``."""
        return self.at("roles#" + name)

    def group(self, name: str) -> str:
        """The IRI of a derived group: ``{c}groups/{name}#group`` (``name`` is ``members`` or a role)."""
        return self.at(f"groups/{name}#group")

    def half_of(self, webid: str) -> str:
        """The node IRI of ``webid``'s community half: ``{c}members/{key}#membership``."""
        return self.at("members/" + member_key(webid) + MEMBERSHIP_FRAGMENT)

    @property
    def founding(self) -> str:
        """The founding event, ``{c}decisions/founding#event``."""
        return self.at("decisions/founding#event")


def role_name(community: Community, role_iri: str) -> str | None:
    """``admin`` for ``{c}roles#admin``; ``None`` for a role IRI outside this community's roles."""
    prefix = community.at("roles#")
    return role_iri[len(prefix) :] if role_iri.startswith(prefix) and len(role_iri) > len(prefix) else None


@dataclass(frozen=True)
class Member:
    """One community half as the roster sees it.

    ``roles`` are role IRIs from the community half (the community gives roles; the member's half
    cannot add any). ``confirmed`` holds only when both halves agree and the membership has not
    ended (model §4); ``ended`` once the community half has ``time:hasEnd``.
    """

    webid: str
    roles: frozenset[str]
    confirmed: bool
    ended: bool
    community_half: str
    member_half: str | None
    since: str | None
    problem: str | None = None
    """Why an unconfirmed membership is not confirmed (``None`` when confirmed or just invited)."""

    @property
    def active(self) -> bool:
        """Confirmed and not ended: counts in groups, policy and votes."""
        return self.confirmed and not self.ended


__all__ = [
    "ADMIN",
    "DEFAULT_ROLES",
    "KEY_LENGTH",
    "MAINTAINER",
    "MEMBER",
    "MEMBERSHIP_FRAGMENT",
    "Community",
    "Member",
    "member_key",
    "role_name",
]
