"""What access a server starts with.

- Provider mode: the server root ``/`` gets an ACL at first start that lets everyone *read* it
  (its listing names the pods, which the public WebIDs name anyway) and nothing else: nobody may
  write there, and nothing is inherited (no ``acl:default``). Pods come from the accounts service,
  each with the owner's ACL (``pod_server.accounts.pods``).
- Single-pod mode with a seeded owner: the pod's ACLs come from the pod template, like any pod.
- Single-pod mode *without* an owner is a development pod. So that it is usable at all, the first
  start writes a root ACL that gives everyone full access, and every start logs a warning saying
  so and how to seed an owner instead (``--seed-email``).

WAC §5.2 "ACL Resource Representation": the root container MUST have an ACL resource with an
Authorization allowing acl:Control; the open ACL below is that for a development pod.
"""

from __future__ import annotations

import logging

from rdflib import Graph, URIRef

from pod_server.errors import Conflict, NotFound
from pod_server.ldp.owners import OwnerLookup
from pod_server.rdf import formats
from pod_server.rdf.convert import serialize
from pod_server.store.backend import Meta
from pod_server.store.resource_store import ResourceStore
from pod_server.vocab import ACL, FOAF, RDF

log = logging.getLogger(__name__)

OPEN_ACL_WARNING = (
    "this pod has no owner, so its root ACL lets EVERYONE read, write and change access to "
    "everything in it (a development pod). To make it private, start the server with an owner: "
    "--seed-email you@example.org --seed-password ... (or POD_SERVER_SEED_EMAIL and "
    "POD_SERVER_SEED_PASSWORD), then replace %s"
)
NO_OWNER_WARNING = (
    "this pod has no owner; its root ACL %s decides who may do what (written open to everyone on "
    "first start unless you changed it). Seed an owner with --seed-email to make the pod yours"
)


def open_acl(root_url: str) -> bytes:
    """An ACL giving everyone (foaf:Agent) Read, Write, Append and Control of ``root_url`` and,
    by default, of everything under it."""
    g = Graph()
    g.bind("acl", ACL._NS)
    g.bind("foaf", FOAF._NS)
    rule = URIRef(root_url + ".acl#public")
    root = URIRef(root_url)
    g.add((rule, RDF.type, ACL.Authorization))
    g.add((rule, ACL.agentClass, FOAF.Agent))
    g.add((rule, ACL.accessTo, root))
    g.add((rule, ACL.default, root))
    for mode in (ACL.Read, ACL.Write, ACL.Append, ACL.Control):
        g.add((rule, ACL.mode, mode))
    return serialize(g, formats.TURTLE, root_url + ".acl")


def readable_root_acl(root_url: str) -> bytes:
    """An ACL letting everyone read the server root itself (not what is below it)."""
    g = Graph()
    rule = URIRef(root_url + ".acl#public")
    g.add((rule, RDF.type, ACL.Authorization))
    g.add((rule, ACL.agentClass, FOAF.Agent))
    g.add((rule, ACL.accessTo, URIRef(root_url)))
    g.add((rule, ACL.mode, ACL.Read))
    return serialize(g, formats.TURTLE, root_url + ".acl")


def readable_server_root(store: ResourceStore) -> bool:
    """In provider mode, write the server root's read-only public ACL if there is no root ACL yet.
    Returns whether it was written now."""
    if store.ids.single_pod:
        return False
    url = store.ids.to_url("/.acl")
    try:
        store.put(
            "/.acl", readable_root_acl(store.ids.to_url("/")), formats.TURTLE, url, check=_only_if_missing
        )
    except Conflict:
        return False  # it exists (maybe another worker wrote it first): the operator's choice stands
    return True


def _only_if_missing(current: Meta | None) -> None:
    if current is not None:
        raise Conflict("the root ACL exists")


def open_development_pod(store: ResourceStore, owners: OwnerLookup) -> bool:
    """In single-pod mode without an owner, make sure the root ACL exists (writing the open one
    when there is none), and warn. Returns whether the open ACL was written now."""
    ids = store.ids
    if not ids.single_pod or owners.owners_of("/"):
        return False
    url = ids.to_url("/.acl")
    try:
        store.backend.stat("/.acl")
    except NotFound:
        pass
    else:
        log.warning(NO_OWNER_WARNING, url)
        return False
    try:
        store.put("/.acl", open_acl(ids.to_url("/")), formats.TURTLE, url, check=_only_if_missing)
    except Conflict:
        return False  # another worker wrote it first
    log.warning(OPEN_ACL_WARNING, url)
    return True


__all__ = [
    "NO_OWNER_WARNING",
    "OPEN_ACL_WARNING",
    "open_acl",
    "open_development_pod",
    "readable_root_acl",
    "readable_server_root",
]
