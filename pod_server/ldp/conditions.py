"""Conditional requests (RFC 9110 §13.2.2, evaluated in the order it gives).

Writes evaluate their conditions under the store's lock, so an If-Match cannot race another write.
"""

from __future__ import annotations

from pod_server.errors import PreconditionFailed
from pod_server.ldp.model import Conditions
from pod_server.store.backend import Meta


class NotModified(Exception):
    """GET/HEAD whose If-None-Match or If-Modified-Since says the client's copy is current: 304."""

    def __init__(self, meta: Meta) -> None:
        super().__init__("not modified")
        self.meta = meta


def _matches(tags: tuple[str, ...], meta: Meta | None) -> bool:
    if meta is None:
        return False
    return "*" in tags or meta.etag in tags


def evaluate(conditions: Conditions, meta: Meta | None, *, safe: bool) -> None:
    """Raise ``PreconditionFailed`` (412) or, for GET/HEAD (``safe``), ``NotModified`` (304).

    ``meta`` is the target's current metadata, ``None`` when it does not exist.
    """
    if conditions.empty:
        return
    # Step 1: If-Match (strong comparison); step 2: If-Unmodified-Since, only without If-Match.
    if conditions.if_match is not None:
        if not _matches(conditions.if_match, meta):
            raise PreconditionFailed(
                "If-Match failed: the resource has changed or does not exist; fetch it again"
            )
    elif _changed_since(meta, conditions.if_unmodified_since):
        raise PreconditionFailed("If-Unmodified-Since failed: the resource changed since then")
    # Step 3: If-None-Match; step 4: If-Modified-Since, only for GET/HEAD and without If-None-Match.
    if conditions.if_none_match is not None:
        if _matches(conditions.if_none_match, meta):
            if safe and meta is not None:
                raise NotModified(meta)
            what = "already exists" if "*" in conditions.if_none_match else "matches If-None-Match"
            raise PreconditionFailed(f"If-None-Match failed: the resource {what}")
    elif (
        safe
        and meta is not None
        and conditions.if_modified_since is not None
        and not _changed_since(meta, conditions.if_modified_since)
    ):
        raise NotModified(meta)


def _changed_since(meta: Meta | None, since: float | None) -> bool:
    """HTTP dates have whole seconds, so compare whole seconds."""
    return meta is not None and since is not None and int(meta.mtime) > int(since)


__all__ = ["NotModified", "evaluate"]
