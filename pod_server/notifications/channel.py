"""A notification channel: one subscription to one topic (Solid Notifications Protocol §8,
"Notification Channel Data Model"), and where channels are kept.

Channels are shared by all workers (a subscription made through one worker is used by the
WebSocket that connects to another, a webhook must outlive a restart), so the real store is the
server database (:class:`~pod_server.notifications.sql_channels.SqlChannels`);
:class:`MemoryChannels` is for tests and one-process use.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Literal, Protocol

ChannelType = Literal["WebSocketChannel2023", "WebhookChannel2023", "StreamingHTTPChannel2023"]


@dataclass(frozen=True, slots=True)
class Channel:
    """One subscription.

    ``id`` is the channel's URL (a ``DELETE`` there unsubscribes); ``topic``/``topic_path`` the
    resource watched. ``webid``, ``client_id``, ``issuer`` and ``origin`` are the subscriber's
    credentials, kept so Read on the topic can be checked again before each delivery.
    ``accept`` is the media type of notifications; ``rate`` the least number of seconds between two
    notifications; ``start_at``/``end_at`` POSIX times; ``state`` the ETag the subscriber said it
    had. ``send_to`` is a webhook's target; ``receive_from`` a WebSocket's URL (its last segment
    is an unguessable token, which is what lets an unauthenticated socket connect).
    """

    id: str
    type: ChannelType
    topic: str
    topic_path: str
    end_at: float
    created: float
    webid: str | None = None
    client_id: str | None = None
    issuer: str | None = None
    origin: str | None = None
    accept: str = "application/ld+json"
    rate: float | None = None
    start_at: float | None = None
    state: str | None = None
    send_to: str | None = None
    receive_from: str | None = None


class ChannelStore(Protocol):
    """Invariants: ``add`` of an existing id raises ``Conflict``; ``remove`` is idempotent and
    says whether the channel existed; reads never return a channel whose ``end_at`` has passed."""

    def add(self, channel: Channel) -> None: ...

    def get(self, channel_id: str, *, now: float) -> Channel | None: ...

    def by_receive_from(self, receive_from: str, *, now: float) -> Channel | None: ...

    def webhooks_for(self, topic_paths: Iterable[str], *, now: float) -> list[Channel]:
        """The live webhook channels whose topic is one of ``topic_paths``."""
        ...

    def webhook_topics(self, *, now: float) -> set[str]:
        """The topic paths that have at least one live webhook channel."""
        ...

    def remove(self, channel_id: str) -> bool: ...

    def expire(self, now: float) -> int:
        """Delete channels whose ``end_at`` has passed; returns how many."""
        ...


class MemoryChannels:
    """Channels in a dict, for one process."""

    def __init__(self) -> None:
        self._channels: dict[str, Channel] = {}
        self._lock = threading.Lock()

    def add(self, channel: Channel) -> None:
        from pod_server.errors import Conflict

        with self._lock:
            if channel.id in self._channels:
                raise Conflict(f"the channel {channel.id} exists")
            self._channels[channel.id] = replace(channel)

    def get(self, channel_id: str, *, now: float) -> Channel | None:
        found = self._channels.get(channel_id)
        return found if found is not None and found.end_at > now else None

    def by_receive_from(self, receive_from: str, *, now: float) -> Channel | None:
        with self._lock:
            for channel in self._channels.values():
                if channel.receive_from == receive_from and channel.end_at > now:
                    return channel
        return None

    def webhooks_for(self, topic_paths: Iterable[str], *, now: float) -> list[Channel]:
        wanted = set(topic_paths)
        with self._lock:
            return [
                c
                for c in self._channels.values()
                if c.type == "WebhookChannel2023" and c.topic_path in wanted and c.end_at > now
            ]

    def webhook_topics(self, *, now: float) -> set[str]:
        with self._lock:
            return {
                c.topic_path
                for c in self._channels.values()
                if c.type == "WebhookChannel2023" and c.end_at > now
            }

    def remove(self, channel_id: str) -> bool:
        with self._lock:
            return self._channels.pop(channel_id, None) is not None

    def expire(self, now: float) -> int:
        with self._lock:
            gone = [k for k, c in self._channels.items() if c.end_at <= now]
            for key in gone:
                del self._channels[key]
            return len(gone)


__all__ = ["Channel", "ChannelStore", "ChannelType", "MemoryChannels"]
