"""Which access modes a request needs, on which resources (Solid Protocol §11 "Web Access
Control" and WAC §6.4 "Reading and Writing Resources").

=====================  =======================================================================
request                needs
=====================  =======================================================================
GET, HEAD, OPTIONS     Read on the target (OPTIONS as CSS does: it reveals the resource's headers)
POST                   Append on the container
PUT, existing          Write on the target
PUT, new               Write on the target; Append on its container, and on each missing
                       intermediate container's container (Solid Protocol §5.3: they are created)
PATCH                  Append on the target when it only inserts; Write when it can delete;
                       Read as well when it has a where/WHERE clause or deletes (Solid Protocol
                       §5.3.1); a new target also needs Append up the chain, as for PUT
DELETE                 Write on the target and on its container
``x.acl``, any method  Control on ``x`` (WAC §4.2: Control reads and writes ACL resources)
``x.meta``             what the method needs on ``x`` (Solid Protocol §4.3: a description
                       resource has its subject's permissions); no container checks
=====================  =======================================================================

Write implies Append (WAC §6.3), so "Append" above is met by either.
"""

from __future__ import annotations

from collections.abc import Callable

from pod_server.access.modes import Mode
from pod_server.ldp.identifiers import is_auxiliary
from pod_server.ldp.model import Operation
from pod_server.store.backend import ancestors, parent_of

Need = tuple[str, frozenset[Mode]]
"""A storage path and the modes the request needs on it."""

READ = frozenset({Mode.READ})
APPEND = frozenset({Mode.APPEND})
WRITE = frozenset({Mode.WRITE})
_READS = {"GET", "HEAD", "OPTIONS"}


def patch_modes(op: Operation) -> frozenset[Mode]:
    patch = op.patch
    if patch is None:
        return WRITE  # not a patch we understand: the handler refuses it (415) after this check
    modes = {Mode.WRITE if patch.deletes else Mode.APPEND}
    if patch.reads:
        modes.add(Mode.READ)
    return frozenset(modes)


def required(
    op: Operation, exists: Callable[[str], bool], is_storage_root: Callable[[str], bool]
) -> list[Need]:
    """The needs of ``op``; the first one is about the target itself. ``exists`` is only asked
    for writes that might create something."""
    path, method = op.path, op.method
    if method in _READS:
        return [(path, READ)]
    if method == "POST":
        return [(path, APPEND)]
    if method == "DELETE":
        needs: list[Need] = [(path, WRITE)]
        # A storage root has no container in its storage (and cannot be deleted: 405).
        if path != "/" and not is_auxiliary(path) and not is_storage_root(path):
            needs.append((parent_of(path), WRITE))
        return needs
    modes = patch_modes(op) if method == "PATCH" else WRITE
    needs = [(path, modes)]
    if is_auxiliary(path) or path == "/" or exists(path):
        return needs
    # Solid Protocol §5.3 / WAC §6.4: creating a member needs Append on its container; a
    # missing container on the way is created too, so it needs Append on its own container.
    for ancestor in ancestors(path):
        needs.append((ancestor, APPEND))
        if exists(ancestor):
            break
    return needs


__all__ = ["Need", "patch_modes", "required"]
