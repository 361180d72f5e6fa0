"""pod_client.acl against a live provider-mode pod-server: what a grant or revoke gives, checked
with real requests by a second person (bob), by bob through another app, and by the public."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from pod_client import Forbidden, NotFound
from pod_client.acl import ACL, MODES, Rule, acl_url, grant, revoke, show
from pod_client.pod import Pod
from rdflib import Graph, URIRef

from tests.access.helpers import PUBLIC, TURTLE, Agent, Person, log_in, make_person
from tests.clients.people import pod_for
from tests.conftest import LiveServer, _serve

DOC = b"<#it> <http://example.org/says> 'hello' ."


@dataclass
class World:
    server: LiveServer
    alice: Person
    bob: Person
    alice_agent: Agent  # test-side requests, independent of the library under test
    bob_agent: Agent
    bob_other_app: Agent

    def pod(self) -> Pod:
        return pod_for(self.server, self.alice)

    def fresh_container(self) -> str:
        url = f"{self.alice.pod}t-{uuid.uuid4().hex[:10]}/"
        assert self.alice_agent.put(url, b"").status_code in (201, 205, 204)
        return url

    def fresh_doc(self) -> str:
        url = self.fresh_container() + "doc.ttl"
        assert self.alice_agent.put(url, DOC).status_code == 201
        return url


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for server in _serve(tmp_path_factory.mktemp("client-acl"), single_pod=False):
        alice, bob = make_person(server, "alice"), make_person(server, "bob")
        yield World(
            server,
            alice,
            bob,
            log_in(server, alice),
            log_in(server, bob, "app-a"),
            log_in(server, bob, "app-b"),
        )


def _can_read(agent: Agent, url: str) -> int:
    return agent.get(url).status_code


def _can_write(agent: Agent, url: str) -> int:
    return agent.put(url, DOC, headers=TURTLE).status_code


def _can_append(agent: Agent, url: str) -> int:
    patch = (
        "@prefix solid: <http://www.w3.org/ns/solid/terms#>. "
        f"_:p a solid:InsertDeletePatch; solid:inserts {{ <#n{uuid.uuid4().hex[:6]}> <#p> 1 . }}."
    )
    return agent.patch(url, patch, headers={"Content-Type": "text/n3"}).status_code


def _group(world: World) -> str:
    """A vcard:Group in alice's pod with bob as its only member."""
    url = world.fresh_container() + "team.ttl"
    body = (
        "@prefix vcard: <http://www.w3.org/2006/vcard/ns#>.\n"
        f"<#it> a vcard:Group; vcard:hasMember <{world.bob.webid}> ."
    )
    assert world.alice_agent.put(url, body.encode()).status_code == 201
    return url + "#it"


# who is granted -> the keyword arguments of grant/revoke
WHO: dict[str, Callable[[World], dict[str, object]]] = {
    "agent": lambda w: {"agent": w.bob.webid},
    "group": lambda w: {"group": _group(w)},
    "public": lambda w: {"public": True},
    "authenticated": lambda w: {"authenticated": True},
    "app": lambda w: {"agent": w.bob.webid, "app": w.bob_agent.client_id},
}
OK, DENIED, ANONYMOUS = "ok", 403, 401


def _outcome(status: int) -> str | int:
    return OK if status < 300 else status


