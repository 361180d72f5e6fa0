"""The notification service: subscriptions, channels and live receivers, below the HTTP layer.

:class:`NotificationService` ties the parts together (see the package docstring for the path of a
change). The HTTP layer (:mod:`pod_server.http.notifications`) parses requests, takes sockets
from the WSGI server and calls the methods here with plain values.
"""

from __future__ import annotations

import functools
import logging
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

from rdflib import Graph, URIRef

from pod_server.access.credentials import Credentials
from pod_server.access.decision import AccessPolicy
from pod_server.errors import BadRequest, Forbidden, NotFound, PodError, UnprocessableContent
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.ldp.model import Operation
from pod_server.notifications.activity import NOTIFY_CONTEXT, Activity, current, iso_time, quoted
from pod_server.notifications.bus import Bus
from pod_server.notifications.change import Change, ChannelClosed, Message, WebhooksChanged
from pod_server.notifications.channel import Channel, ChannelStore, ChannelType
from pod_server.notifications.dispatcher import Dispatcher, Receiver, credentials_of
from pod_server.notifications.hub import Hub, Outlet
from pod_server.notifications.subscription import SubscriptionRequest, read_request
from pod_server.notifications.webhooks import WebhookSender
from pod_server.store import events
from pod_server.store.resource_store import ResourceStore
from pod_server.vocab import NOTIFY

log = logging.getLogger(__name__)

CHANNEL_TYPES: tuple[ChannelType, ...] = (
    "WebSocketChannel2023",
    "WebhookChannel2023",
    "StreamingHTTPChannel2023",
)
FEATURES = ("accept", "endAt", "rate", "startAt", "state")
"""The features every channel type here supports (Notifications Protocol §7)."""
ROUTE = ".notifications/"
SOCKET_SEGMENT = "socket/"


@dataclass(frozen=True)
class NotificationPolicy:
    """Server limits on channels."""

    max_duration: float = 14 * 24 * 3600.0
    """Channels end at most this long after they are made (``endAt`` is clamped, and reported)."""
    allow_http_send_to: frozenset[str] = frozenset()
    """Hosts a webhook may target over plain http (development); everyone else needs https."""
    legacy: bool = True
    """Serve the solid-0.1 WebSocket protocol (``Updates-Via``)."""


@functools.cache
def renderer(media_type: str) -> Callable[[Activity], str]:
    """One shared render function per media type, so the dispatcher renders an activity once for
    every receiver that wants the same format."""

    def render(activity: Activity) -> str:
        return activity.render(media_type)

    return render


def legacy_render(activity: Activity) -> str:
    """solid-0.1: ``pub <topic>``: the container for an Add or Remove, else the resource itself."""
    return f"pub {activity.target or activity.object}"


