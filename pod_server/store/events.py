"""Change events the store emits, as blinker signals.

Subscribers (notifications, the query index, the access log) connect to these; the store does
not know they exist. Each signal is sent with the emitting store as sender and these keywords:

- ``path``: the storage path of the resource that changed;
- ``url``: its absolute URL;
- ``etag``: its new ETag (for ``deleted``, the last one it had);
- ``container``: the storage path of its parent container, or ``None`` for a storage root.

A failing subscriber must not fail the write: subscribers catch their own errors.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

created = _signals.signal("resource-created", doc="A resource was created.")
updated = _signals.signal("resource-updated", doc="A resource's body or media type changed.")
deleted = _signals.signal("resource-deleted", doc="A resource was deleted.")

__all__ = ["created", "deleted", "updated"]
