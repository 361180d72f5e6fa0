"""The dispatcher: one thread per worker that turns changes into notifications.

It holds the live receivers this worker serves (WebSocket channels, streaming readers, legacy
solid-0.1 sockets), indexed by topic. For each message from the bus it finds the receivers of the
changed resource and of its container, checks that each subscriber may still read the topic (Solid
Notifications Protocol §5: a subscriber needs Read on the topic; when access is revoked, the channel
is closed and delivery stops), applies the channel's features (``startAt``, ``endAt``, ``rate``)
and hands the rendered activity to the connection, which queues it without blocking.

Webhooks are posted once per change, by the worker where the change happened: the service hands
local changes to :meth:`Dispatcher.local` and the dispatcher looks up the webhook channels for the
topics in the shared channel store.

Nothing here blocks on a subscriber: sockets queue (:mod:`pod_server.notifications.hub`) and
webhooks are posted by their own threads (:mod:`pod_server.notifications.webhooks`).
"""

from __future__ import annotations

import heapq
import itertools
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pod_server.access.credentials import Credentials
from pod_server.access.decision import AccessPolicy
from pod_server.errors import NotFound, PodError
from pod_server.ldp.model import Operation
from pod_server.notifications.activity import Activity, activities, quoted
from pod_server.notifications.change import Change, ChannelClosed, Message, WebhooksChanged
from pod_server.notifications.channel import Channel, ChannelStore
from pod_server.notifications.hub import Outlet
from pod_server.store.resource_store import ResourceStore

log = logging.getLogger(__name__)

# WebSocket close codes (RFC 6455 §7.4.1).
NORMAL = 1000
POLICY_VIOLATION = 1008

Render = Callable[[Activity], str]


@dataclass(eq=False)
class Receiver:
    """One live connection watching one topic.

    ``channel`` is the Notifications channel it serves (``None`` for streaming readers and legacy
    sockets, whose features are fixed); ``credentials`` whose Read is checked before each delivery
    (``None``: no check, the legacy protocol, which only says that a URL changed). ``render``
    writes an activity in the receiver's format.
    """

    outlet: Outlet
    topic_path: str
    topic_url: str
    render: Render
    channel: Channel | None = None
    credentials: Credentials | None = None
    last_sent: float = 0.0
    pending: Activity | None = field(default=None, repr=False)

    @property
    def channel_id(self) -> str | None:
        return None if self.channel is None else self.channel.id


@dataclass(order=True)
class _Timer:
    due: float
    seq: int
    receiver: Receiver = field(compare=False)


