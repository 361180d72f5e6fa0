"""Who is asking: the WebID, the app (client id), the issuer that vouched for them, and the
web origin the request came from (the ``Origin`` header, for WAC's ``acl:origin``)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True, slots=True)
class Credentials:
    """An authenticated agent, or the public (``webid`` is ``None``)."""

    webid: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    origin: str | None = None

    @property
    def is_public(self) -> bool:
        return self.webid is None

    def with_origin(self, origin: str | None) -> Credentials:
        return replace(self, origin=origin)


PUBLIC = Credentials()

__all__ = ["PUBLIC", "Credentials"]
