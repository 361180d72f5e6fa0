"""First-start seeding: the owner's account (and, in single-pod mode, the root pod) from settings.

Runs in ``create_app``, so it runs in every worker. Workers seed one at a time, under a
cross-process lock of the storage backend: a worker that starts while another is still writing the
pod waits for it, so no worker serves a half-made pod (whose documents would exist before their
ACLs). The database still refuses a second account or pod (``Conflict``) as a second guard.
"""

from __future__ import annotations

import logging

from pod_server.accounts.service import SqlAccountDirectory
from pod_server.config import Secret
from pod_server.errors import Conflict

log = logging.getLogger(__name__)


def seed(
    directory: SqlAccountDirectory, email: str | None, password: Secret | None, *, single_pod: bool
) -> None:
    """Create the first account when there is none yet and both ``email`` and ``password`` are set."""
    if not email or not password:
        return
    # Always through the lock, even when an account exists: it may be the one another worker is
    # seeding right now, with its pod still half made.
    with directory.store.backend.lock(SEED_LOCK):
        if directory.count() > 0:
            return  # another worker seeded while this one waited
        _seed(directory, email, password, single_pod=single_pod)


SEED_LOCK = "/.well-known/pod-server/seed"
"""A path no resource can have (server-managed), used only as the name of a lock."""


def _seed(directory: SqlAccountDirectory, email: str, password: Secret, *, single_pod: bool) -> None:
    try:
        account = directory.register(email, password.reveal())
    except Conflict:
        return  # another worker seeded first
    log.info("seeded the account %s", account.email)
    if single_pod:
        try:
            pod = directory.create_pod(account.id, "")
        except Conflict:
            return
        log.info("seeded the pod %s with WebID %s", pod.url, pod.webid)


__all__ = ["seed"]
