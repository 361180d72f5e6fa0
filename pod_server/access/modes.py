"""Access modes (Web Access Control §4: acl:Read, acl:Write, acl:Append, acl:Control) and the
permissions a decision grants, which the ``WAC-Allow`` header reports."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    READ = "read"
    APPEND = "append"
    WRITE = "write"
    CONTROL = "control"


ALL_MODES: frozenset[Mode] = frozenset(Mode)


@dataclass(frozen=True, slots=True)
class Permissions:
    """What the requester (``user``) and everyone (``public``) may do with the target resource."""

    user: frozenset[Mode] = frozenset()
    public: frozenset[Mode] = frozenset()

    def wac_allow(self) -> str:
        """The ``WAC-Allow`` header value (WAC §5.1, "access-privileges")."""

        def words(modes: frozenset[Mode]) -> str:
            return " ".join(m.value for m in Mode if m in modes)

        return f'user="{words(self.user)}",public="{words(self.public)}"'


__all__ = ["ALL_MODES", "Mode", "Permissions"]
