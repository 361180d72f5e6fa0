"""What travels on the notification bus: a change to a resource, or a channel being closed.

Messages are plain frozen dataclasses with a JSON form, so the Redis bus can carry them between
processes and machines; :func:`encode` / :func:`decode` are the only (de)serialisers.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Literal

from pod_server.errors import BadRequest

ChangeKind = Literal["created", "updated", "deleted"]


@dataclass(frozen=True, slots=True)
class Change:
    """A resource was created, updated or deleted (one store event).

    ``path``/``url`` name the resource; ``etag`` is its new ETag (for ``deleted``, the last one);
    ``container``/``container_url`` its parent container, ``None`` for a storage root;
    ``published`` is the POSIX time of the change; ``id`` is unique per change (a UUID URN),
    so each activity derived from it has a stable identity across workers.
    """

    kind: ChangeKind
    path: str
    url: str
    etag: str
    container: str | None
    container_url: str | None
    published: float
    id: str


@dataclass(frozen=True, slots=True)
class ChannelClosed:
    """A notification channel was removed (unsubscribe, expiry, a webhook dropped): every worker
    closes the connections it holds for ``channel``."""

    channel: str


@dataclass(frozen=True, slots=True)
class WebhooksChanged:
    """A webhook channel was made: every worker re-reads which topics have webhooks."""


Message = Change | ChannelClosed | WebhooksChanged


def encode(message: Message) -> bytes:
    kind = _KINDS[type(message)]
    return json.dumps({"type": kind, **asdict(message)}, separators=(",", ":")).encode()


def decode(data: bytes | str) -> Message:
    """The message ``data`` holds; ``BadRequest`` if it is not one (another program on the channel)."""
    try:
        raw = json.loads(data)
        kind = raw.pop("type")
        if kind == "change" and _well_typed(raw):
            return Change(**raw)
        if kind == "closed" and isinstance(raw.get("channel"), str):
            return ChannelClosed(**raw)
        if kind == "webhooks" and not raw:
            return WebhooksChanged()
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        pass
    raise BadRequest("not a pod-server notification message")


_KINDS: dict[type, str] = {Change: "change", ChannelClosed: "closed", WebhooksChanged: "webhooks"}
_TEXT = ("kind", "path", "url", "etag", "id")
_OPTIONAL_TEXT = ("container", "container_url")


def _well_typed(raw: dict[str, object]) -> bool:
    return (
        all(isinstance(raw.get(k), str) for k in _TEXT)
        and all(raw.get(k) is None or isinstance(raw.get(k), str) for k in _OPTIONAL_TEXT)
        and isinstance(raw.get("published"), int | float)
        and raw.get("kind") in ("created", "updated", "deleted")
    )


__all__ = ["Change", "ChangeKind", "ChannelClosed", "Message", "WebhooksChanged", "decode", "encode"]
