"""Web Access Control: the :class:`~pod_server.access.decision.AccessPolicy` of this server.

For each resource a request touches (:mod:`pod_server.access.required`), find its *effective
ACL* (WAC §6.1): its own ``.acl`` when that exists, else the nearest ancestor container's ``.acl``,
whose ``acl:default`` rules for that container then apply. Evaluate the rules against the
:class:`~pod_server.access.credentials.Credentials` (:mod:`pod_server.access.acl`), and deny with
401 (the public) or 403 (someone logged in).

Speed: compiled ACLs are cached by path and checked against the backend's ETag on every use, one
``stat`` per candidate on the chain, so a change made by another worker is seen on the next request
here, and an unchanged document is never parsed again. Change events only free memory early.
:meth:`WacPolicy.readable` answers the Read question for many paths at once (the SPARQL endpoint's
dataset), once per effective ACL rather than once per path.

The pod owner (``OwnerLookup``) always has Control in their pod, so they can always repair an ACL
that locked them out (WAC §4.2 note "Loss of Control Mitigation").
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from typing import Any

from pod_server.access.acl import CompiledAcl, Rule, compile_acl
from pod_server.access.credentials import PUBLIC, Credentials
from pod_server.access.groups import GroupMembership
from pod_server.access.modes import ALL_MODES, Mode, Permissions
from pod_server.access.required import required
from pod_server.errors import Forbidden, NotFound, PodError, StorageError, Unauthorized
from pod_server.ldp.identifiers import auxiliary_of, subject_of
from pod_server.ldp.model import Operation
from pod_server.ldp.owners import NoOwners, OwnerLookup
from pod_server.rdf import formats
from pod_server.rdf.convert import parse
from pod_server.store import events
from pod_server.store.backend import parent_of
from pod_server.store.resource_store import ResourceStore

log = logging.getLogger(__name__)

NOTHING: frozenset[Mode] = frozenset()
READ_ONLY = Permissions(frozenset({Mode.READ}), frozenset({Mode.READ}))


class _Unreadable(Exception):
    """An ACL on the way could not be read (readable() only: authorize() raises StorageError)."""


_UNREADABLE = CompiledAcl()


class AclCache:
    """Compiled ACL documents by path, each kept with the ETag it was compiled from."""

    def __init__(self, store: ResourceStore) -> None:
        self.store = store
        self._entries: dict[str, tuple[str, CompiledAcl]] = {}
        self._lock = threading.Lock()

    def get(self, path: str) -> CompiledAcl | None:
        """The compiled ACL at ``path``, or ``None`` when there is no such document."""
        backend = self.store.backend
        try:
            etag = backend.stat(path).etag
        except NotFound:
            self._entries.pop(path, None)
            return None
        cached = self._entries.get(path)
        if cached is not None and cached[0] == etag:
            return cached[1]
        try:
            stored = backend.read(path)
        except NotFound:
            self._entries.pop(path, None)
            return None
        compiled = self._compile(path, stored.body, stored.meta.content_type)
        with self._lock:
            self._entries[path] = (stored.meta.etag, compiled)
        return compiled

    def _compile(self, path: str, body: bytes, content_type: str) -> CompiledAcl:
        if not body or not formats.is_rdf(content_type):
            return CompiledAcl()
        try:
            graph = parse(body, formats.TURTLE, self.store.ids.to_url(path), self.store.limits)
        except PodError as exc:
            # Stored ACLs were validated when written; one that no longer parses is a server fault
            # (500), never a guess at what it meant.
            raise StorageError("an access control document could not be read") from exc
        return compile_acl(graph)

    def forget(self, path: str) -> None:
        self._entries.pop(path, None)

    def __len__(self) -> int:
        return len(self._entries)


class WacPolicy:
    """Web Access Control over one :class:`ResourceStore`."""

    def __init__(
        self,
        store: ResourceStore,
        *,
        owners: OwnerLookup | None = None,
        groups: GroupMembership | None = None,
    ) -> None:
        self.store = store
        self.ids = store.ids
        self.owners: OwnerLookup = owners or NoOwners()
        self.groups = groups or GroupMembership(store, None)
        self.acls = AclCache(store)
        for signal in (events.created, events.updated, events.deleted):
            signal.connect(self._changed, sender=store, weak=False)

    # -- the decision ------------------------------------------------------------------------
    def authorize(self, operation: Operation, credentials: Credentials) -> Permissions:
        if self.ids.is_server_managed(operation.path):
            # Discovery documents: read-only for everyone; the store refuses writes (405).
            return READ_ONLY
        reports = operation.method in {"GET", "HEAD"}  # WAC-Allow is written on these only
        needs = required(operation, self._exists, self.ids.is_storage_root)
        permissions = Permissions()
        for i, (path, modes) in enumerate(needs):
            if i == 0:
                user, public = self.granted(path, credentials, with_public=reports)
                permissions = Permissions(user, public)
            else:
                user, _ = self.granted(path, credentials)
            if not modes <= user:
                raise self._deny(credentials)
        return permissions

    def granted(
        self, path: str, credentials: Credentials, *, with_public: bool = False
    ) -> tuple[frozenset[Mode], frozenset[Mode]]:
        """The modes ``credentials`` hold on the resource at ``path``, and (when asked) the
        modes everyone holds, from one look at the effective ACL."""
        found = subject_of(path)
        if found is None:
            rules = self._rules(path)
            user = self._evaluate(rules, credentials)
            if not with_public:
                return user, NOTHING
            return user, (user if credentials == PUBLIC else self._evaluate(rules, PUBLIC))
        subject, rel = found
        if rel != "acl":
            # Solid Protocol §4.3: a description resource has its subject's permissions.
            return self.granted(subject, credentials, with_public=with_public)
        # WAC §4.2: acl:Control on a resource is read and write access to its ACL. The pod owner
        # always has it, so no ACL can lock them out (asked only here: it costs a lookup).
        user, public = self.granted(subject, credentials, with_public=with_public)
        webid = credentials.webid
        owner = Mode.CONTROL not in user and webid is not None and self._owns(subject, webid)
        return (
            ALL_MODES if Mode.CONTROL in user or owner else NOTHING,
            ALL_MODES if Mode.CONTROL in public else NOTHING,
        )

    def readable(
        self, paths: Collection[str], credentials: Credentials, *, acl_paths: Collection[str]
    ) -> set[str]:
        """Which of ``paths`` ``credentials`` may Read: for each, the answer :meth:`authorize`
        gives to a GET of it, decided once per effective ACL rather than once per path.

        ``acl_paths`` are the ``.acl`` resources that exist (the query index keeps them): a path's
        effective ACL (WAC §6.1) is found by walking those strings, not by a ``stat`` per path, and
        each ACL found is read once, through the same ETag-checked cache as every request. An
        ACL in ``acl_paths`` that is gone is skipped as :meth:`authorize` would skip it; one
        missing from ``acl_paths`` is not seen, so keep the list current. An ACL that cannot be
        read denies what it governs (a GET of those paths fails with 500).
        """
        acls = acl_paths if isinstance(acl_paths, set | frozenset) else frozenset(acl_paths)
        compiled: dict[str, CompiledAcl | None] = {}
        modes_by_acl: dict[tuple[str, str, bool] | None, frozenset[Mode]] = {}
        owner: dict[str | None, bool] = {}

        def acl_at(path: str) -> CompiledAcl | None:
            if path not in acls:
                return None
            if path not in compiled:
                try:
                    compiled[path] = self.acls.get(path)
                except StorageError:
                    log.warning("the ACL %s could not be read; what it governs is not readable", path)
                    compiled[path] = _UNREADABLE
            found = compiled[path]
            if found is _UNREADABLE:
                raise _Unreadable(path)
            return found

        def user_modes(path: str) -> frozenset[Mode]:
            # granted(path, credentials) without the public modes, memoised per effective ACL.
            found = subject_of(path)
            if found is None:
                effective = self._effective(path, acl_at)
                key = None if effective is None else (effective[0], effective[2], effective[3])
                if key not in modes_by_acl:
                    rules = self._rules_from(effective)
                    modes_by_acl[key] = self._evaluate(rules, credentials)
                return modes_by_acl[key]
            subject, rel = found
            if rel != "acl":
                return user_modes(subject)  # Solid Protocol §4.3
            user = user_modes(subject)
            if Mode.CONTROL in user:
                return ALL_MODES  # WAC §4.2
            webid = credentials.webid
            if webid is None:
                return NOTHING
            root = self.ids.storage_root(subject)
            if root not in owner:
                owner[root] = self._owns(subject, webid)
            return ALL_MODES if owner[root] else NOTHING

        def may_read(path: str) -> bool:
            if self.ids.is_server_managed(path):
                return True  # as authorize(): discovery documents are public
            try:
                return Mode.READ in user_modes(path)
            except _Unreadable:
                return False  # authorize() would fail with 500

        return {p for p in paths if may_read(p)}

    # -- effective ACL -----------------------------------------------------------------------
    def _rules(self, path: str) -> tuple[Rule, ...]:
        """The rules that apply to ``path`` from its effective ACL (WAC §6.1)."""
        return self._rules_from(self._effective(path, self.acls.get))

    def _effective(
        self, path: str, acl_at: Callable[[str], CompiledAcl | None]
    ) -> tuple[str, CompiledAcl, str, bool] | None:
        """``path``'s effective ACL (WAC §6.1): (ACL path, its rules, the resource it was found
        for, whether inherited). Its own ``.acl`` when that exists, else the nearest ancestor
        container's, up to the storage root; ``None`` when there is none."""
        root = self.ids.storage_root(path)
        own = auxiliary_of(path, "acl")
        acl = acl_at(own)
        if acl is not None:
            return own, acl, path, False
        container = path
        while container != "/" and container != root:
            container = parent_of(container)
            candidate = auxiliary_of(container, "acl")
            acl = acl_at(candidate)
            if acl is not None:
                return candidate, acl, container, True
        return None

    def _rules_from(self, effective: tuple[str, CompiledAcl, str, bool] | None) -> tuple[Rule, ...]:
        if effective is None:
            return ()  # no ACL anywhere up to the storage root: nobody may do anything
        _, acl, target, inherited = effective
        return acl.rules_for(self.ids.to_url(target), inherited=inherited)

    def _evaluate(self, rules: tuple[Rule, ...], credentials: Credentials) -> frozenset[Mode]:
        granted: frozenset[Mode] = NOTHING
        maybe: list[Rule] = []
        for rule in rules:
            if rule.modes <= granted:
                continue
            admitted = rule.admits(credentials)
            if admitted:
                granted = granted | rule.modes
            elif admitted is None:
                maybe.append(rule)
        webid = credentials.webid
        for rule in maybe:  # group lookups last, and only when they could add something
            if (
                webid is not None
                and not rule.modes <= granted
                and any(self.groups.is_member(group, webid) for group in rule.groups)
            ):
                granted = granted | rule.modes
        return granted

    def _owns(self, path: str, webid: str) -> bool:
        root = self.ids.storage_root(path)
        return root is not None and webid in self.owners.owners_of(root)

    def _exists(self, path: str) -> bool:
        try:
            self.store.backend.stat(path)
        except NotFound:
            return False
        return True

    def _deny(self, credentials: Credentials) -> PodError:
        # Nothing about the resource or its rules: the same answer whether it exists or not.
        if credentials.is_public:
            # Unauthorized carries the DPoP challenge (RFC 9110 §11.6.1).
            return Unauthorized(
                "this request needs access the public does not have; log in (Solid-OIDC) and try again"
            )
        return Forbidden("you are not allowed to do this; ask the owner of this resource for access")

    def _changed(self, sender: Any, **kw: Any) -> None:
        path = kw.get("path")
        if isinstance(path, str):
            self.acls.forget(path)
            self.groups.forget(path)


__all__ = ["AclCache", "WacPolicy"]
