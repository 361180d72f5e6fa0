"""Notification payloads: Activity Streams 2.0 activities (Solid Notifications Protocol §9,
"Notification Message Data Model"), as JSON-LD or, on request (the ``accept`` feature), any RDF
format the server writes.

A change to a resource is an ``as:Create``, ``as:Update`` or ``as:Delete`` on its own topic; a
child created in, or deleted from, a container is also an ``as:Add`` or ``as:Remove`` on the
container's topic, with the container as ``target``. ``state`` is the topic's ETag after the
change, ``published`` the time of the change.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pod_server.errors import UnsupportedMediaType
from pod_server.notifications.change import Change
from pod_server.rdf import formats
from pod_server.rdf.convert import parse, serialize
from pod_server.rdf.limits import RdfLimits

AS2_CONTEXT = "https://www.w3.org/ns/activitystreams"
NOTIFY_CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
CONTEXT = [AS2_CONTEXT, NOTIFY_CONTEXT]

ACTIVITY_JSON = "application/activity+json"
DEFAULT_ACCEPT = formats.JSONLD
ACCEPTABLE: tuple[str, ...] = (formats.JSONLD, ACTIVITY_JSON, *formats.WRITABLE[:1], *formats.WRITABLE[2:])
"""Media types a subscriber may ask notifications in (the ``accept`` feature)."""

_LIMITS = RdfLimits(max_bytes=1 << 20, max_triples=1000, max_literal_bytes=1 << 16, max_jsonld_depth=16)
_OWN = {"created": "Create", "updated": "Update", "deleted": "Delete"}
_CONTAINER = {"created": "Add", "deleted": "Remove"}


@dataclass(frozen=True, slots=True)
class Activity:
    """One notification for one topic, before it is written in a subscriber's format."""

    id: str
    type: str
    object: str
    published: float
    state: str | None = None
    target: str | None = None

    def as_jsonld(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "@context": CONTEXT,
            "id": self.id,
            "type": self.type,
            "object": self.object,
        }
        if self.target is not None:
            document["target"] = self.target
        if self.state is not None:
            document["state"] = self.state
        document["published"] = iso_time(self.published)
        return document

    def render(self, media_type: str) -> str:
        """The activity as ``media_type`` (one of :data:`ACCEPTABLE`)."""
        text = json.dumps(self.as_jsonld(), separators=(",", ":"))
        if media_type in (formats.JSONLD, ACTIVITY_JSON):
            return text
        graph = parse(text.encode(), formats.JSONLD, self.object, _LIMITS)
        # Based on the activity id (a URN), so every IRI in the result stays absolute.
        return serialize(graph, media_type, self.id).decode()


def iso_time(posix: float) -> str:
    """An ``xsd:dateTime`` in UTC with milliseconds, e.g. ``2026-11-24T03:04:05.678Z``."""
    return datetime.fromtimestamp(posix, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def accept_type(value: str | None) -> str:
    """The media type a subscriber asked for (``accept`` feature), checked; the default if none."""
    if not value:
        return DEFAULT_ACCEPT
    wanted = formats.essence(value)
    wanted = formats.ALIASES.get(wanted, wanted)
    if wanted not in ACCEPTABLE:
        raise UnsupportedMediaType(
            f"notifications cannot be sent as {wanted}; ask for one of {', '.join(ACCEPTABLE)}"
        )
    return wanted


def activities(change: Change, topic: str, container_state: str | None = None) -> Activity | None:
    """The activity ``change`` means for subscribers of ``topic`` (a storage path), if any."""
    if topic == change.path:
        state = None if change.kind == "deleted" else quoted(change.etag)
        return Activity(_activity_id(change, topic), _OWN[change.kind], change.url, change.published, state)
    if topic == change.container and change.kind in _CONTAINER and change.container_url:
        return Activity(
            _activity_id(change, topic),
            _CONTAINER[change.kind],
            change.url,
            change.published,
            container_state,
            change.container_url,
        )
    return None


def current(url: str, etag: str | None, published: float, nonce: str) -> Activity:
    """What a subscriber whose ``state`` is stale is told at once (Notifications §7 ``state``):
    an ``Update`` with the topic's current state, or a ``Delete`` when it no longer exists."""
    kind = "Delete" if etag is None else "Update"
    return Activity(f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, url + nonce)}", kind, url, published, etag)


def quoted(etag: str) -> str:
    """An ETag as the ``ETag`` header writes it: the form of the notification ``state``."""
    return f'"{etag}"'


def _activity_id(change: Change, topic: str) -> str:
    # One id per (change, topic), the same in every worker: derived, not random.
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, change.id + ' ' + topic)}"


__all__ = [
    "ACCEPTABLE",
    "CONTEXT",
    "DEFAULT_ACCEPT",
    "NOTIFY_CONTEXT",
    "Activity",
    "accept_type",
    "activities",
    "current",
    "iso_time",
    "quoted",
]