class Dispatcher:
    """Invariants: :meth:`publish_to` and :meth:`local` only queue; everything else runs on the
    dispatcher's thread, so the receiver index needs no lock beyond the one guarding add/remove."""

    def __init__(
        self,
        store: ResourceStore,
        access: AccessPolicy,
        channels: ChannelStore,
        *,
        deliver_webhook: Callable[[Channel, Activity], None] | None = None,
        on_revoked: Callable[[Channel], None] | None = None,
        sweep_interval: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.access = access
        self.channels = channels
        self.deliver_webhook = deliver_webhook
        self.on_revoked = on_revoked
        self.sweep_interval = sweep_interval
        self.clock = clock
        self._by_topic: dict[str, set[Receiver]] = {}
        self._lock = threading.Lock()
        self._queue: queue.SimpleQueue[tuple[str, object] | None] = queue.SimpleQueue()
        self._timers: list[_Timer] = []
        self._seq = itertools.count()
        self._webhook_last: dict[str, float] = {}
        # Topics with webhook channels, so a change to any other topic costs no database query.
        # Re-read when a worker announces a new webhook (WebhooksChanged) and once a minute.
        self._webhook_topics: set[str] | None = None
        self._webhook_topics_read = 0.0
        self._thread: threading.Thread | None = None
        self._closed = False
        self.delivered = 0

    # -- called from other threads ------------------------------------------------------------
    def _put(self, item: tuple[str, object]) -> None:
        if self._thread is None:  # started on first use: an idle app keeps no thread
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="pod-server-notify", daemon=True)
                    self._thread.start()
        self._queue.put(item)

    def close(self) -> None:
        self._closed = True
        self._queue.put(None)

    def publish_to(self, message: Message) -> None:
        """The bus handler: a change or a closed channel, from any worker."""
        self._put(("bus", message))

    def local(self, change: Change) -> None:
        """A change made in this worker: post its webhooks."""
        if self.deliver_webhook is not None:
            self._put(("local", change))

    def add(self, receiver: Receiver, *, now_activity: Activity | None = None) -> None:
        """Start serving ``receiver``; ``now_activity`` is sent first (the ``state`` feature)."""
        with self._lock:
            self._by_topic.setdefault(receiver.topic_path, set()).add(receiver)
        if now_activity is not None:
            self._put(("now", (receiver, now_activity)))

    def remove(self, receiver: Receiver) -> None:
        with self._lock:
            found = self._by_topic.get(receiver.topic_path)
            if found is not None:
                found.discard(receiver)
                if not found:
                    del self._by_topic[receiver.topic_path]

    def receivers(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._by_topic.values())

    # -- the dispatcher thread ----------------------------------------------------------------
    def _run(self) -> None:
        next_sweep = self.clock() + self.sweep_interval
        while not self._closed:
            now = self.clock()
            due = min(next_sweep, self._timers[0].due if self._timers else next_sweep)
            try:
                item = self._queue.get(timeout=max(0.0, due - now))
            except queue.Empty:
                item = ("tick", None)
            if item is None:
                return
            try:
                self._handle(*item)
                now = self.clock()
                self._fire_timers(now)
                if now >= next_sweep:
                    self._sweep(now)
                    next_sweep = now + self.sweep_interval
            except Exception:  # the dispatcher must outlive any one bad message
                log.exception("notification dispatch failed")

    def _handle(self, kind: str, payload: object) -> None:
        if kind == "bus":
            if isinstance(payload, Change):
                self._dispatch(payload)
            elif isinstance(payload, ChannelClosed):
                self._close_channel(payload.channel, NORMAL, "the channel was closed")
            elif isinstance(payload, WebhooksChanged):
                self._webhook_topics = None
        elif kind == "local" and isinstance(payload, Change):
            self._webhooks(payload)
        elif kind == "now" and isinstance(payload, tuple):
            receiver, activity = payload
            if self._allowed(receiver.credentials, receiver.topic_path, receiver.topic_url, {}):
                self._send(receiver, activity, self.clock())

    def _topics(self, change: Change) -> list[str]:
        topics = [change.path]
        if change.container is not None and change.kind != "updated":
            topics.append(change.container)
        return topics

    def _container_state(self, change: Change) -> str | None:
        if change.container is None:
            return None
        try:
            return quoted(self.store.stat(change.container).etag)
        except NotFound:
            return None

    def _dispatch(self, change: Change) -> None:
        now = self.clock()
        decisions: dict[tuple[Credentials, str], bool] = {}
        for topic in self._topics(change):
            with self._lock:
                receivers = list(self._by_topic.get(topic, ()))
            if not receivers:
                continue
            state = self._container_state(change) if topic != change.path else None
            activity = activities(change, topic, state)
            if activity is None:
                continue
            rendered: dict[Render, str] = {}
            for receiver in receivers:
                if not self._allowed(receiver.credentials, topic, receiver.topic_url, decisions):
                    self._revoke(receiver)
                    continue
                self._offer(receiver, activity, now, rendered)

    def _webhooks(self, change: Change) -> None:
        assert self.deliver_webhook is not None
        now = self.clock()
        if self._webhook_topics is None or now - self._webhook_topics_read > 60:
            self._webhook_topics = self.channels.webhook_topics(now=now)
            self._webhook_topics_read = now
        topics = [t for t in self._topics(change) if t in self._webhook_topics]
        if not topics:
            return
        channels = self.channels.webhooks_for(topics, now=now)
        if not channels:
            return
        decisions: dict[tuple[Credentials, str], bool] = {}
        states: dict[str, str | None] = {}
        for channel in channels:
            if channel.start_at is not None and now < channel.start_at:
                continue
            last = self._webhook_last.get(channel.id, 0.0)
            if channel.rate is not None and now - last < channel.rate:
                continue  # webhooks are not held back: within the rate, a change is skipped
            credentials = credentials_of(channel)
            if not self._allowed(credentials, channel.topic_path, channel.topic, decisions):
                self._drop(channel)
                continue
            if channel.topic_path != change.path and channel.topic_path not in states:
                states[channel.topic_path] = self._container_state(change)
            activity = activities(change, channel.topic_path, states.get(channel.topic_path))
            if activity is None:
                continue
            self._webhook_last[channel.id] = now
            self.deliver_webhook(channel, activity)

    def _allowed(
        self,
        credentials: Credentials | None,
        topic: str,
        topic_url: str,
        decisions: dict[tuple[Credentials, str], bool],
    ) -> bool:
        if credentials is None:
            return True
        key = (credentials, topic)
        found = decisions.get(key)
        if found is None:
            try:
                self.access.authorize(Operation("GET", topic, topic_url), credentials)
                found = True
            except PodError:
                found = False
            decisions[key] = found
        return found

    def _offer(self, receiver: Receiver, activity: Activity, now: float, rendered: dict[Render, str]) -> None:
        channel = receiver.channel
        if channel is not None:
            if channel.end_at <= now:
                self._expire(receiver)
                return
            if channel.start_at is not None and now < channel.start_at:
                return
            if channel.rate is not None and now - receiver.last_sent < channel.rate:
                # Within the rate: keep only the newest and send it when the interval has passed.
                if receiver.pending is None:
                    due = receiver.last_sent + channel.rate
                    heapq.heappush(self._timers, _Timer(due, next(self._seq), receiver))
                receiver.pending = activity
                return
        text = rendered.get(receiver.render)
        if text is None:
            text = rendered[receiver.render] = receiver.render(activity)
        self._write(receiver, text, now)

    def _send(self, receiver: Receiver, activity: Activity, now: float) -> None:
        self._write(receiver, receiver.render(activity), now)

    def _write(self, receiver: Receiver, text: str, now: float) -> None:
        if receiver.outlet.closed.is_set():
            self.remove(receiver)
            return
        receiver.outlet.send(text)
        receiver.last_sent = now
        self.delivered += 1

    def _fire_timers(self, now: float) -> None:
        while self._timers and self._timers[0].due <= now:
            receiver = heapq.heappop(self._timers).receiver
            activity, receiver.pending = receiver.pending, None
            if activity is None or receiver.outlet.closed.is_set():
                continue
            if self._allowed(receiver.credentials, receiver.topic_path, receiver.topic_url, {}):
                self._send(receiver, activity, now)
            else:
                self._revoke(receiver)

    def _sweep(self, now: float) -> None:
        with self._lock:
            everyone = [r for s in self._by_topic.values() for r in s]
        for receiver in everyone:
            if receiver.outlet.closed.is_set():
                self.remove(receiver)
            elif receiver.channel is not None and receiver.channel.end_at <= now:
                self._expire(receiver)
        try:
            self.channels.expire(now)
        except PodError:
            log.warning("could not expire notification channels", exc_info=True)
        self._webhook_last = {k: v for k, v in self._webhook_last.items() if now - v < 86400}

    # -- closing ------------------------------------------------------------------------------
    def _expire(self, receiver: Receiver) -> None:
        self.remove(receiver)
        receiver.outlet.close(NORMAL, "the channel has ended (endAt)")

    def _revoke(self, receiver: Receiver) -> None:
        # The channel goes first: a subscriber who sees the close (1008) must find it gone.
        self.remove(receiver)
        if receiver.channel is not None:
            self._drop(receiver.channel)
        receiver.outlet.close(POLICY_VIOLATION, "read access to the topic was revoked")

    def _drop(self, channel: Channel) -> None:
        log.info("notification channel %s closed: the subscriber may no longer read the topic", channel.id)
        if self.on_revoked is not None:
            self.on_revoked(channel)

    def _close_channel(self, channel_id: str, code: int, reason: str) -> None:
        with self._lock:
            matching = [r for s in self._by_topic.values() for r in s if r.channel_id == channel_id]
        for receiver in matching:
            self.remove(receiver)
            receiver.outlet.close(code, reason)


def credentials_of(channel: Channel) -> Credentials:
    """The credentials a channel was made with: whose Read is checked before each delivery."""
    return Credentials(channel.webid, channel.client_id, channel.issuer, channel.origin)


__all__ = ["Dispatcher", "Receiver", "credentials_of"]
