"""Who is asking: the WebID, the app (client id) and the issuer that vouched for them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Credentials:
    """An authenticated agent, or the public (all fields ``None``)."""

    webid: str | None = None
    client_id: str | None = None
    issuer: str | None = None

    @property
    def is_public(self) -> bool:
        return self.webid is None


PUBLIC = Credentials()

__all__ = ["PUBLIC", "Credentials"]
