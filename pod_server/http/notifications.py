"""Notification routes, under ``/.notifications/`` (Solid Notifications Protocol), and the legacy
solid-0.1 WebSocket at the server root.

- ``GET|HEAD /.notifications/{Type}/``: the subscription service description (§6.1);
- ``POST /.notifications/{Type}/``: subscribe; answers the channel description (§6.2);
- ``DELETE /.notifications/{Type}/{id}``: unsubscribe (205; CSS's convention);
- ``GET /.notifications/WebSocketChannel2023/socket/{token}``: a channel's WebSocket (``receiveFrom``);
- ``GET /.notifications/StreamingHTTPChannel2023/{topic URL, percent-encoded}``: a streaming reader;
- ``GET /.notifications/WebhookChannel2023/sender``: the WebID webhook POSTs are signed as;
- ``GET /`` with ``Upgrade: websocket``: solid-0.1 (``Updates-Via`` names it).

Every LDP response carries ``Updates-Via`` and a ``Link`` to the topic's streaming channel.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, request

from pod_server.errors import BadRequest, MethodNotAllowed, NotAcceptable, NotFound, ServiceUnavailable
from pod_server.http import cors
from pod_server.http import ldp as ldp_http
from pod_server.http.handoff import Detached, accept_websocket, start_stream
from pod_server.notifications.channel import ChannelType
from pod_server.notifications.dispatcher import Receiver
from pod_server.notifications.hub import Outlet
from pod_server.notifications.sender import sender_profile
from pod_server.notifications.service import CHANNEL_TYPES, ROUTE, SOCKET_SEGMENT, NotificationService
from pod_server.rdf import formats
from pod_server.rdf.convert import parse, serialize
from pod_server.rdf.limits import RdfLimits
from pod_server.vocab import SOLID

EXTENSION = "pod_server.notifications"
LEGACY_PROTOCOL = "solid-0.1"
STREAMING_REL = str(SOLID.updatesViaStreamingHttp2023)
_SERVICE_METHODS = ("GET", "HEAD", "OPTIONS", "POST")
_LIMITS = RdfLimits(max_bytes=1 << 20, max_triples=10_000, max_literal_bytes=1 << 16, max_jsonld_depth=16)

bp = Blueprint("notifications", __name__)


def _service() -> NotificationService:
    found: NotificationService = current_app.extensions[EXTENSION]
    return found


_BY_NAME: dict[str, ChannelType] = {name: name for name in CHANNEL_TYPES}


def _channel_type(name: str) -> ChannelType:
    found = _BY_NAME.get(name)
    if found is None:
        raise NotFound(
            f"there is no {name[:100]} subscription service; try one of {', '.join(CHANNEL_TYPES)}"
        )
    return found


def _document(document: dict[str, Any], status: int = 200) -> Response:
    """JSON-LD, or Turtle when the client prefers it (``@solid-notifications/subscription`` does)."""
    chosen = formats.negotiate(
        request.headers.get("Accept"), [formats.JSONLD, formats.TURTLE, "application/json"]
    )
    if chosen is None:
        raise NotAcceptable("notification documents are available as application/ld+json or text/turtle")
    body = json.dumps(document).encode()
    if chosen == formats.TURTLE:
        graph = parse(body, formats.JSONLD, str(document["id"]), _LIMITS)
        body = serialize(graph, formats.TURTLE, str(document["id"]))
    response = Response(
        body, status=status, content_type=chosen if chosen != "application/json" else formats.JSONLD
    )
    response.headers["Vary"] = "Accept"
    return response


@bp.route(f"/{ROUTE}<name>/", methods=list(_SERVICE_METHODS))
def subscription_service(name: str) -> Response:
    if cors.is_preflight():
        return cors.preflight_response()
    svc = _service()
    channel_type = _channel_type(name)
    if request.method == "OPTIONS":
        return Response(
            status=204,
            headers={"Allow": ", ".join(_SERVICE_METHODS), "Accept-Post": "application/ld+json, text/turtle"},
        )
    if request.method in {"GET", "HEAD"}:
        response = _document(svc.describe_service(channel_type))
        response.headers["Accept-Post"] = "application/ld+json, text/turtle"
        return response
    url = svc.service_url(channel_type)
    credentials = ldp_http.credentials(ldp_http.services(), url)
    body = request.get_data(cache=False)
    channel = svc.subscribe(channel_type, body, request.headers.get("Content-Type", ""), credentials)
    return _document(svc.describe(channel))


@bp.route(f"/{ROUTE}<name>/<path:rest>", methods=["GET", "HEAD", "OPTIONS", "DELETE"])
def channel_resource(name: str, rest: str) -> Response:
    if cors.is_preflight():
        return cors.preflight_response()
    svc = _service()
    channel_type = _channel_type(name)
    if channel_type == "WebSocketChannel2023" and rest.startswith(SOCKET_SEGMENT):
        raise BadRequest("this address takes WebSocket connections (Upgrade: websocket), not plain HTTP")
    if channel_type == "StreamingHTTPChannel2023" and "://" in rest:
        return _stream(svc, rest)
    if channel_type == "WebhookChannel2023" and rest == "sender":
        if request.method not in {"GET", "HEAD"}:
            raise MethodNotAllowed(
                "the sender's WebID document is read-only", allow=("GET", "HEAD", "OPTIONS")
            )
        graph = sender_profile(svc.sender_webid(), svc.base_url)
        chosen = formats.negotiate(request.headers.get("Accept"), formats.WRITABLE) or formats.TURTLE
        return Response(serialize(graph, chosen, svc.sender_webid()), content_type=chosen)
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": "DELETE, OPTIONS"})
    if request.method != "DELETE":
        raise MethodNotAllowed("a channel can only be deleted (unsubscribe)", allow=("DELETE", "OPTIONS"))
    channel_id = svc.service_url(channel_type) + rest
    svc.unsubscribe(channel_id, ldp_http.credentials(ldp_http.services(), channel_id))
    return Response(status=205)


# werkzeug routes WebSocket upgrades only to rules marked websocket=True (else 400).
@bp.route(f"/{ROUTE}WebSocketChannel2023/{SOCKET_SEGMENT}<token>", websocket=True)
def websocket_channel(token: str) -> Response:
    svc = _service()
    channel = svc.websocket_channel(f"{svc.ws_base}{ROUTE}WebSocketChannel2023/{SOCKET_SEGMENT}{token}")
    _room_for_one_more(svc)
    seen = svc.topic_etag(channel.topic_path)  # before the 101: see attach_channel
    sock, _ = accept_websocket(request.environ)
    held: list[Receiver] = []
    outlet = svc.hub.websocket(sock, on_close=_detaching(svc, held))
    held.append(svc.attach_channel(channel, outlet, seen=seen))
    return Detached(outlet)


def _room_for_one_more(svc: NotificationService) -> None:
    """A real 503 before the handshake, rather than a WebSocket closed with 1013 after it."""
    if svc.hub.full:
        raise ServiceUnavailable("this server holds as many live connections as it can; try again later")


def _detaching(svc: NotificationService, held: Collection[Receiver]) -> Callable[[Outlet], None]:
    """An ``on_close`` that stops serving the receivers a connection held (read when it closes)."""

    def on_close(_outlet: Outlet) -> None:
        for receiver in list(held):
            svc.detach(receiver)

    return on_close


def _stream(svc: NotificationService, topic_url: str) -> Response:
    if request.method == "OPTIONS":
        return Response(status=204, headers={"Allow": "GET, OPTIONS"})
    if request.method != "GET":
        raise MethodNotAllowed("a streaming channel is read with GET", allow=("GET", "OPTIONS"))
    credentials = ldp_http.credentials(ldp_http.services(), request.url)
    topic_path = svc.check_read(topic_url, credentials)
    _room_for_one_more(svc)
    media_type = (
        formats.negotiate(request.headers.get("Accept"), [formats.TURTLE, formats.JSONLD]) or formats.TURTLE
    )
    head = cors.add_cors(Response(content_type=media_type))
    head.headers["Cache-Control"] = "no-store"
    head.headers["X-Accel-Buffering"] = "no"  # proxies (nginx) must pass each chunk on at once
    headers = [(k, v) for k, v in head.headers.items() if k.lower() != "content-length"]
    sock = start_stream(request.environ, 200, headers)
    held: list[Receiver] = []
    outlet = svc.hub.stream(sock, on_close=_detaching(svc, held))
    held.append(svc.attach_stream(topic_path, topic_url, credentials, media_type, outlet))
    return Detached(outlet)


def _legacy() -> Response | None:
    """``before_request``: a WebSocket upgrade at the server root speaks solid-0.1."""
    if request.path != "/" or request.headers.get("Upgrade", "").lower() != "websocket":
        return None
    svc = _service()
    if not svc.policy.legacy:
        raise NotFound("the solid-0.1 WebSocket protocol is turned off on this server")
    _room_for_one_more(svc)
    offered = [p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",") if p.strip()]
    sock, _ = accept_websocket(
        request.environ, subprotocols=(LEGACY_PROTOCOL,) if LEGACY_PROTOCOL in offered else ()
    )
    subscribed: dict[str, Receiver] = {}

    def on_text(outlet: Outlet, text: str) -> None:
        svc.legacy_message(outlet, text, subscribed)

    outlet = svc.hub.websocket(sock, on_text=on_text, on_close=_detaching(svc, subscribed.values()))
    # solid-0.1: greet with the protocol; warn or refuse when the client did not ask for it.
    if not offered:
        outlet.send("warning Missing Sec-WebSocket-Protocol header, expected value 'solid-0.1'")
    elif LEGACY_PROTOCOL not in offered:
        outlet.send("error Client does not support protocol solid-0.1")
        outlet.close(1002, "solid-0.1 only")
        return Detached(outlet)
    outlet.send(f"protocol {LEGACY_PROTOCOL}")
    return Detached(outlet)


def _advertise(response: Response) -> Response:
    """``after_request`` on LDP responses: where to listen for changes to this resource."""
    if request.blueprint != "ldp" or response.status_code >= 500:
        return response
    svc = _service()
    if svc.policy.legacy:
        response.headers["Updates-Via"] = svc.legacy_url()
    topic = g.get("pod_url")
    if topic is not None and response.status_code < 400:
        link = f'<{svc.streaming_url(topic)}>; rel="{STREAMING_REL}"'
        existing = response.headers.get("Link")
        response.headers["Link"] = f"{existing}, {link}" if existing else link
    return response


def init_app(app: Flask, service: NotificationService) -> None:
    app.extensions[EXTENSION] = service
    app.before_request(_legacy)
    app.after_request(_advertise)
    app.register_blueprint(bp)


__all__ = ["EXTENSION", "LEGACY_PROTOCOL", "STREAMING_REL", "bp", "init_app"]
