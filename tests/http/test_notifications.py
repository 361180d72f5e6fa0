"""Solid Notifications over real HTTP and WebSockets, on a live server in single-pod development
mode (everyone may read and write): discovery, WebSocketChannel2023, StreamingHTTPChannel2023,
the features, unsubscribe, malformed requests, and the legacy solid-0.1 protocol."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
import requests
from rdflib import Graph, Namespace, URIRef

from tests.conftest import LiveServer, _serve
from tests.http.helpers import links
from tests.notifications.helpers import (
    JSONLD,
    NOTIFY,
    Closed,
    connect,
    nothing_within,
    receive,
    receive_json,
    service_url,
    subscribe,
    subscription,
)

N = Namespace(NOTIFY)
TURTLE = {"Content-Type": "text/turtle"}
CHANNEL_TYPES = ["WebSocketChannel2023", "WebhookChannel2023", "StreamingHTTPChannel2023"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("notify"), single_pod=True)


def _iso(delta: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=delta)).isoformat().replace("+00:00", "Z")


def _ws_channel(server: LiveServer, topic: str, **features: object) -> dict[str, object]:
    r = subscribe(server.url, "WebSocketChannel2023", topic, **features)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/ld+json")
    found: dict[str, object] = r.json()
    return found


# -- discovery ---------------------------------------------------------------------------------
def test_the_storage_description_lists_every_subscription_service(server: LiveServer) -> None:
    r = requests.get(server.url + ".well-known/solid", headers={"Accept": "text/turtle"}, timeout=5)
    assert r.status_code == 200
    graph = Graph().parse(data=r.text, format="turtle", publicID=r.url)
    services = set(graph.objects(URIRef(server.url), N.subscription))
    assert services == {URIRef(service_url(server.url, t)) for t in CHANNEL_TYPES}
    for name in CHANNEL_TYPES:
        service = URIRef(service_url(server.url, name))
        assert graph.value(service, N.channelType) == N[name]
        assert set(graph.objects(service, N.feature)) == {
            N[f] for f in ("accept", "endAt", "rate", "startAt", "state")
        }


def test_a_subscription_service_describes_itself(server: LiveServer) -> None:
    url = service_url(server.url, "WebSocketChannel2023")
    r = requests.get(url, headers={"Accept": "application/ld+json"}, timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/ld+json")
    assert r.json()["id"] == url
    assert r.json()["channelType"] == NOTIFY + "WebSocketChannel2023"
    r = requests.get(url, headers={"Accept": "text/turtle"}, timeout=5)
    assert r.headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=r.text, format="turtle", publicID=url)
    assert graph.value(URIRef(url), N.channelType) == N.WebSocketChannel2023


def test_resources_advertise_their_streaming_channel_and_legacy_socket(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    assert requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5).status_code == 201
    r = requests.head(doc, timeout=5)
    streams = links(r)[NOTIFY.replace("notifications#", "terms#") + "updatesViaStreamingHttp2023"]
    assert streams == {f"{server.url}.notifications/StreamingHTTPChannel2023/{quote(doc, safe='')}"}
    assert r.headers["Updates-Via"] == server.url.replace("http://", "ws://")


# -- WebSocketChannel2023 ----------------------------------------------------------------------
def test_websocket_channel_delivers_create_update_delete(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    channel = _ws_channel(server, doc)
    assert channel["type"] == NOTIFY + "WebSocketChannel2023"
    assert channel["topic"] == doc
    assert str(channel["receiveFrom"]).startswith(server.url.replace("http://", "ws://"))
    ws = connect(str(channel["receiveFrom"]))
    try:
        put = requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
        created = receive_json(ws)
        assert created["type"] == "Create"
        assert created["object"] == doc
        assert created["state"] == put.headers["ETag"]
        assert created["@context"] == [
            "https://www.w3.org/ns/activitystreams",
            "https://www.w3.org/ns/solid/notification/v1",
        ]
        assert str(created["id"]).startswith("urn:uuid:")
        published = datetime.fromisoformat(str(created["published"]).replace("Z", "+00:00"))
        assert abs((datetime.now(UTC) - published).total_seconds()) < 30

        requests.put(doc, data="<#a> <#b> <#d> .", headers=TURTLE, timeout=5)
        assert receive_json(ws)["type"] == "Update"
        patch = requests.patch(
            doc,
            data="INSERT DATA { <#x> <#y> <#z> . }",
            headers={"Content-Type": "application/sparql-update"},
            timeout=5,
        )
        update = receive_json(ws)
        assert (update["type"], update["state"]) == ("Update", patch.headers["ETag"])
        requests.delete(doc, timeout=5)
        deleted = receive_json(ws)
        assert deleted["type"] == "Delete" and "state" not in deleted
    finally:
        ws.close()


def test_a_container_hears_children_added_and_removed(server: LiveServer) -> None:
    container = server.fresh()
    requests.put(container, headers=TURTLE, timeout=5)
    ws = connect(str(_ws_channel(server, container)["receiveFrom"]))
    try:
        made = requests.post(container, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
        child = made.headers["Location"]
        added = receive_json(ws)
        assert (added["type"], added["object"], added["target"]) == ("Add", child, container)
        assert added["state"] == requests.head(container, timeout=5).headers["ETag"]
        requests.put(child, data="<#a> <#b> <#e> .", headers=TURTLE, timeout=5)  # no Add/Remove
        requests.delete(child, timeout=5)
        removed = receive_json(ws)
        assert (removed["type"], removed["object"], removed["target"]) == ("Remove", child, container)
    finally:
        ws.close()


def test_accept_turtle_sends_turtle_notifications(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    channel = _ws_channel(server, doc, accept="text/turtle")
    assert channel["accept"] == "text/turtle"
    ws = connect(str(channel["receiveFrom"]))
    try:
        requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
        graph = Graph().parse(data=receive(ws), format="turtle")
        activity = next(iter(graph.subjects(URIRef(NOTIFY + "state"), None)))
        assert graph.value(activity, URIRef("https://www.w3.org/ns/activitystreams#object")) == URIRef(doc)
    finally:
        ws.close()


def test_state_a_stale_subscriber_is_told_at_once_a_current_one_is_not(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    etag = requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5).headers["ETag"]
    stale = connect(str(_ws_channel(server, doc, state='"old"')["receiveFrom"]))
    fresh = connect(str(_ws_channel(server, doc, state=etag)["receiveFrom"]))
    try:
        told = receive_json(stale)
        assert (told["type"], told["state"]) == ("Update", etag)
        assert nothing_within(fresh, 0.5)
    finally:
        stale.close()
        fresh.close()


def test_rate_holds_back_and_sends_only_the_latest(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    ws = connect(str(_ws_channel(server, doc, rate="PT1S")["receiveFrom"]))
    try:
        requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
        assert receive_json(ws)["type"] == "Create"
        started = time.monotonic()
        requests.put(doc, data="<#a> <#b> <#d> .", headers=TURTLE, timeout=5)
        last = requests.put(doc, data="<#a> <#b> <#e> .", headers=TURTLE, timeout=5).headers["ETag"]
        held = receive_json(ws, timeout=5)
        assert held["state"] == last  # the two updates within the rate became one: the latest
        assert time.monotonic() - started >= 0.5
        assert nothing_within(ws, 1.2)
    finally:
        ws.close()


def test_start_at_in_the_future_sends_nothing_yet(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    ws = connect(str(_ws_channel(server, doc, startAt=_iso(3600))["receiveFrom"]))
    try:
        requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
        assert nothing_within(ws, 0.7)
    finally:
        ws.close()


def test_end_at_is_reported_clamped_and_ends_the_channel(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    far = _ws_channel(server, doc, endAt=_iso(10 * 365 * 86400))
    end = datetime.fromisoformat(str(far["endAt"]).replace("Z", "+00:00"))
    assert end - datetime.now(UTC) < timedelta(days=15)  # clamped to the server's maximum
    short = _ws_channel(server, doc, endAt=_iso(1.5))
    ws = connect(str(short["receiveFrom"]))
    try:
        time.sleep(1.7)
        requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
        with pytest.raises(Closed) as closed:
            receive(ws)
        assert closed.value.code == 1000
        assert connect_fails(str(short["receiveFrom"]))
    finally:
        ws.close()


def connect_fails(url: str) -> bool:
    """The opening handshake to ``url`` is refused with 404 (no such channel)."""
    handshake = {
        "Upgrade": "websocket",
        "Connection": "Upgrade",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version": "13",
    }
    r = requests.get(url.replace("ws://", "http://", 1), headers=handshake, timeout=5)
    return r.status_code == 404


def test_unsubscribe_closes_the_socket_and_forgets_the_channel(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    channel = _ws_channel(server, doc)
    ws = connect(str(channel["receiveFrom"]))
    try:
        assert requests.delete(str(channel["id"]), timeout=5).status_code == 205
        with pytest.raises(Closed):
            receive(ws)
        again = requests.delete(str(channel["id"]), timeout=5)
        assert again.status_code == 404
        assert again.headers["Content-Type"] == "application/problem+json"
        assert connect_fails(str(channel["receiveFrom"]))
    finally:
        ws.close()


def test_turtle_subscription_gets_a_turtle_answer(server: LiveServer) -> None:
    """What @solid-notifications/subscription sends and expects."""
    doc = server.fresh() + "doc.ttl"
    body = f"<> a <{NOTIFY}WebSocketChannel2023>; <{NOTIFY}topic> <{doc}> ."
    url = service_url(server.url, "WebSocketChannel2023")
    r = requests.post(
        url, data=body, headers={"Content-Type": "text/turtle", "Accept": "text/turtle"}, timeout=5
    )
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/turtle")
    graph = Graph().parse(data=r.text, format="turtle", publicID=url)
    channel = next(iter(graph.subjects(N.topic, URIRef(doc))))
    assert str(graph.value(channel, N.receiveFrom)).startswith("ws://")


def test_a_socket_url_that_was_never_issued_is_refused_before_the_handshake(server: LiveServer) -> None:
    url = f"{server.url}.notifications/WebSocketChannel2023/socket/made-up"
    r = requests.get(url, headers={"Upgrade": "websocket", "Connection": "Upgrade"}, timeout=5)
    assert r.status_code == 404


# -- malformed subscriptions: each a clear 4xx ---------------------------------------------------
def _post(
    server: LiveServer,
    body: str | bytes,
    content_type: str = "application/ld+json",
    kind: str = "WebSocketChannel2023",
) -> requests.Response:
    return requests.post(
        service_url(server.url, kind), data=body, headers={"Content-Type": content_type}, timeout=5
    )


MALFORMED = [
    # (name, body builder, content type, channel type, status, words in the detail)
    ("no body", lambda t: "", "application/ld+json", "WebSocketChannel2023", 422, "cannot read"),
    ("not JSON", lambda t: "{not json", "application/ld+json", "WebSocketChannel2023", 422, "cannot read"),
    ("plain text", lambda t: "hello", "text/plain", "WebSocketChannel2023", 415, "application/ld+json"),
    (
        "unknown profile",
        lambda t: subscription("WebSocketChannel2023", t),
        'application/ld+json; profile="https://x.example/p"',
        "WebSocketChannel2023",
        415,
        "profile",
    ),
    (
        "remote context",
        lambda t: json.dumps({"@context": "https://evil.example/ctx", "topic": t}),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "remote",
    ),
    (
        "no topic",
        lambda t: json.dumps(
            {
                "@context": ["https://www.w3.org/ns/solid/notification/v1"],
                "type": NOTIFY + "WebSocketChannel2023",
            }
        ),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "topic",
    ),
    (
        "no type",
        lambda t: json.dumps({"@context": ["https://www.w3.org/ns/solid/notification/v1"], "topic": t}),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "type",
    ),
    (
        "wrong type",
        lambda t: subscription("WebhookChannel2023", t),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "WebSocketChannel2023",
    ),
    (
        "foreign topic",
        lambda t: subscription("WebSocketChannel2023", "https://elsewhere.example/doc"),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "not a resource on this server",
    ),
    (
        "topic not a URL",
        lambda t: subscription("WebSocketChannel2023", "urn:x:y"),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "topic",
    ),
    (
        "bad endAt",
        lambda t: subscription("WebSocketChannel2023", t, endAt="tomorrow"),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "endAt",
    ),
    (
        "past endAt",
        lambda t: subscription("WebSocketChannel2023", t, endAt="2001-01-01T00:00:00Z"),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "past",
    ),
    (
        "bad rate",
        lambda t: subscription("WebSocketChannel2023", t, rate="often"),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "rate",
    ),
    (
        "unknown accept",
        lambda t: subscription("WebSocketChannel2023", t, accept="image/png"),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "image/png",
    ),
    (
        "two channels",
        lambda t: json.dumps(
            [
                json.loads(subscription("WebSocketChannel2023", t)),
                json.loads(subscription("WebSocketChannel2023", t + "2")),
            ]
        ),
        "application/ld+json",
        "WebSocketChannel2023",
        422,
        "several",
    ),
    (
        "webhook without sendTo",
        lambda t: subscription("WebhookChannel2023", t),
        "application/ld+json",
        "WebhookChannel2023",
        422,
        "sendTo",
    ),
    (
        "webhook over http",
        lambda t: subscription("WebhookChannel2023", t, sendTo="http://hooks.example/in"),
        "application/ld+json",
        "WebhookChannel2023",
        422,
        "https",
    ),
    ("bad Turtle", lambda t: "<a> <b", "text/turtle", "WebSocketChannel2023", 422, "cannot read"),
]


@pytest.mark.parametrize(
    ("name", "body", "content_type", "kind", "status", "words"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
def test_malformed_subscriptions_get_a_clear_4xx(
    server: LiveServer, name: str, body: object, content_type: str, kind: str, status: int, words: str
) -> None:
    topic = server.fresh() + "doc.ttl"
    r = _post(server, body(topic), content_type, kind)  # type: ignore[operator]
    assert r.status_code == status, r.text
    assert r.headers["Content-Type"] == "application/problem+json"
    assert words.lower() in r.json()["detail"].lower()


def test_an_unknown_channel_type_is_404(server: LiveServer) -> None:
    r = requests.post(server.url + ".notifications/CarrierPigeon2023/", data="{}", headers=JSONLD, timeout=5)
    assert r.status_code == 404
    assert "CarrierPigeon2023" in r.json()["detail"]


# -- StreamingHTTPChannel2023 ------------------------------------------------------------------
def test_a_streaming_reader_gets_the_state_then_each_change(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
    stream_url = links(requests.head(doc, timeout=5))[
        str(URIRef("http://www.w3.org/ns/solid/terms#updatesViaStreamingHttp2023"))
    ].pop()
    with requests.get(stream_url, stream=True, headers={"Accept": "application/ld+json"}, timeout=5) as r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("application/ld+json")
        chunks = r.iter_content(chunk_size=None)
        first = json.loads(next(chunks))
        assert (first["type"], first["object"]) == ("Update", doc)
        etag = requests.put(doc, data="<#a> <#b> <#d> .", headers=TURTLE, timeout=5).headers["ETag"]
        second = json.loads(next(chunks))
        assert (second["type"], second["state"]) == ("Update", etag)


def test_the_streaming_subscription_service_points_at_the_stream(server: LiveServer) -> None:
    doc = server.fresh() + "doc.ttl"
    r = subscribe(server.url, "StreamingHTTPChannel2023", doc)
    assert r.status_code == 200, r.text
    assert (
        r.json()["receiveFrom"]
        == f"{server.url}.notifications/StreamingHTTPChannel2023/{quote(doc, safe='')}"
    )


# -- legacy solid-0.1 ----------------------------------------------------------------------------
def test_legacy_solid_0_1_sub_ack_pub(server: LiveServer) -> None:
    container = server.fresh()
    doc = container + "doc.ttl"
    requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
    updates_via = requests.head(doc, timeout=5).headers["Updates-Via"]
    ws = connect(updates_via, subprotocols=["solid-0.1"])
    try:
        assert ws.getsubprotocol() == "solid-0.1"
        assert receive(ws) == "protocol solid-0.1"
        ws.send(f"sub {doc}")
        assert receive(ws) == f"ack {doc}"
        ws.send(f"sub {container}")
        assert receive(ws) == f"ack {container}"
        requests.put(doc, data="<#a> <#b> <#d> .", headers=TURTLE, timeout=5)
        assert receive(ws) == f"pub {doc}"
        requests.post(container, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
        assert receive(ws) == f"pub {container}"
        ws.send("sub https://elsewhere.example/x")
        assert receive(ws).startswith("error ")
        ws.send("hello there")
        assert receive(ws).startswith("warning ")
    finally:
        ws.close()


def test_legacy_without_the_protocol_header_is_warned(server: LiveServer) -> None:
    ws = connect(server.url.replace("http://", "ws://"))
    try:
        assert receive(ws).startswith("warning Missing Sec-WebSocket-Protocol")
        assert receive(ws) == "protocol solid-0.1"
    finally:
        ws.close()


def test_a_bad_websocket_handshake_is_400(server: LiveServer) -> None:
    r = requests.get(server.url, headers={"Upgrade": "websocket", "Connection": "Upgrade"}, timeout=5)
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/problem+json"


class _Recording:
    """An outlet that keeps what it is sent (the hub's real outlets write to sockets)."""

    def __init__(self) -> None:
        self.closed = threading.Event()
        self.sent: list[str] = []

    def send(self, text: str) -> None:
        self.sent.append(text)

    def close(self, code: int = 1000, reason: str = "") -> None:
        self.closed.set()


@pytest.mark.parametrize("changed", [True, False])
def test_a_change_between_the_handshake_and_listening_is_not_missed(
    server: LiveServer, changed: bool
) -> None:
    """A client may write the moment it has the 101, before the server's receiver listens: the
    topic's ETag from before the 101 is compared when the receiver starts (service.attach_channel)."""
    svc = server.app.extensions["pod_server.notifications"]
    doc = server.fresh() + "doc.ttl"
    requests.put(doc, data="<#a> <#b> <#c> .", headers=TURTLE, timeout=5)
    channel = svc.websocket_channel(str(_ws_channel(server, doc)["receiveFrom"]))
    seen = svc.topic_etag(channel.topic_path)
    if changed:  # the write that slipped in between
        requests.put(doc, data="<#a> <#b> <#d> .", headers=TURTLE, timeout=5)
    outlet = _Recording()
    receiver = svc.attach_channel(channel, outlet, seen=seen)
    try:
        deadline = time.monotonic() + 5
        while changed and not outlet.sent and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0 if changed else 0.3)
        if changed:
            told = json.loads(outlet.sent[0])
            assert (told["type"], told["state"]) == ("Update", requests.head(doc, timeout=5).headers["ETag"])
        else:
            assert outlet.sent == []
    finally:
        svc.dispatcher.remove(receiver)
