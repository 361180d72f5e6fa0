"""Who webhook notifications come from (WebhookChannel2023 #auth: the sender MUST authenticate
its POST to ``sendTo`` as the identity it names in the channel's ``sender``).

The server has its own WebID, ``{base}.notifications/WebhookChannel2023/sender#this``, whose
document names this server as its OIDC issuer. Each POST carries a DPoP-bound access token for
that WebID, signed with the identity provider's key (published in its JWKS), and a fresh DPoP
proof for the target (RFC 9449 §4), so a receiver verifies it like any Solid-OIDC request. The
headers come from :class:`pod_server.idp.signer.AgentSigner`, which also signs for community agents.
"""

from __future__ import annotations

from rdflib import Graph, URIRef

from pod_server.vocab import SOLID


def sender_profile(webid: str, issuer: str) -> Graph:
    """The sender's WebID document: it names this server as its issuer (Solid-OIDC §5)."""
    graph = Graph(bind_namespaces="none")
    graph.add((URIRef(webid), SOLID.oidcIssuer, URIRef(issuer)))
    return graph


__all__ = ["sender_profile"]