class NotificationService:
    def __init__(
        self,
        store: ResourceStore,
        ids: IdentifierMap,
        access: AccessPolicy,
        channels: ChannelStore,
        bus: Bus,
        hub: Hub,
        *,
        base_url: str,
        policy: NotificationPolicy = NotificationPolicy(),
        webhooks: WebhookSender | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.ids = ids
        self.access = access
        self.channels = channels
        self.bus = bus
        self.hub = hub
        self.base_url = base_url
        self.policy = policy
        self.webhooks = webhooks
        self.clock = clock
        scheme, rest = base_url.split(":", 1)
        self.ws_base = ("wss:" if scheme == "https" else "ws:") + rest
        self.dispatcher = Dispatcher(
            store,
            access,
            channels,
            deliver_webhook=self._post_webhook if webhooks is not None else None,
            on_revoked=self.close_channel,
            clock=clock,
        )
        self._connected = False
        self._listeners: list[Callable[[Message], None]] = []

    def add_listener(self, listener: Callable[[Message], None]) -> None:
        """Also hand every bus message (from any worker, this one's own included) to ``listener``,
        on the bus thread, after the dispatcher. It must be quick and must not raise; an error is
        logged and does not reach the dispatcher or other listeners. Used by the query index."""
        self._listeners.append(listener)

    def _on_message(self, message: Message) -> None:
        self.dispatcher.publish_to(message)
        for listener in self._listeners:
            try:
                listener(message)
            except Exception:
                log.exception("a bus listener failed on %s", type(message).__name__)

    # -- life cycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Listen to the store and the bus. Call once, in the process that serves requests."""
        if self._connected:
            return
        self._connected = True
        self.bus.listen(self._on_message)
        for signal, kind in (
            (events.created, "created"),
            (events.updated, "updated"),
            (events.deleted, "deleted"),
        ):
            signal.connect(functools.partial(self._on_event, kind), sender=self.store, weak=False)

    def close(self) -> None:
        self.bus.close()
        self.dispatcher.close()
        self.hub.close()
        if self.webhooks is not None:
            self.webhooks.close()

    def _on_event(
        self, kind: str, sender: Any, *, path: str, url: str, etag: str, container: str | None
    ) -> None:
        # In the writer's thread: build the message and queue it, nothing more.
        try:
            change = Change(
                kind=kind,  # type: ignore[arg-type]
                path=path,
                url=url,
                etag=etag,
                container=container,
                container_url=None if container is None else self.ids.to_url(container),
                published=self.clock(),
                id=f"urn:uuid:{uuid.uuid4()}",
            )
            self.bus.publish(change)
            self.dispatcher.local(change)
        except Exception:  # a notification must never fail a write
            log.exception("could not announce a change to %s", path)

    # -- discovery ----------------------------------------------------------------------------
    def service_url(self, channel_type: ChannelType) -> str:
        return f"{self.base_url}{ROUTE}{channel_type}/"

    def describe_storage(self, graph: Graph, storage: URIRef) -> None:
        """Add the subscription services to a storage description (Notifications §4.1)."""
        for channel_type in CHANNEL_TYPES:
            service = URIRef(self.service_url(channel_type))
            graph.add((storage, NOTIFY.subscription, service))
            graph.add((service, NOTIFY.channelType, getattr(NOTIFY, channel_type)))
            for feature in FEATURES:
                graph.add((service, NOTIFY.feature, getattr(NOTIFY, feature)))

    def describe_service(self, channel_type: ChannelType) -> dict[str, Any]:
        """The subscription service description (Notifications §6.1), as JSON-LD."""
        return {
            "@context": [NOTIFY_CONTEXT],
            "id": self.service_url(channel_type),
            "channelType": str(getattr(NOTIFY, channel_type)),
            "feature": list(FEATURES),
        }

    def streaming_url(self, topic_url: str) -> str:
        """The pre-established StreamingHTTPChannel2023 channel of a topic (CSS's convention)."""
        return f"{self.base_url}{ROUTE}StreamingHTTPChannel2023/{quote(topic_url, safe='')}"

    def legacy_url(self) -> str:
        """``Updates-Via``: the server root, as a WebSocket URL (solid-0.1)."""
        return self.ws_base

    # -- subscribing --------------------------------------------------------------------------
    def subscribe(
        self, channel_type: ChannelType, body: bytes, content_type: str, credentials: Credentials
    ) -> Channel:
        """Read, check and store a subscription; the caller answers with :meth:`describe`."""
        request = read_request(body, content_type, channel_type, self.service_url(channel_type))
        topic_path = self.topic_path(request.topic)
        # Consensus and CSS: a subscriber needs Read on the topic (401 or 403 otherwise).
        self.access.authorize(Operation("GET", topic_path, request.topic), credentials)
        now = self.clock()
        end_at = now + self.policy.max_duration
        if request.end_at is not None:
            if request.end_at <= now:
                raise UnprocessableContent("endAt is in the past: the channel would never deliver")
            end_at = min(end_at, request.end_at)
        if request.start_at is not None and request.start_at >= end_at:
            raise UnprocessableContent("startAt is after the channel's end")
        if request.send_to is not None:
            self._check_send_to(request.send_to)
        channel_id = f"{self.service_url(channel_type)}{uuid.uuid4()}"
        receive_from = None
        if channel_type == "WebSocketChannel2023":
            receive_from = f"{self.ws_base}{ROUTE}{channel_type}/{SOCKET_SEGMENT}{secrets.token_urlsafe(24)}"
        elif channel_type == "StreamingHTTPChannel2023":
            receive_from = self.streaming_url(request.topic)
        channel = Channel(
            id=channel_id,
            type=channel_type,
            topic=request.topic,
            topic_path=topic_path,
            end_at=end_at,
            created=now,
            webid=credentials.webid,
            client_id=credentials.client_id,
            issuer=credentials.issuer,
            origin=credentials.origin,
            accept=request.accept or "application/ld+json",
            rate=request.rate,
            start_at=request.start_at,
            state=request.state,
            send_to=request.send_to,
            receive_from=receive_from,
        )
        if channel_type != "StreamingHTTPChannel2023":
            self.channels.add(channel)
        if channel_type == "WebhookChannel2023":
            # This worker at once (a write right after the answer must be posted), the others
            # through the bus.
            self.dispatcher.publish_to(WebhooksChanged())
            self.bus.publish(WebhooksChanged())
            if request.state is not None:
                self._send_state_to_webhook(channel, request)
        return channel

    def describe(self, channel: Channel, *, requested: SubscriptionRequest | None = None) -> dict[str, Any]:
        """The channel description a subscription is answered with (Notifications §6.2)."""
        document: dict[str, Any] = {
            "@context": [NOTIFY_CONTEXT],
            "id": channel.id,
            "type": str(getattr(NOTIFY, channel.type)),
            "topic": channel.topic,
        }
        if channel.receive_from is not None:
            document["receiveFrom"] = channel.receive_from
        if channel.send_to is not None:
            document["sendTo"] = channel.send_to
            document["sender"] = self.sender_webid()
        if channel.start_at is not None:
            document["startAt"] = iso_time(channel.start_at)
        document["endAt"] = iso_time(channel.end_at)
        if channel.rate is not None:
            document["rate"] = f"PT{channel.rate:g}S"
        if channel.state is not None:
            document["state"] = channel.state
        document["accept"] = channel.accept
        return document

    def sender_webid(self) -> str:
        return self.sender_of(self.base_url)

    @staticmethod
    def sender_of(base_url: str) -> str:
        """The WebID webhook POSTs are sent as (WebhookChannel2023 #auth: ``sender``)."""
        return f"{base_url}{ROUTE}WebhookChannel2023/sender#this"

    def unsubscribe(self, channel_id: str, credentials: Credentials) -> None:
        """``DELETE`` a channel (CSS's convention; the protocol leaves unsubscribing open). Only the
        agent that subscribed may; the channel's sockets close on every worker."""
        channel = self.channels.get(channel_id, now=self.clock())
        if channel is None:
            raise NotFound("there is no such notification channel (it may have ended)")
        if channel.webid is not None and credentials.webid != channel.webid:
            if credentials.webid is None:
                self.access.authorize(Operation("GET", channel.topic_path, channel.topic), credentials)
            raise Forbidden("only the agent that made this channel may remove it")
        self.close_channel(channel)

    def close_channel(self, channel: Channel) -> None:
        """Remove a channel and tell every worker to close its connections."""
        self.channels.remove(channel.id)
        self.bus.publish(ChannelClosed(channel.id))

    # -- receivers ----------------------------------------------------------------------------
    def websocket_channel(self, receive_from: str) -> Channel:
        """The WebSocket channel a socket URL opens; ``NotFound`` before any handshake if none."""
        channel = self.channels.by_receive_from(receive_from, now=self.clock())
        if channel is None or channel.type != "WebSocketChannel2023":
            raise NotFound("there is no such notification channel (it may have ended); subscribe again")
        return channel

    def topic_etag(self, topic_path: str) -> str | None:
        """The topic's ETag as notifications quote it (``state``), or ``None`` while it is absent."""
        try:
            return quoted(self.store.stat(topic_path).etag)
        except NotFound:
            return None

    def attach_channel(self, channel: Channel, outlet: Outlet, *, seen: str | None) -> Receiver:
        """Serve ``channel`` on an open WebSocket; a stale ``state`` is answered at once.

        ``seen`` is the topic's ETag (:meth:`topic_etag`) from before the handshake's ``101`` went
        out: a client may write the moment it has the ``101``, before this receiver is listening,
        so a topic that changed since then is announced at once instead of being missed."""
        receiver = Receiver(
            outlet,
            channel.topic_path,
            channel.topic,
            renderer(channel.accept),
            channel,
            credentials_of(channel),
        )
        now = self._state_activity(channel.topic_path, channel.topic, channel.state)
        if now is None and channel.state is None:
            etag = self.topic_etag(channel.topic_path)
            if etag != seen:
                now = current(channel.topic, etag, self.clock(), secrets.token_hex(8))
        self.dispatcher.add(receiver, now_activity=now)
        return receiver

    def attach_stream(
        self, topic_path: str, topic_url: str, credentials: Credentials, media_type: str, outlet: Outlet
    ) -> Receiver:
        """Serve a StreamingHTTPChannel2023 reader of ``topic_path`` (from :meth:`check_read`);
        the first chunk is the topic's current state."""
        receiver = Receiver(outlet, topic_path, topic_url, renderer(media_type), None, credentials)
        self.dispatcher.add(receiver, now_activity=self._state_activity(topic_path, topic_url, ""))
        return receiver

    def check_read(self, topic_url: str, credentials: Credentials) -> str:
        """The topic's path, after checking Read on it (401/403 otherwise)."""
        topic_path = self.topic_path(topic_url)
        self.access.authorize(Operation("GET", topic_path, topic_url), credentials)
        return topic_path

    def legacy_message(self, outlet: Outlet, text: str, subscribed: dict[str, Receiver]) -> None:
        """One solid-0.1 message from a client (``sub <uri>``); answers on ``outlet``."""
        keyword, _, value = text.strip().partition(" ")
        value = value.strip()
        if keyword != "sub":
            if keyword in {"ping", "unsub"}:
                return
            outlet.send(f"warning Unrecognized message type: {keyword[:100]}")
            return
        if not value:
            outlet.send("warning Unrecognized message format: sub needs a URL")
            return
        try:
            topic_path = self.topic_path(value)
        except PodError:
            outlet.send(f"error Bad request: {value[:300]} is not a resource on this server")
            return
        if value not in subscribed:
            receiver = Receiver(outlet, topic_path, value, legacy_render)
            subscribed[value] = receiver
            self.dispatcher.add(receiver)
        outlet.send(f"ack {value}")

    def detach(self, receiver: Receiver) -> None:
        self.dispatcher.remove(receiver)

    # -- helpers ------------------------------------------------------------------------------
    def topic_path(self, topic_url: str) -> str:
        """The storage path of a topic URL on this server; ``UnprocessableContent`` otherwise."""
        parts = urlsplit(topic_url)
        base = urlsplit(self.base_url)
        host_ok = parts.netloc.lower() == base.netloc.lower() or (
            self.ids.subdomains and parts.netloc.lower().endswith("." + base.netloc.lower())
        )
        if parts.scheme != base.scheme or not host_ok or parts.query or parts.fragment:
            raise UnprocessableContent(f"the topic {topic_url[:300]} is not a resource on this server")
        try:
            path = self.ids.to_path(parts.netloc, parts.path or "/")
        except BadRequest as e:
            raise UnprocessableContent(f"the topic is not a valid resource URL: {e.detail}") from None
        if self.ids.storage_root(path) is None or self.ids.is_server_managed(path):
            raise UnprocessableContent(f"the topic {topic_url[:300]} is not in a storage")
        return path

    def _check_send_to(self, send_to: str) -> None:
        parts = urlsplit(send_to)
        if parts.scheme == "https":
            return
        if parts.scheme == "http" and (parts.hostname or "") in self.policy.allow_http_send_to:
            return
        # WebhookChannel2023 §2: sendTo MUST be an https URI.
        raise UnprocessableContent("sendTo must be an https URL")

    def _state_activity(self, topic_path: str, topic_url: str, state: str | None) -> Activity | None:
        """Notifications §7 ``state``: when the subscriber's state is not the topic's, say so now."""
        if state is None:
            return None
        etag = self.topic_etag(topic_path)
        if etag is not None and _same_etag(etag, state):
            return None
        return current(topic_url, etag, self.clock(), secrets.token_hex(8))

    def _send_state_to_webhook(self, channel: Channel, request: SubscriptionRequest) -> None:
        activity = self._state_activity(channel.topic_path, channel.topic, request.state)
        if activity is not None:
            self._post_webhook(channel, activity)

    def _post_webhook(self, channel: Channel, activity: Activity) -> None:
        assert self.webhooks is not None
        self.webhooks.deliver(channel, activity.render(channel.accept).encode(), channel.accept)


def _same_etag(a: str, b: str) -> bool:
    def bare(tag: str) -> str:
        return tag.strip().removeprefix("W/").strip('"')

    return bare(a) == bare(b)


__all__ = [
    "CHANNEL_TYPES",
    "FEATURES",
    "NotificationPolicy",
    "NotificationService",
    "legacy_render",
    "renderer",
]
