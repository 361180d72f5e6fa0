"""Posting notifications to WebhookChannel2023 targets, with retries, off the caller's thread.

WebhookChannel2023 (draft v0.1, "Channel Type" and "Authentication" sections, anchors
``#channel-type`` and ``#auth``): a notification is delivered by ``POST``-ing it to the channel's
``sendTo`` URL; the body is the notification in the channel's ``accept`` media type (Notifications
Protocol §7 ``accept``; ``application/ld+json`` by default, P#json-ld-format), sent as the
``Content-Type``. A ``2xx`` answer is a success. The draft says nothing about retries: the
policy here (exponential back-off, then dropping the channel) is ours, and is what keeps one dead
receiver from costing the server anything but a few bounded queues.

How it runs::

    dispatcher thread --deliver()--> lane (one FIFO per channel) --due heap--> worker pool --POST--> sendTo

- One :class:`_Lane` per channel holds its waiting notifications. A lane with work is in exactly
  one place: on the due heap (waiting for its next attempt) or in one worker's hands (a POST in
  flight). So a channel has at most one request in flight, and its notifications go out in order.
- The due heap is the scheduler: ``workers`` threads share it, and each takes the earliest lane
  whose time has come. A receiver that hangs holds one worker for at most the fetcher's timeout;
  the other workers keep serving other channels.
- Threads start on the first :meth:`WebhookSender.deliver`, not in the constructor, so a sender
  built before a server forks its workers still gets live threads in each worker.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pod_server.fetch import FetchError, SafeFetcher
from pod_server.notifications.channel import Channel, ChannelStore

log = logging.getLogger(__name__)

JITTER = 0.2
"""Each retry delay is multiplied by a random factor in ``[1 - JITTER, 1 + JITTER]``, so targets that
failed together are not retried in lock-step."""

HeaderSource = Callable[[str], Mapping[str, str]]
"""``target URL -> extra request headers``: the sender's ``Authorization`` and a fresh ``DPoP``
proof for that URL (``AgentSigner.headers``, WebhookChannel2023 #auth). Called before every attempt."""


@dataclass(frozen=True, slots=True)
class _Notification:
    body: bytes
    content_type: str


@dataclass(eq=False, slots=True)
class _Lane:
    """The deliveries of one channel.

    Invariants (under the sender's lock): ``waiting`` holds notifications not yet sent, oldest
    first, at most ``max_pending_per_channel`` of them; ``sending`` is the one in flight, if any.
    A lane with work has ``scheduled`` or ``sending`` set, never both; ``failures`` counts
    consecutive failed attempts and is 0 whenever the lane is empty. ``closed`` lanes are out of
    the sender's table and their heap entries are ignored.
    """

    channel: Channel
    waiting: deque[_Notification] = field(default_factory=deque)
    sending: _Notification | None = None
    scheduled: bool = False
    failures: int = 0
    closed: bool = False

    def pending(self) -> int:
        return len(self.waiting) + (self.sending is not None)


class WebhookSender:
    """Delivers notification bodies to WebhookChannel2023 ``sendTo`` URLs. Thread-safe.

    Rules (WebhookChannel2023 #channel-type for the POST; the rest is this server's policy):

    - :meth:`deliver` never blocks and never raises: it queues and returns.
    - Per channel, notifications are posted one at a time, in the order given. While one waits
      for a retry, later ones wait behind it. Beyond ``max_pending_per_channel`` waiting, the
      oldest waiting one is discarded (counted in :attr:`discarded`).
    - A failure is a :class:`~pod_server.fetch.FetchError` (unreachable, refused address, timeout,
      oversize answer) or a status outside 2xx. After the n-th consecutive failure the next attempt
      comes ``backoff * 2**(n-1)`` seconds later, ±20%, at most ``max_backoff``. A success resets n.
    - After ``attempts`` consecutive failures the channel is dropped: removed from ``channels``,
      its queue discarded, ``on_drop(channel)`` called, one WARNING logged naming the channel id and
      the target's host (never its URL: the path or query may hold the receiver's secret).
    - Before every attempt the channel is looked up in ``channels``: one that has been
      unsubscribed or has expired gets nothing more, and its queue is discarded.

    Counters (ints, read without locking): :attr:`delivered` notifications, :attr:`failed`
    attempts, :attr:`discarded` notifications thrown away (queue bound, drop, gone channel),
    :attr:`dropped_channels`.
    """

    def __init__(
        self,
        fetcher: SafeFetcher,
        channels: ChannelStore,
        *,
        attempts: int = 6,
        backoff: float = 1.0,
        max_backoff: float = 300.0,
        workers: int = 4,
        max_pending_per_channel: int = 100,
        on_drop: Callable[[Channel], None] | None = None,
        headers: HeaderSource | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``clock`` times retries and must count seconds like :func:`time.monotonic` (the threads
        wait on it with real timeouts); channel expiry is checked against :func:`time.time`."""
        if attempts < 1 or workers < 1 or max_pending_per_channel < 1:
            raise ValueError("attempts, workers and max_pending_per_channel must be at least 1")
        if backoff < 0 or max_backoff < 0:
            raise ValueError("backoff and max_backoff must not be negative")
        self.fetcher = fetcher
        self.channels = channels
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.workers = workers
        self.max_pending_per_channel = max_pending_per_channel
        self.on_drop = on_drop
        self.headers = headers
        self.clock = clock
        self.delivered = 0
        self.failed = 0
        self.discarded = 0
        self.dropped_channels = 0
        self._lanes: dict[str, _Lane] = {}
        self._due: list[tuple[float, int, _Lane]] = []
        self._order = itertools.count()
        self._cond = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._random = random.Random()

    # -- the caller's side ---------------------------------------------------------------------
    def deliver(self, channel: Channel, body: bytes, content_type: str) -> None:
        """Queue ``body`` for ``channel``'s ``sendTo`` and return at once."""
        if channel.send_to is None:
            return  # not a webhook channel; nothing to post to
        with self._cond:
            if self._closed:
                return
            self._start()
            lane = self._lanes.get(channel.id)
            if lane is None:
                lane = self._lanes[channel.id] = _Lane(channel)
            lane.channel = channel
            lane.waiting.append(_Notification(body, content_type))
            self._trim(lane)
            if not lane.scheduled and lane.sending is None:
                self._schedule(lane, self.clock())

    def pending(self) -> int:
        """Notifications queued or in flight, over all channels."""
        with self._cond:
            return sum(lane.pending() for lane in self._lanes.values())

    def close(self, timeout: float = 1.0) -> None:
        """Stop the threads and discard what is queued. Idempotent. Waits at most ``timeout``
        seconds in all for POSTs in flight (they end by the fetcher's own timeout anyway)."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            for lane in self._lanes.values():
                lane.closed = True
            self._lanes.clear()
            self._due.clear()
            self._cond.notify_all()
            threads, self._threads = self._threads, []
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    # -- scheduling (all under self._cond) ------------------------------------------------------
    def _start(self) -> None:
        if self._threads:
            return
        for n in range(self.workers):
            thread = threading.Thread(target=self._work, name=f"webhook-sender-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _schedule(self, lane: _Lane, due: float) -> None:
        lane.scheduled = True
        first = not self._due or due < self._due[0][0]
        heapq.heappush(self._due, (due, next(self._order), lane))
        if first:
            self._cond.notify()  # a waiting worker may now have less time to wait

    def _trim(self, lane: _Lane) -> None:
        while len(lane.waiting) > self.max_pending_per_channel:
            lane.waiting.popleft()
            self.discarded += 1

    def _discard(self, lane: _Lane) -> None:
        """Forget ``lane`` and everything it holds (except a POST already on the wire)."""
        self.discarded += len(lane.waiting)
        lane.waiting.clear()
        lane.closed = True
        if self._lanes.get(lane.channel.id) is lane:
            del self._lanes[lane.channel.id]

    def _next(self) -> tuple[_Lane, _Notification] | None:
        """Wait for the earliest due lane and take its oldest notification; None once closed."""
        with self._cond:
            while not self._closed:
                if self._due:
                    due, _, lane = self._due[0]
                    wait = due - self.clock()
                    if wait <= 0:
                        heapq.heappop(self._due)
                        if lane.closed or not lane.waiting:
                            lane.scheduled = False
                            continue
                        lane.scheduled = False
                        lane.sending = lane.waiting.popleft()
                        if self._due:
                            self._cond.notify()  # another lane may be due too
                        return lane, lane.sending
                    self._cond.wait(wait)
                else:
                    self._cond.wait()
            return None

    # -- the workers' side ----------------------------------------------------------------------
    def _work(self) -> None:
        while (job := self._next()) is not None:
            lane, notification = job
            try:
                self._attempt(lane, notification)
            except Exception:  # never let a worker die: log, and treat as a failed attempt
                log.exception("webhook delivery for channel %s failed unexpectedly", lane.channel.id)
                self._failed(lane, "internal error")

    def _attempt(self, lane: _Lane, notification: _Notification) -> None:
        channel_id = lane.channel.id
        try:
            current = self.channels.get(channel_id, now=time.time())
        except Exception:
            # The channel store is down: not the target's fault, so not counted against it.
            log.exception("could not look up webhook channel %s; will retry", channel_id)
            self._retry(lane, counted=False)
            return
        if current is None:
            # Unsubscribed or expired: it gets nothing more.
            with self._cond:
                lane.sending = None
                self.discarded += 1
                self._discard(lane)
            return
        send_to = current.send_to or lane.channel.send_to
        assert send_to is not None  # deliver() only queues channels with a sendTo
        extra = dict(self.headers(send_to)) if self.headers is not None else {}
        try:
            # WebhookChannel2023 #channel-type: POST the notification to sendTo, in the accept type.
            answer = self.fetcher.post(
                send_to, notification.body, content_type=notification.content_type, headers=extra
            )
        except FetchError as error:
            self._failed(lane, error.reason)
            return
        if 200 <= answer.status < 300:
            self._succeeded(lane)
        else:
            self._failed(lane, f"status {answer.status}")

    def _succeeded(self, lane: _Lane) -> None:
        with self._cond:
            self.delivered += 1
            lane.sending = None
            lane.failures = 0
            if lane.closed:
                return
            if lane.waiting:
                self._schedule(lane, self.clock())
            else:
                self._discard(lane)  # empty: drop the lane so the table holds only channels with work

    def _failed(self, lane: _Lane, reason: str) -> None:
        with self._cond:
            self.failed += 1
            lane.failures += 1
            drop = lane.failures >= self.attempts and not lane.closed
            if not drop:
                host = _host(lane.channel.send_to)
                log.debug("webhook to %s for channel %s failed (%s)", host, lane.channel.id, reason)
        if drop:
            self._drop(lane, reason)
        else:
            self._retry(lane, counted=True)

    def _retry(self, lane: _Lane, *, counted: bool) -> None:
        """Put the notification in flight back at the head of the queue, due after the back-off."""
        with self._cond:
            notification, lane.sending = lane.sending, None
            if lane.closed:
                if notification is not None:
                    self.discarded += 1
                return
            if notification is not None:
                lane.waiting.appendleft(notification)
                self._trim(lane)
            n = lane.failures if counted else lane.failures + 1
            self._schedule(lane, self.clock() + self._delay(n))

    def _delay(self, failures: int) -> float:
        """Seconds before the next attempt after ``failures`` consecutive failures (≥ 1)."""
        base = self.backoff * 2.0 ** min(max(failures, 1) - 1, 64)
        return min(self.max_backoff, base * self._random.uniform(1 - JITTER, 1 + JITTER))

    def _drop(self, lane: _Lane, reason: str) -> None:
        channel = lane.channel
        with self._cond:
            lost = 1 if lane.sending is not None else 0
            lane.sending = None
            self.discarded += lost
            self._discard(lane)
            self.dropped_channels += 1
            failures = lane.failures
        # One line, naming the host only: the URL's path or query may hold a secret token.
        log.warning(
            "dropped webhook channel %s after %d failed deliveries to %s (last: %s)",
            channel.id,
            failures,
            _host(channel.send_to),
            reason,
        )
        try:
            self.channels.remove(channel.id)
        except Exception:
            log.exception("could not remove webhook channel %s", channel.id)
        if self.on_drop is not None:
            try:
                self.on_drop(channel)
            except Exception:
                log.exception("on_drop failed for webhook channel %s", channel.id)


def _host(url: str | None) -> str:
    try:
        return urlsplit(url or "").hostname or "an unknown host"
    except ValueError:
        return "an unknown host"


__all__ = ["JITTER", "HeaderSource", "WebhookSender"]
