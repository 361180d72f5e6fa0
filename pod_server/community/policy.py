"""The community policy (``{c}governance/policy``): which roles may do what.

An ODRL 2.2 policy (§2.1) whose permissions (§2.6) each name an ``odrl:assignee`` (a role of the
community, ``{c}roles#R``) and an ``odrl:action`` (``cbpp:invite``, ``cbpp:admit``,
``cbpp:acknowledge``, ``cbpp:propose``, ``cbpp:vote``). Only permissions of the policy the profile
names with ``cbpp:governedBy`` count; a permission with a constraint or duty is not understood
here and so grants nothing (ODRL §2.6: a permission applies only when its constraints are met).
"""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, URIRef

from pod_server.vocab import ODRL2


@dataclass(frozen=True)
class Policy:
    """Action IRI -> role IRIs granted it."""

    grants: dict[str, frozenset[str]]

    @classmethod
    def from_graph(cls, graph: Graph, policy: str) -> Policy:
        found: dict[str, set[str]] = {}
        for permission in graph.objects(URIRef(policy), ODRL2.permission):
            if (permission, ODRL2.constraint, None) in graph or (permission, ODRL2.duty, None) in graph:
                continue
            roles = [str(r) for r in graph.objects(permission, ODRL2.assignee) if isinstance(r, URIRef)]
            for action in graph.objects(permission, ODRL2.action):
                if isinstance(action, URIRef):
                    found.setdefault(str(action), set()).update(roles)
        return cls({action: frozenset(roles) for action, roles in found.items()})

    def roles_for(self, action: str) -> frozenset[str]:
        return self.grants.get(str(action), frozenset())

    def allows(self, action: str, roles: frozenset[str]) -> bool:
        return bool(self.roles_for(action) & roles)


__all__ = ["Policy"]
