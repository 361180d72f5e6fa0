"""pod_client.profile against a provider-mode pod-server: a pod made by ``make_person`` has a
WebID profile, a public and a private type index and a preferences file
(pod_server/accounts/pods.py); registrations are found again, the private ones only by the owner."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from pod_client import profile
from pod_client.errors import NotAuthenticated, PodClientError
from pod_client.pod import Pod
from pod_client.session import Session
from rdflib import Graph, URIRef

from tests.access.helpers import Person, make_person
from tests.clients.people import session_for
from tests.conftest import LiveServer

SCHEMA = "https://schema.org/"
SOLID = "http://www.w3.org/ns/solid/terms#"


@pytest.fixture(scope="module")
def person(provider: LiveServer) -> Iterator[Person]:
    yield make_person(provider, "prof")


@pytest.fixture(scope="module")
def owner(provider: LiveServer, person: Person) -> Pod:
    return Pod(session_for(provider, person))


@pytest.fixture(scope="module")
def public() -> Pod:
    return Pod(Session.anonymous())


def test_profile_and_storages(person: Person, owner: Pod, public: Pod) -> None:
    card = profile.profile(public, person.webid)
    assert card.url == person.pod + "profile/card"
    assert (URIRef(person.webid), None, None) in card.graph
    assert profile.storages(public, person.webid) == [person.pod]
    assert profile.storages(owner, person.webid) == [person.pod]


def test_type_indexes(person: Person, owner: Pod) -> None:
    assert profile.type_indexes(owner, person.webid) == (
        person.pod + "settings/publicTypeIndex.ttl",
        person.pod + "settings/privateTypeIndex.ttl",
    )


def test_private_index_is_found_in_the_preferences_file(provider: LiveServer) -> None:
    """The Type Indexes spec puts solid:privateTypeIndex in the preferences file only; take it out
    of the profile (pod-server's template has it in both) and it is still found, by the owner."""
    someone = make_person(provider, "prefs")
    pod = Pod(session_for(provider, someone))
    card = someone.pod + "profile/card"
    pod.update_graph(
        card, lambda g: g.remove((URIRef(someone.webid), URIRef(SOLID + "privateTypeIndex"), None))
    )
    assert profile.type_indexes(pod, someone.webid) == (
        someone.pod + "settings/publicTypeIndex.ttl",
        someone.pod + "settings/privateTypeIndex.ttl",
    )
    # The public may not read the preferences file: no private index for it, and no error.
    anonymous = Pod(Session.anonymous())
    assert profile.type_indexes(anonymous, someone.webid) == (
        someone.pod + "settings/publicTypeIndex.ttl",
        None,
    )
    with pytest.raises(PodClientError, match="no private type index"):
        profile.register(anonymous, someone.webid, SCHEMA + "Recipe", someone.pod + "r/")
    with pytest.raises(NotAuthenticated):  # the public index is public to read, not to write
        profile.register(anonymous, someone.webid, SCHEMA + "Recipe", someone.pod + "r/", public=True)


def test_register_and_find_locations(person: Person, owner: Pod, public: Pod) -> None:
    recipes, cookbook = person.pod + "recipes/", person.pod + "cookbook.ttl"
    diary = person.pod + "private/diary/"
    assert profile.find_locations(owner, person.webid, SCHEMA + "Recipe") == []

    profile.register(owner, person.webid, SCHEMA + "Recipe", recipes, public=True)
    profile.register(owner, person.webid, SCHEMA + "Recipe", cookbook, public=True)
    profile.register(owner, person.webid, SCHEMA + "Recipe", diary)  # private
    profile.register(owner, person.webid, SCHEMA + "Recipe", recipes, public=True)  # again: no change
    profile.register(owner, person.webid, SCHEMA + "Event", person.pod + "events/")

    assert profile.find_locations(owner, person.webid, SCHEMA + "Recipe") == [cookbook, recipes, diary]
    assert profile.find_locations(public, person.webid, SCHEMA + "Recipe") == [cookbook, recipes]
    assert profile.find_locations(owner, person.webid, SCHEMA + "Event") == [person.pod + "events/"]
    assert profile.find_locations(public, person.webid, SCHEMA + "Event") == []

    # What the server stored, read without pod_client: instanceContainer for a container,
    # instance for a document, one registration per place.
    index = person.pod + "settings/publicTypeIndex.ttl"
    stored = Graph().parse(data=requests.get(index, timeout=10).content, format="turtle", publicID=index)
    solid = {name: URIRef(SOLID + name) for name in ("forClass", "instance", "instanceContainer")}
    assert len(set(stored.subjects(solid["instanceContainer"], URIRef(recipes)))) == 1
    assert len(set(stored.subjects(solid["instance"], URIRef(cookbook)))) == 1
    assert len(set(stored.subjects(solid["forClass"], URIRef(SCHEMA + "Recipe")))) == 2
    assert (URIRef(index), None, URIRef(SOLID + "TypeIndex")) in stored  # kept
