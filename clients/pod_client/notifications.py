"""Subscribing to changes: the Solid Notifications Protocol, with WebSocketChannel2023.

Works with any server that implements the protocol (https://solidproject.org/TR/notifications-protocol):

1. Discovery (Notifications Protocol §"Discovery"): the topic's ``Link: <...>;
   rel="http://www.w3.org/ns/solid/terms#storageDescription"`` names the storage description; read
   as RDF, it lists subscription services, each with a ``notify:channelType``.
2. Subscription (§"Subscription"): ``POST`` a JSON-LD channel request to the service, with the
   session's credentials (the server checks Read on the topic). The answer describes the channel:
   its ``id``, and for WebSocketChannel2023 the ``receiveFrom`` URL.
3. Notifications (WebSocketChannel2023): open a WebSocket to ``receiveFrom`` (no credentials: the
   URL is the capability); each text message is one notification, an Activity Streams 2.0
   activity (``Create``, ``Update``, ``Delete``, ``Add``, ``Remove``).
4. ``DELETE`` the channel ``id`` to unsubscribe; the server then closes the socket.

Features (``accept``, ``endAt``, ``rate``, ``startAt``, ``state``) are passed through as keyword
arguments; ``end_at=...`` is the same as ``endAt=...``.

What :func:`watch` yields depends on the ``accept`` feature: a ``dict`` (the parsed JSON) when
notifications are JSON (``application/ld+json``, the default, or ``application/activity+json``),
and the message text as a ``str`` otherwise (``accept="text/turtle"`` gives Turtle strings).

:func:`watch` subscribes and opens the socket before it returns, so no change made after it is
missed. It returns a :class:`Watch`: an iterator that ends when the server closes the channel
(:func:`unsubscribe`, ``endAt``, access revoked), whose ``close()`` closes the socket, and whose
``channel`` is the channel description. WebSocket failures become
:class:`pod_client.errors.PodClientError` (``status`` ``None``, or the handshake's status).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import websocket  # websocket-client
from rdflib import URIRef

from pod_client.errors import NotFound, PodClientError, raise_for_status
from pod_client.links import link, parent
from pod_client.vocab import NOTIFY, SOLID

if TYPE_CHECKING:
    from pod_client.pod import Pod


NOTIFICATION_CONTEXT = "https://www.w3.org/ns/solid/notification/v1"
"""The JSON-LD context of channel requests (the 2023 channel types; CSS and pod-server read it)."""

Event = dict[str, Any] | str
"""One notification: parsed JSON, or the raw text for a non-JSON ``accept`` type."""

_JSONLD = "application/ld+json"


# -- subscribing -----------------------------------------------------------------------------------
def subscribe(
    pod: Pod, topic: str, *, channel_type: str = "WebSocketChannel2023", **features: str
) -> dict[str, Any]:
    """Open a notification channel on ``topic``; returns the server's channel description (a
    JSON-LD object: ``id``, ``type``, ``topic``, ``receiveFrom`` or ``sendTo``, and the features).

    ``channel_type`` is a name in the notifications namespace or a full IRI."""
    channel_iri = _channel_type(channel_type)
    service = subscription_service(pod, topic, channel_iri)
    request = {
        "@context": [NOTIFICATION_CONTEXT],
        "type": str(channel_iri),
        "topic": topic,
        **{_camel(name): value for name, value in features.items()},
    }
    response = pod.session.request(
        "POST",
        service,
        headers={"Content-Type": _JSONLD, "Accept": _JSONLD},
        data=json.dumps(request).encode(),
    )
    raise_for_status(response)
    try:
        channel = response.json()
    except ValueError as exc:
        raise PodClientError(f"the subscription service answered no JSON: {exc}", url=service) from exc
    if not isinstance(channel, dict):
        raise PodClientError("the subscription service answered no channel description", url=service)
    return channel


def subscription_service(
    pod: Pod, topic: str, channel_type: str | URIRef = NOTIFY.WebSocketChannel2023
) -> str:
    """The URL of the subscription service for ``channel_type`` that the topic's storage description
    lists (Notifications Protocol §"Discovery", Solid Protocol §4.1 "Storage Description").

    A topic that does not exist yet (404) may be watched for its creation: the storage description
    is then found on the nearest container above it that exists."""
    channel_iri = _channel_type(str(channel_type))
    description = _storage_description(pod, topic)
    graph = pod.get_graph(description).graph
    for service in sorted(graph.subjects(NOTIFY.channelType, channel_iri), key=str):
        return str(service)
    raise PodClientError(
        f"this storage offers no {channel_iri.rsplit('#', 1)[-1]} subscriptions", url=description
    )


def _storage_description(pod: Pod, topic: str) -> str:
    """The storage description URL from ``Link: <...>; rel=solid:storageDescription`` (Solid
    Protocol §4.1: sent for every resource of a storage), asked of ``topic`` or, while that is
    404, of the containers above it."""
    url: str | None = topic
    while url is not None:
        head = pod.session.request("HEAD", url)
        found = link(head, str(SOLID.storageDescription))
        if found is not None:
            return found
        if head.status_code != 404:
            raise_for_status(head)
            raise PodClientError(
                f"{url} names no storage description, so no notifications are offered", url=url
            )
        url = parent(url)
    raise NotFound(f"neither {topic} nor any container above it exists", url=topic, status=404)


def unsubscribe(pod: Pod, channel_id: str) -> None:
    """End a channel: ``DELETE`` its ``id`` (Notifications Protocol §"Unsubscription"). The server
    closes its WebSockets, so a :func:`watch` on it ends."""
    raise_for_status(pod.session.request("DELETE", channel_id))


# -- watching --------------------------------------------------------------------------------------
class Watch(Iterator[Event]):
    """The notifications of one WebSocketChannel2023 channel, as an iterator.

    The socket is open as soon as the object exists, so no change made after :func:`watch` returns
    is missed. Iteration ends when the server closes the channel (unsubscribed, ``endAt`` reached,
    access revoked); :meth:`close` (or leaving a ``with`` block) closes it from this side.
    ``timeout`` bounds the wait for each notification: ``TimeoutError`` when it passes, after
    which the watch can still be used."""

    def __init__(self, channel: Mapping[str, Any], *, timeout: float | None = None) -> None:
        self.channel: dict[str, Any] = dict(channel)
        url = self.channel.get("receiveFrom")
        if not isinstance(url, str):
            raise PodClientError("the channel has no receiveFrom URL (is it a WebSocketChannel2023?)")
        accept = str(self.channel.get("accept") or _JSONLD)
        self.json = "json" in accept.split(";", 1)[0].lower()
        self.timeout = timeout
        self.closed = False
        try:
            self._socket = websocket.create_connection(url, timeout=timeout)
        except websocket.WebSocketBadStatusException as exc:
            raise_for_status(_Handshake(url, exc))
            raise PodClientError(f"the WebSocket handshake failed: {exc}", url=url) from exc
        except (OSError, websocket.WebSocketException) as exc:
            raise PodClientError(f"could not open the WebSocket: {exc}", url=url) from exc

    def __iter__(self) -> Watch:
        return self

    def __next__(self) -> Event:
        if self.closed:
            raise StopIteration
        self._socket.settimeout(self.timeout)
        while True:
            try:
                opcode, frame = self._socket.recv_data_frame(control_frame=True)
            except websocket.WebSocketTimeoutException as exc:
                raise TimeoutError(f"no notification within {self.timeout} s") from exc
            except (OSError, websocket.WebSocketException) as exc:
                self.close()
                raise PodClientError(f"the notification socket failed: {exc}") from exc
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                # RFC 6455 §5.5.1: the server ended the channel; websocket-client has answered it.
                self.close()
                raise StopIteration
            if opcode == websocket.ABNF.OPCODE_TEXT:
                text = frame.data.decode() if isinstance(frame.data, bytes) else str(frame.data)
                return self._event(text)
            # pings are answered by websocket-client; pongs and binary frames carry no notification

    def _event(self, text: str) -> Event:
        if not self.json:
            return text
        try:
            found = json.loads(text)
        except ValueError as exc:
            raise PodClientError(f"a notification is not JSON: {text[:200]!r}") from exc
        if not isinstance(found, dict):
            raise PodClientError(f"a notification is not a JSON object: {text[:200]!r}")
        return found

    def close(self) -> None:
        """Close the socket (the channel itself stays until it ends or :func:`unsubscribe`)."""
        if not self.closed:
            self.closed = True
            self._socket.close(timeout=1)  # a close handshake, when it is still open (RFC 6455 §7.1.2)
            if self._socket.sock is not None:  # after the server's close, close() leaves it open
                self._socket.sock.close()

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def watch(pod: Pod, topic: str, *, timeout: float | None = None, **features: str) -> Watch:
    """Subscribe to ``topic`` and iterate over its notifications (see :class:`Watch`):

        with watch(pod, url) as changes:
            for change in changes:
                print(change["type"], change["object"])

    ``features`` are passed to :func:`subscribe`; ``watch(...).channel`` is the channel
    description, whose ``id`` :func:`unsubscribe` takes."""
    return listen(subscribe(pod, topic, **features), timeout=timeout)


def listen(channel: Mapping[str, Any], *, timeout: float | None = None) -> Watch:
    """Connect to a WebSocketChannel2023 channel that :func:`subscribe` opened."""
    return Watch(channel, timeout=timeout)


class _Handshake:
    """A refused WebSocket handshake, shaped like a ``requests.Response`` for ``raise_for_status``."""

    def __init__(self, url: str, exc: websocket.WebSocketBadStatusException) -> None:
        self.url = url
        self.status_code = int(exc.status_code)
        self.headers: Mapping[str, str] = exc.resp_headers or {}
        body = exc.resp_body
        self.text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")
        self.reason = str(exc)

    def json(self) -> Any:
        return json.loads(self.text)


def _channel_type(name: str) -> URIRef:
    if ":" in name:
        return URIRef(name)
    try:
        return URIRef(NOTIFY[name])
    except AttributeError as exc:
        raise ValueError(
            f"unknown channel type {name!r}: use WebSocketChannel2023, WebhookChannel2023 "
            "or StreamingHTTPChannel2023"
        ) from exc


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


__all__ = [
    "NOTIFICATION_CONTEXT",
    "NOTIFY",
    "SOLID",
    "Event",
    "Watch",
    "listen",
    "subscribe",
    "subscription_service",
    "unsubscribe",
    "watch",
]
