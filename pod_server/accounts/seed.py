"""First-start seeding: the owner's account (and, in single-pod mode, the root pod) from settings.

Runs in ``create_app``, so it runs in every worker; several at once are safe because the database
refuses a second account with the same email and a second pod at the same path (``Conflict``),
and a process that loses either race simply goes on.
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
    if not email or not password or directory.count() > 0:
        return
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