# WAC §4.2/§4.3: after grant(modes, who), what bob (through app A), bob through app B and the public get.
@pytest.mark.parametrize(
    "who,modes,bob_read,bob_write,bob_append,other_app_read,public_read",
    [
        ("agent", ["Read"], OK, DENIED, DENIED, OK, ANONYMOUS),
        ("agent", ["Read", "Write"], OK, OK, OK, OK, ANONYMOUS),
        ("agent", ["Append"], DENIED, DENIED, OK, DENIED, ANONYMOUS),
        ("group", ["Read"], OK, DENIED, DENIED, OK, ANONYMOUS),
        ("public", ["Read"], OK, DENIED, DENIED, OK, OK),
        ("authenticated", ["Read"], OK, DENIED, DENIED, OK, ANONYMOUS),
        ("app", ["Read"], OK, DENIED, DENIED, DENIED, ANONYMOUS),
        ("app", ["Read", "Write"], OK, OK, OK, DENIED, ANONYMOUS),
    ],
)
def test_grant_gives_exactly_the_modes_and_revoke_takes_them_back(
    world: World,
    who: str,
    modes: list[str],
    bob_read: str | int,
    bob_write: str | int,
    bob_append: str | int,
    other_app_read: str | int,
    public_read: str | int,
) -> None:
    doc = world.fresh_doc()
    subject = WHO[who](world)
    assert _can_read(world.bob_agent, doc) == DENIED  # before: alice's pod is private

    grant(world.pod(), doc, modes, **subject)  # type: ignore[arg-type]

    assert _outcome(_can_read(world.bob_agent, doc)) == bob_read
    assert _outcome(_can_read(world.bob_other_app, doc)) == other_app_read
    assert _outcome(_can_read(PUBLIC, doc)) == public_read
    assert _outcome(_can_append(world.bob_agent, doc)) == bob_append
    assert _outcome(_can_write(world.bob_agent, doc)) == bob_write
    assert world.alice_agent.get(acl_url(world.pod(), doc)).status_code == 200  # alice keeps Control

    revoke(world.pod(), doc, None, **subject)  # type: ignore[arg-type]

    assert _can_read(world.bob_agent, doc) == DENIED
    assert _can_read(world.bob_other_app, doc) == DENIED
    assert _can_read(PUBLIC, doc) == ANONYMOUS
    assert _outcome(_can_read(world.alice_agent, doc)) == OK


def test_revoke_some_modes_keeps_the_others(world: World) -> None:
    doc = world.fresh_doc()
    grant(world.pod(), doc, ["Read", "Write"], agent=world.bob.webid)
    revoke(world.pod(), doc, ["Write"], agent=world.bob.webid)
    assert _outcome(_can_read(world.bob_agent, doc)) == OK
    assert _can_write(world.bob_agent, doc) == DENIED
    assert _can_append(world.bob_agent, doc) == DENIED


def test_revoking_append_also_takes_write_which_includes_it(world: World) -> None:
    doc = world.fresh_doc()
    grant(world.pod(), doc, ["Read", "Write"], agent=world.bob.webid)
    revoke(world.pod(), doc, ["Append"], agent=world.bob.webid)
    assert _can_append(world.bob_agent, doc) == DENIED
    assert _can_write(world.bob_agent, doc) == DENIED
    assert _outcome(_can_read(world.bob_agent, doc)) == OK


def test_revoke_without_app_also_ends_access_through_apps(world: World) -> None:
    doc = world.fresh_doc()
    grant(world.pod(), doc, ["Read"], agent=world.bob.webid, app=world.bob_agent.client_id)
    revoke(world.pod(), doc, agent=world.bob.webid)
    assert _can_read(world.bob_agent, doc) == DENIED
    assert show(world.pod(), doc) == [
        Rule(f"agent {world.alice.webid}", frozenset(MODES), default=False),
    ]


def test_revoke_with_app_leaves_other_access_alone(world: World) -> None:
    doc = world.fresh_doc()
    grant(world.pod(), doc, ["Read"], agent=world.bob.webid, app=world.bob_agent.client_id)
    grant(world.pod(), doc, ["Append"], agent=world.bob.webid)
    revoke(world.pod(), doc, agent=world.bob.webid, app=world.bob_agent.client_id)
    assert _can_read(world.bob_agent, doc) == DENIED
    assert _outcome(_can_append(world.bob_other_app, doc)) == OK


