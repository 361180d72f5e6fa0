"""Who may subscribe, and what happens when access is revoked, on a live provider-mode server
with real accounts, DPoP-bound tokens, WebSocket clients and a webhook receiver.

Access rules as a table: (who subscribes, status)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests
from joserfc import jwt
from joserfc.jwk import KeySet
from rdflib import Graph, URIRef

from tests.access.helpers import PUBLIC, Agent, Person, log_in, make_person
from tests.conftest import LiveServer, _serve
from tests.notifications.helpers import Closed, Hook, connect, receive, receive_json, subscribe

ACL = "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
TURTLE = {"Content-Type": "text/turtle"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(
        tmp_path_factory.mktemp("notify-access"),
        single_pod=False,
        fetch_allow_hosts=("127.0.0.1",),
        webhook_attempts=3,
        webhook_backoff=0.05,
    )


@pytest.fixture(scope="module")
def alice(server: LiveServer) -> tuple[Person, Agent]:
    person = make_person(server, "alice")
    return person, log_in(server, person)


@pytest.fixture(scope="module")
def bob(server: LiveServer) -> tuple[Person, Agent]:
    person = make_person(server, "bob")
    return person, log_in(server, person)


def _exists(server: LiveServer, channel_id: str) -> bool:
    """Whether the server still keeps the channel (read from its channel store)."""
    channels = server.app.extensions["pod_server.notifications"].channels
    return channels.get(channel_id, now=time.time()) is not None


def _grant(owner: Agent, person: Person, container: str, *readers: str) -> None:
    """``container``'s ACL: the owner keeps everything, ``readers`` may read."""
    rules = (
        f"<#owner> a acl:Authorization; acl:agent <{person.webid}>; acl:accessTo <{container}>; "
        f"acl:default <{container}>; acl:mode acl:Read, acl:Write, acl:Control .\n"
    )
    if readers:
        agents = ", ".join(f"<{r}>" for r in readers)
        rules += (
            f"<#readers> a acl:Authorization; acl:agent {agents}; acl:accessTo <{container}>; "
            f"acl:default <{container}>; acl:mode acl:Read .\n"
        )
    r = owner.put(container + ".acl", ACL + rules)
    assert r.status_code in (201, 204, 205), r.text


def _shared_with(alice: tuple[Person, Agent], reader: Person, name: str) -> tuple[str, str]:
    """A container in alice's pod that ``reader`` may read, holding one document: (container, doc)."""
    person, owner = alice
    shared = person.pod + name
    doc = shared + "doc.ttl"
    owner.put(doc, "<#a> <#b> <#c> .")
    _grant(owner, person, shared, reader.webid)
    return shared, doc


@pytest.mark.parametrize(
    ("who", "status"),
    [("public", 401), ("bob", 403), ("alice", 200)],
)
def test_subscribing_needs_read_on_the_topic(
    server: LiveServer, alice: tuple[Person, Agent], bob: tuple[Person, Agent], who: str, status: int
) -> None:
    person, owner = alice
    private = person.pod + "private/doc.ttl"
    assert owner.put(private, "<#a> <#b> <#c> .").status_code in (201, 204, 205)
    agent = {"public": PUBLIC, "bob": bob[1], "alice": owner}[who]
    for kind in ("WebSocketChannel2023", "StreamingHTTPChannel2023"):
        r = subscribe(server.url, kind, private, agent=agent)
        assert r.status_code == status, r.text
    if status != 200:
        assert r.headers["Content-Type"] == "application/problem+json"


def test_reading_a_stream_needs_read_on_the_topic(
    server: LiveServer, alice: tuple[Person, Agent], bob: tuple[Person, Agent]
) -> None:
    person, owner = alice
    private = person.pod + "private/stream.ttl"
    owner.put(private, "<#a> <#b> <#c> .")
    stream = subscribe(server.url, "StreamingHTTPChannel2023", private, agent=owner).json()["receiveFrom"]
    assert PUBLIC.get(stream).status_code == 401
    assert bob[1].get(stream).status_code == 403


def test_delivery_stops_when_read_access_is_revoked(
    server: LiveServer, alice: tuple[Person, Agent], bob: tuple[Person, Agent]
) -> None:
    person, owner = alice
    shared, doc = _shared_with(alice, bob[0], "shared-ws/")
    answer = subscribe(server.url, "WebSocketChannel2023", doc, agent=bob[1])
    assert answer.status_code == 200, answer.text
    channel = answer.json()
    ws = connect(channel["receiveFrom"])
    try:
        owner.put(doc, "<#a> <#b> <#d> .")
        assert receive_json(ws)["type"] == "Update"
        _grant(owner, person, shared)  # bob is no longer a reader
        owner.put(doc, "<#a> <#b> <#e> .")
        with pytest.raises(Closed) as closed:
            receive(ws)
        assert closed.value.code == 1008
        # The channel is gone for good: its socket URL no longer opens, and it cannot be deleted.
        assert bob[1].delete(channel["id"]).status_code == 404
    finally:
        ws.close()


