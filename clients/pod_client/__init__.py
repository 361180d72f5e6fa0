"""pod_client: a Python client for Solid pods (any standard Solid server, not only pod-server).

- :mod:`pod_client.session`: :class:`pod_client.session.Session` logs in with Solid-OIDC (client
  credentials, or interactively: authorization code + PKCE through the system browser), keeps a
  DPoP key, refreshes its tokens and signs every request with a fresh DPoP proof;
- :mod:`pod_client.pod`: :class:`pod_client.pod.Pod` reads and writes resources: RDF graphs,
  files, containers;
- :mod:`pod_client.profile` finds and registers data locations in type indexes;
- :mod:`pod_client.acl` reads and changes Web Access Control;
- :mod:`pod_client.notifications` subscribes to changes (Solid Notifications Protocol);
- :mod:`pod_client.query` runs SPARQL queries: on a pod's endpoint (:func:`pod_client.query.query`),
  or on the client over the documents it may read across several pods
  (:func:`pod_client.query.federated`);
- :mod:`pod_client.errors`: what goes wrong, as a small exception tree (its classes are also
  importable from ``pod_client`` itself);
- :mod:`pod_client.dpop`: the DPoP key and proofs (RFC 9449) a session signs requests with;
- :mod:`pod_client.vocab`: the RDF vocabularies the client uses, as rdflib namespaces;
- :mod:`pod_client.links`: ``Link`` header targets and containers of URLs;
- :mod:`pod_client.cli`: the ``pod`` command line;
- :mod:`pod_client.community`: :class:`pod_client.community.Community`, communities from the
  member's side (membership halves, contributions, acknowledgements, motions, ballots);
- :mod:`pod_client.ledger`: credit reports from a community's ledger
  (:func:`pod_client.ledger.compute_credit`, :func:`pod_client.ledger.write_report`);
- :mod:`pod_client.digest`: content digests of RDF documents (RDFC-1.0, as the server computes them);
- :mod:`pod_client.community_cli`: the ``pod community`` commands.

docs/client.md in the repository is the tour, with tested examples; docs/query.md is the one for
queries.
"""

from pod_client.community import Community
from pod_client.digest import content_digest
from pod_client.errors import (
    Conflict,
    Forbidden,
    NotAuthenticated,
    NotFound,
    PodClientError,
    PreconditionFailed,
)
from pod_client.ledger import CreditReport, NoValueRule, compute_credit, write_report

__version__ = "0.1.0"

__all__ = [
    "Community",
    "Conflict",
    "CreditReport",
    "Forbidden",
    "NoValueRule",
    "NotAuthenticated",
    "NotFound",
    "PodClientError",
    "PreconditionFailed",
    "__version__",
    "compute_credit",
    "content_digest",
    "write_report",
]
