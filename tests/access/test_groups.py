"""Agent group membership: local documents by ETag, remote ones cached, refreshed and bounded."""

from __future__ import annotations

import time
from pathlib import Path

from pod_server.access.groups import GroupMembership
from pod_server.fetch import FetchPolicy, SafeFetcher
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.rdf.limits import RdfLimits
from pod_server.store.filesystem import FilesystemBackend
from pod_server.store.resource_store import ResourceStore
from tests.idp.helpers import app_site

BASE = "http://pod.test/"
HAS_MEMBER = "<http://www.w3.org/2006/vcard/ns#hasMember>"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def store_on(data: Path) -> ResourceStore:
    return ResourceStore(FilesystemBackend(data), IdentifierMap(BASE, single_pod=True), RdfLimits())


def test_a_local_group_change_is_seen_at_once(tmp_path: Path) -> None:
    store, elsewhere = store_on(tmp_path), store_on(tmp_path)
    groups = GroupMembership(store, None)
    elsewhere.put(
        "/team", f"<#it> {HAS_MEMBER} <https://bob.example/#me> .".encode(), "text/turtle", BASE + "team"
    )
    assert groups.is_member(BASE + "team#it", "https://bob.example/#me")
    assert not groups.is_member(BASE + "team#it", "https://carol.example/#me")
    assert not groups.is_member(BASE + "team#other", "https://bob.example/#me")
    elsewhere.put(
        "/team", f"<#it> {HAS_MEMBER} <https://carol.example/#me> .".encode(), "text/turtle", BASE + "team"
    )
    assert groups.is_member(BASE + "team#it", "https://carol.example/#me")
    assert not groups.is_member(BASE + "team#it", "https://bob.example/#me")
    elsewhere.delete("/team")
    assert not groups.is_member(BASE + "team#it", "https://carol.example/#me")


def test_a_remote_group_is_cached_then_refreshed_in_the_background(tmp_path: Path) -> None:
    clock = Clock()
    fetcher = SafeFetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), total_timeout=2.0))
    with app_site() as site:
        site.documents["/g"] = (
            200,
            {"Content-Type": "text/turtle"},
            f"<#it> {HAS_MEMBER} <urn:x:bob> .".encode(),
        )
        groups = GroupMembership(store_on(tmp_path), fetcher, ttl=60.0, failure_ttl=10.0, clock=clock)
        assert groups.is_member(site.url + "g#it", "urn:x:bob")
        site.documents["/g"] = (
            200,
            {"Content-Type": "text/turtle"},
            f"<#it> {HAS_MEMBER} <urn:x:carol> .".encode(),
        )
        assert groups.is_member(site.url + "g#it", "urn:x:bob")  # fresh: no new fetch
        assert site.hits.count("/g") == 1
        clock.now += 61
        assert groups.is_member(site.url + "g#it", "urn:x:bob")  # stale: answered at once ...
        deadline = time.monotonic() + 5
        while not groups.is_member(site.url + "g#it", "urn:x:carol") and time.monotonic() < deadline:
            time.sleep(0.02)  # ... while a background fetch brings the new members
        assert groups.is_member(site.url + "g#it", "urn:x:carol")
        assert not groups.is_member(site.url + "g#it", "urn:x:bob")


def test_a_failing_remote_group_has_no_members_and_is_not_asked_again_at_once(tmp_path: Path) -> None:
    clock = Clock()
    fetcher = SafeFetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), total_timeout=2.0))
    with app_site() as site:
        groups = GroupMembership(store_on(tmp_path), fetcher, failure_ttl=10.0, clock=clock)
        assert not groups.is_member(site.url + "missing#it", "urn:x:bob")  # 404
        assert not groups.is_member(site.url + "missing#it", "urn:x:bob")
        assert site.hits.count("/missing") == 1
        site.documents["/missing"] = (
            200,
            {"Content-Type": "text/turtle"},
            f"<#it> {HAS_MEMBER} <urn:x:bob> .".encode(),
        )
        clock.now += 11
        groups.is_member(site.url + "missing#it", "urn:x:bob")  # starts a background refresh
        deadline = time.monotonic() + 5
        while not groups.is_member(site.url + "missing#it", "urn:x:bob") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert groups.is_member(site.url + "missing#it", "urn:x:bob")


def test_private_addresses_are_refused_unless_allowed(tmp_path: Path) -> None:
    with app_site() as site:
        site.documents["/g"] = (
            200,
            {"Content-Type": "text/turtle"},
            f"<#it> {HAS_MEMBER} <urn:x:bob> .".encode(),
        )
        groups = GroupMembership(store_on(tmp_path), SafeFetcher(FetchPolicy()))
        assert not groups.is_member(site.url + "g#it", "urn:x:bob")
        assert site.hits == []


def test_a_failed_refresh_keeps_the_last_good_answer(tmp_path: Path) -> None:
    clock = Clock()
    fetcher = SafeFetcher(FetchPolicy(allow_hosts=frozenset({"127.0.0.1"}), total_timeout=2.0))
    with app_site() as site:
        site.documents["/g"] = (
            200,
            {"Content-Type": "text/turtle"},
            f"<#it> {HAS_MEMBER} <urn:x:bob> .".encode(),
        )
        groups = GroupMembership(store_on(tmp_path), fetcher, ttl=60.0, failure_ttl=10.0, clock=clock)
        assert groups.is_member(site.url + "g#it", "urn:x:bob")
        site.documents["/g"] = (500, {}, b"down")
        clock.now += 61
        assert groups.is_member(site.url + "g#it", "urn:x:bob")
        deadline = time.monotonic() + 5
        while site.hits.count("/g") < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.1)  # let the refresh store its outcome
        assert groups.is_member(site.url + "g#it", "urn:x:bob")
        assert site.hits.count("/g") == 2  # and the failure is not retried before failure_ttl