def test_only_the_subscriber_may_unsubscribe(
    server: LiveServer, alice: tuple[Person, Agent], bob: tuple[Person, Agent]
) -> None:
    person, owner = alice
    doc = person.pod + "private/unsub.ttl"
    owner.put(doc, "<#a> <#b> <#c> .")
    channel = subscribe(server.url, "WebSocketChannel2023", doc, agent=owner).json()
    assert bob[1].delete(channel["id"]).status_code == 403
    assert PUBLIC.delete(channel["id"]).status_code == 401
    assert owner.delete(channel["id"]).status_code == 205


# -- WebhookChannel2023 --------------------------------------------------------------------------
def test_webhooks_are_signed_posts_as_the_server_sender(
    server: LiveServer, alice: tuple[Person, Agent]
) -> None:
    person, owner = alice
    doc = person.pod + "private/hooked.ttl"
    with Hook() as hook:
        answer = subscribe(server.url, "WebhookChannel2023", doc, agent=owner, sendTo=hook.url)
        assert answer.status_code == 200, answer.text
        channel = answer.json()
        assert channel["sendTo"] == hook.url
        owner.put(doc, "<#a> <#b> <#c> .")
        headers, body = hook.next()
        assert (body["type"], body["object"]) == ("Create", doc)
        assert headers["Content-Type"] == "application/ld+json"
        # The POST is authenticated as the channel's sender (WebhookChannel2023 #auth).
        scheme, token = headers["Authorization"].split(" ", 1)
        assert scheme == "DPoP" and headers["DPoP"]
        keys = KeySet.import_key_set(requests.get(server.url + ".oidc/jwks", timeout=5).json())
        claims = jwt.decode(token, keys, algorithms=["ES256"]).claims
        assert claims["webid"] == channel["sender"]
        assert claims["iss"] == server.url
        profile = Graph().parse(
            data=requests.get(channel["sender"], timeout=5).text, format="turtle", publicID=channel["sender"]
        )
        assert profile.value(
            URIRef(channel["sender"]), URIRef("http://www.w3.org/ns/solid/terms#oidcIssuer")
        ) == URIRef(server.url)


def test_a_failing_webhook_recovers_and_keeps_order(server: LiveServer, alice: tuple[Person, Agent]) -> None:
    person, owner = alice
    doc = person.pod + "private/flaky.ttl"
    with Hook(failures=2) as hook:
        channel = subscribe(server.url, "WebhookChannel2023", doc, agent=owner, sendTo=hook.url).json()
        owner.put(doc, "<#a> <#b> <#c> .")
        owner.put(doc, "<#a> <#b> <#d> .")
        assert hook.next()[1]["type"] == "Create"  # the third attempt got through
        assert hook.next()[1]["type"] == "Update"
        assert hook.attempts == 4
        assert owner.delete(channel["id"]).status_code == 205  # the channel was kept


def test_a_webhook_that_keeps_failing_is_dropped(server: LiveServer, alice: tuple[Person, Agent]) -> None:
    person, owner = alice
    doc = person.pod + "private/dead.ttl"
    with Hook(status=500) as hook:
        channel = subscribe(server.url, "WebhookChannel2023", doc, agent=owner, sendTo=hook.url).json()
        owner.put(doc, "<#a> <#b> <#c> .")
        deadline = time.monotonic() + 10
        while _exists(server, channel["id"]):
            assert time.monotonic() < deadline, "the channel was never dropped"
            time.sleep(0.05)
        assert owner.delete(channel["id"]).status_code == 404
        assert hook.attempts == 3  # webhook_attempts
        owner.put(doc, "<#a> <#b> <#d> .")
        time.sleep(0.3)
        assert hook.attempts == 3  # nothing more is sent to a dropped channel


def test_webhook_revocation_drops_the_channel(
    server: LiveServer, alice: tuple[Person, Agent], bob: tuple[Person, Agent]
) -> None:
    person, owner = alice
    shared, doc = _shared_with(alice, bob[0], "shared-hook/")
    with Hook() as hook:
        channel = subscribe(server.url, "WebhookChannel2023", doc, agent=bob[1], sendTo=hook.url).json()
        owner.put(doc, "<#a> <#b> <#d> .")
        assert hook.next()[1]["type"] == "Update"
        _grant(owner, person, shared)
        owner.put(doc, "<#a> <#b> <#e> .")
        time.sleep(0.5)
        assert hook.received.empty()
        assert bob[1].delete(channel["id"]).status_code == 404
