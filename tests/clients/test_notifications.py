"""pod_client.notifications against a live provider-mode pod-server: discovery, subscription with
the session's credentials, the WebSocket iterator (real writes in, activities out), features,
unsubscribe and close."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pod_client import Forbidden, NotAuthenticated
from pod_client.notifications import (
    NOTIFY,
    Watch,
    listen,
    subscribe,
    subscription_service,
    unsubscribe,
    watch,
)
from pod_client.pod import Pod
from rdflib import Graph

from tests.access.helpers import TURTLE, Agent, Person, log_in, make_person
from tests.clients.people import pod_for
from tests.conftest import LiveServer, _serve

WAIT = 10.0
"""Seconds a test waits for a notification before failing."""


@dataclass
class World:
    server: LiveServer
    alice: Person
    bob: Person
    alice_agent: Agent  # writes with test-side requests, independent of the library under test

    def pod(self) -> Pod:
        return pod_for(self.server, self.alice)

    def fresh_doc(self) -> str:
        """A URL in alice's (private) pod where nothing is yet."""
        return f"{self.alice.pod}n-{uuid.uuid4().hex[:10]}/doc.ttl"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for server in _serve(tmp_path_factory.mktemp("client-notify"), single_pod=False):
        alice, bob = make_person(server, "alice"), make_person(server, "bob")
        yield World(server, alice, bob, log_in(server, alice))


def test_discovery_finds_the_websocket_service_in_the_storage_description(world: World) -> None:
    doc = world.fresh_doc()
    assert subscription_service(world.pod(), doc) == f"{world.server.url}.notifications/WebSocketChannel2023/"
    assert subscription_service(world.pod(), doc, "StreamingHTTPChannel2023").endswith(
        "/.notifications/StreamingHTTPChannel2023/"
    )


def test_subscribe_answers_the_channel_description(world: World) -> None:
    doc = world.fresh_doc()
    channel = subscribe(world.pod(), doc, rate="PT1S")
    assert channel["type"] == str(NOTIFY.WebSocketChannel2023)
    assert channel["topic"] == doc
    assert str(channel["receiveFrom"]).startswith("ws://")
    assert channel["rate"] == "PT1S"
    unsubscribe(world.pod(), channel["id"])


def test_watch_yields_create_update_delete_for_real_writes(world: World) -> None:
    doc = world.fresh_doc()
    with watch(world.pod(), doc, timeout=WAIT) as changes:
        created = world.alice_agent.put(doc, b"<#a> <#b> <#c> .")
        event = next(changes)
        assert isinstance(event, dict)
        assert (event["type"], event["object"], event["state"]) == ("Create", doc, created.headers["ETag"])

        world.alice_agent.put(doc, b"<#a> <#b> <#d> .", headers=TURTLE)
        event = next(changes)
        assert isinstance(event, dict) and event["type"] == "Update"

        world.alice_agent.delete(doc)
        event = next(changes)
        assert isinstance(event, dict) and event["type"] == "Delete" and "state" not in event


def test_a_container_hears_its_members_added_and_removed(world: World) -> None:
    doc = world.fresh_doc()
    container = doc.rsplit("/", 1)[0] + "/"
    assert world.alice_agent.put(container, b"").status_code == 201
    with watch(world.pod(), container, timeout=WAIT) as changes:
        world.alice_agent.put(doc, b"<#a> <#b> <#c> .")
        added = next(changes)
        assert isinstance(added, dict)
        assert (added["type"], added["object"], added["target"]) == ("Add", doc, container)
        world.alice_agent.delete(doc)
        removed = next(changes)
        assert isinstance(removed, dict) and removed["type"] == "Remove"


def test_features_pass_through_accept_turtle_gives_strings(world: World) -> None:
    doc = world.fresh_doc()
    with watch(world.pod(), doc, timeout=WAIT, accept="text/turtle") as changes:
        assert changes.channel["accept"] == "text/turtle"
        world.alice_agent.put(doc, b"<#a> <#b> <#c> .")
        event = next(changes)
        assert isinstance(event, str)
        graph = Graph().parse(data=event, format="turtle")
        assert len(graph) > 0


def test_features_pass_through_state_reports_a_stale_copy_at_once(world: World) -> None:
    doc = world.fresh_doc()
    world.alice_agent.put(doc, b"<#a> <#b> <#c> .")
    with watch(world.pod(), doc, timeout=WAIT, state='"stale"') as changes:
        event = next(changes)
        assert isinstance(event, dict) and event["type"] == "Update"


def test_snake_case_feature_names_become_camel_case(world: World) -> None:
    doc = world.fresh_doc()
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    with watch(world.pod(), doc, timeout=WAIT, start_at=tomorrow) as changes:
        assert changes.channel["startAt"].startswith(tomorrow[:19])


def test_the_iterator_ends_when_the_channel_is_unsubscribed(world: World) -> None:
    doc = world.fresh_doc()
    changes = watch(world.pod(), doc, timeout=WAIT)
    world.alice_agent.put(doc, b"<#a> <#b> <#c> .")
    assert isinstance(next(changes), dict)

    unsubscribe(world.pod(), changes.channel["id"])

    assert list(changes) == []  # the server's close frame ends it cleanly
    assert changes.closed


def test_unsubscribing_from_another_thread_ends_a_blocked_loop(world: World) -> None:
    doc = world.fresh_doc()
    changes = watch(world.pod(), doc)  # no timeout: blocks until something happens
    seen: list[object] = []
    loop = threading.Thread(target=lambda: seen.extend(changes))
    loop.start()
    world.alice_agent.put(doc, b"<#a> <#b> <#c> .")
    deadline = time.monotonic() + WAIT
    while not seen and time.monotonic() < deadline:
        time.sleep(0.05)
    unsubscribe(world.pod(), changes.channel["id"])
    loop.join(WAIT)
    assert not loop.is_alive()
    assert [e["type"] for e in seen if isinstance(e, dict)] == ["Create"]


def test_close_closes_the_socket_and_ends_the_iteration(world: World) -> None:
    doc = world.fresh_doc()
    changes = watch(world.pod(), doc, timeout=WAIT)
    changes.close()
    assert changes.closed
    assert list(changes) == []
    changes.close()  # twice is fine


def test_a_quiet_channel_times_out_and_can_still_be_used(world: World) -> None:
    doc = world.fresh_doc()
    with watch(world.pod(), doc, timeout=0.3) as changes:
        with pytest.raises(TimeoutError):
            next(changes)
        changes.timeout = WAIT
        world.alice_agent.put(doc, b"<#a> <#b> <#c> .")
        event = next(changes)
        assert isinstance(event, dict) and event["type"] == "Create"


def test_listen_connects_to_a_channel_made_by_subscribe(world: World) -> None:
    doc = world.fresh_doc()
    channel = subscribe(world.pod(), doc)
    with listen(channel, timeout=WAIT) as changes:
        assert isinstance(changes, Watch)
        world.alice_agent.put(doc, b"<#a> <#b> <#c> .")
        event = next(changes)
        assert isinstance(event, dict) and event["type"] == "Create"


@pytest.mark.parametrize("who,error", [("public", NotAuthenticated), ("bob", Forbidden)])
def test_subscribing_needs_read_on_the_topic(world: World, who: str, error: type[Exception]) -> None:
    doc = world.fresh_doc()
    pod = pod_for(world.server, None if who == "public" else world.bob)
    with pytest.raises(error):
        subscribe(pod, doc)


def test_an_unknown_channel_type_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="unknown channel type"):
        subscribe(world.pod(), world.fresh_doc(), channel_type="CarrierPigeon2023")