def test_grant_on_a_resource_without_its_own_acl_keeps_the_inherited_rules(world: World) -> None:
    doc = world.fresh_doc()
    assert world.alice_agent.get(acl_url(world.pod(), doc)).status_code == 404  # inherits the pod's
    with pytest.raises(NotFound):
        show(world.pod(), doc)

    grant(world.pod(), doc, ["Read"], agent=world.bob.webid)

    rules = show(world.pod(), doc)
    assert Rule(f"agent {world.alice.webid}", frozenset(MODES), default=False) in rules
    assert Rule(f"agent {world.bob.webid}", frozenset({"Read"}), default=False) in rules
    assert _outcome(_can_write(world.alice_agent, doc)) == OK
    assert world.alice_agent.get(acl_url(world.pod(), doc)).status_code == 200  # still Control
    assert _outcome(_can_read(world.bob_agent, doc)) == OK


def test_grant_on_a_container_is_inherited_by_its_members(world: World) -> None:
    container = world.fresh_container()
    doc = container + "note.ttl"
    assert world.alice_agent.put(doc, DOC).status_code == 201

    grant(world.pod(), container, ["Read"], public=True)

    assert _outcome(_can_read(PUBLIC, doc)) == OK
    assert _can_write(PUBLIC, doc) == ANONYMOUS
    assert set(show(world.pod(), container)) == {
        Rule(f"agent {world.alice.webid}", frozenset(MODES), default=True),
        Rule("public", frozenset({"Read"}), default=True),
    }
    assert world.alice_agent.get(acl_url(world.pod(), doc)).status_code == 404  # still inherits
    assert _outcome(_can_write(world.alice_agent, doc)) == OK


def test_grant_with_default_false_on_a_container_covers_only_the_container(world: World) -> None:
    container = world.fresh_container()
    doc = container + "note.ttl"
    assert world.alice_agent.put(doc, DOC).status_code == 201
    grant(world.pod(), container, ["Read"], public=True, default=False)
    assert _outcome(_can_read(PUBLIC, container)) == OK
    assert _can_read(PUBLIC, doc) == ANONYMOUS


def test_revoking_your_own_last_control_is_refused(world: World) -> None:
    doc = world.fresh_doc()
    grant(world.pod(), doc, ["Read"], agent=world.bob.webid)  # doc now has an ACL of its own
    before = world.alice_agent.get(acl_url(world.pod(), doc)).text

    with pytest.raises(ValueError, match="last Control"):
        revoke(world.pod(), doc, ["Control"], agent=world.alice.webid)
    with pytest.raises(ValueError, match="last Control"):
        revoke(world.pod(), doc, agent=world.alice.webid)

    assert world.alice_agent.get(acl_url(world.pod(), doc)).text == before
    revoke(world.pod(), doc, ["Write"], agent=world.alice.webid)  # other modes may go
    assert _can_write(world.alice_agent, doc) == DENIED
    assert world.alice_agent.get(acl_url(world.pod(), doc)).status_code == 200


def test_revoking_own_control_is_fine_while_another_rule_keeps_it(world: World) -> None:
    doc = world.fresh_doc()
    grant(world.pod(), doc, ["Control"], authenticated=True)
    revoke(world.pod(), doc, ["Control"], agent=world.alice.webid)
    assert world.alice_agent.get(acl_url(world.pod(), doc)).status_code == 200


def test_revoking_on_a_resource_that_inherits_copies_the_rest(world: World) -> None:
    container = world.fresh_container()
    grant(world.pod(), container, ["Read", "Write"], agent=world.bob.webid)
    doc = container + "note.ttl"
    assert world.alice_agent.put(doc, DOC).status_code == 201
    assert _outcome(_can_write(world.bob_agent, doc)) == OK

    revoke(world.pod(), doc, ["Write"], agent=world.bob.webid)

    assert _can_write(world.bob_agent, doc) == DENIED
    assert _outcome(_can_read(world.bob_agent, doc)) == OK
    assert _outcome(_can_write(world.bob_agent, container + "other.ttl")) == OK  # the container's rules stay
    assert _outcome(_can_write(world.alice_agent, doc)) == OK


