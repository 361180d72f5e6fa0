"""The authentication seam: who is asking?

The HTTP layer hands an :class:`Authenticator` the request's method, its external URL, its
``Authorization`` header and every ``DPoP`` header it carried; it answers
:class:`~pod_server.access.credentials.Credentials` or raises ``Unauthorized`` (401 with
``WWW-Authenticate``). A request without credentials is the public.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pod_server.access.credentials import PUBLIC, Credentials


class Authenticator(Protocol):
    """Invariants: never raises for a request without Authorization (that is the public); never
    logs a token; the same inputs give the same answer, apart from replay and expiry checks."""

    def authenticate(
        self, method: str, url: str, authorization: str | None, dpop: Sequence[str]
    ) -> Credentials: ...


class PublicOnly:
    """The null authenticator: everyone is the public."""

    def authenticate(
        self, method: str, url: str, authorization: str | None, dpop: Sequence[str]
    ) -> Credentials:
        return PUBLIC


__all__ = ["Authenticator", "PublicOnly"]