def test_a_rule_shared_by_several_agents_is_split(world: World) -> None:
    doc = world.fresh_doc()
    carol = make_person(world.server, "carol")
    acl = acl_url(world.pod(), doc)
    body = (
        "@prefix acl: <http://www.w3.org/ns/auth/acl#>.\n"
        f"<#owner> a acl:Authorization; acl:agent <{world.alice.webid}>; acl:accessTo <{doc}>;\n"
        "  acl:mode acl:Read, acl:Write, acl:Control.\n"
        f"<#friends> a acl:Authorization; acl:agent <{world.bob.webid}>, <{carol.webid}>;\n"
        f"  acl:accessTo <{doc}>; acl:mode acl:Read, acl:Write.\n"
    )
    assert world.alice_agent.put(acl, body.encode()).status_code in (201, 204, 205)

    revoke(world.pod(), doc, ["Write"], agent=world.bob.webid)

    rules = set(show(world.pod(), doc))
    assert Rule(f"agent {carol.webid}", frozenset({"Read", "Write"}), default=False) in rules
    assert Rule(f"agent {world.bob.webid}", frozenset({"Read"}), default=False) in rules
    assert _can_write(world.bob_agent, doc) == DENIED
    assert _outcome(_can_write(log_in(world.server, carol), doc)) == OK


def test_the_app_condition_is_written_as_a_client_condition(world: World) -> None:
    doc = world.fresh_doc()
    client = world.bob_agent.client_id
    assert client is not None
    grant(world.pod(), doc, ["Read"], agent=world.bob.webid, app=client)
    acl = acl_url(world.pod(), doc)
    graph = Graph().parse(data=world.alice_agent.get(acl).text, format="turtle", publicID=acl)
    (rule,) = graph.subjects(ACL.agent, URIRef(world.bob.webid))
    (condition,) = graph.objects(rule, ACL.condition)
    assert (
        condition,
        URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
        ACL.ClientCondition,
    ) in graph
    assert [str(c) for c in graph.objects(condition, ACL.client)] == [client]
    assert Rule(f"app {client} for {world.bob.webid}", frozenset({"Read"}), default=False) in show(
        world.pod(), doc
    )


def test_grant_twice_joins_the_same_rule(world: World) -> None:
    doc = world.fresh_doc()
    grant(world.pod(), doc, ["Read"], agent=world.bob.webid)
    grant(world.pod(), doc, ["Append"], agent=world.bob.webid)
    bobs = [r for r in show(world.pod(), doc) if r.subject == f"agent {world.bob.webid}"]
    assert bobs == [Rule(f"agent {world.bob.webid}", frozenset({"Read", "Append"}), default=False)]


def test_only_someone_with_control_may_change_access(world: World) -> None:
    doc = world.fresh_doc()
    grant(world.pod(), doc, ["Read", "Write"], agent=world.bob.webid)
    with pytest.raises(Forbidden):
        grant(pod_for(world.server, world.bob), doc, ["Read"], public=True)
    with pytest.raises(Forbidden):
        show(pod_for(world.server, world.bob), doc)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({}, "exactly one"),
        ({"agent": "https://a.example/#me", "public": True}, "exactly one"),
        ({"public": True, "modes": ["Delete"]}, "unknown access mode"),
        ({"public": True, "modes": []}, "at least one"),
        ({"public": True, "default": True}, "container"),
    ],
)
def test_bad_arguments_are_refused_before_any_request(
    world: World, kwargs: dict[str, object], message: str
) -> None:
    modes = kwargs.pop("modes", ["Read"])
    with pytest.raises(ValueError, match=message):
        grant(world.pod(), world.alice.pod + "never-used.ttl", modes, **kwargs)  # type: ignore[arg-type]
