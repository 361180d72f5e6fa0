"""POST {base}.communities (model §3, §5): the layout, who may found one, and atomicity."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from rdflib import Graph, URIRef

from pod_server.community import founding
from pod_server.community.service import CommunityService
from pod_server.errors import NotFound, StorageError
from pod_server.idp.signer import AgentSigner
from pod_server.store.resource_store import ResourceStore
from tests.access.helpers import PUBLIC, Agent, log_in, make_person
from tests.community.helpers import found, key, post, snapshot, write_member_half
from tests.conftest import LiveServer, _serve

ORG = "http://www.w3.org/ns/org#"
CBPP = "https://w3id.org/pod-server/cbpp#"
LDP = "http://www.w3.org/ns/ldp#"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _serve(tmp_path_factory.mktemp("founding"), single_pod=False, fetch_allow_private=True)


def name() -> str:
    return "c" + uuid.uuid4().hex[:10]


def turtle(agent: Agent, url: str) -> Graph:
    answer = agent.get(url, headers={"Accept": "text/turtle"})
    assert answer.status_code == 200, (url, answer.status_code, answer.text)
    return Graph().parse(data=answer.text, format="turtle", publicID=url)


def test_founding_writes_the_layout_and_an_unconfirmed_founder(server: LiveServer) -> None:
    alice = make_person(server, "alice")
    agent = log_in(server, alice)
    n = name()
    made = post(agent, server.url + ".communities", {"name": n, "title": "Commons", "mission": "Share"})
    assert made.status_code == 201, made.text
    c = f"{server.url}{n}/"
    C = c + "profile/card#me"
    assert made.json() == {
        "community": C,
        "pod": c,
        "membership": f"{c}members/{key(alice.webid)}#membership",
        "confirmed": False,
    }
    assert made.headers["Location"] == c

    profile = turtle(PUBLIC, c + "profile/card")
    me = URIRef(C)
    for kind in ("http://www.w3.org/ns/org#Organization", CBPP + "Community"):
        assert (me, None, URIRef(kind)) in profile
    assert (me, URIRef(CBPP + "governedBy"), URIRef(c + "governance/policy#policy")) in profile
    assert (me, URIRef(LDP + "inbox"), URIRef(c + "inbox/")) in profile
    assert (me, URIRef("http://www.w3.org/ns/solid/terms#oidcIssuer"), URIRef(server.url)) in profile
    # The person profile the accounts service wrote is gone.
    assert (me, None, URIRef("http://xmlns.com/foaf/0.1/Person")) not in profile

    for public in ("roles", "governance/policy", "governance/rules", "members/", "ledger/", "groups/members"):
        assert PUBLIC.get(c + public).status_code == 200, public
    for private in ("proposals/", "decisions/founding", "contributions/"):
        assert PUBLIC.get(c + private).status_code == 401, private
    # The founder is not confirmed yet, so not in the admin group: the members-only parts are closed.
    assert agent.get(c + "proposals/").status_code == 403

    for container, shape in (
        ("ledger/", "acknowledgement"),
        ("proposals/", "motion"),
        ("members/", "membership"),
        ("rules/", "value-rule"),
    ):
        store = server.app.extensions["pod_server.store"]
        meta = store.graph_of(f"/{n}/{container}.meta", c + container + ".meta")
        expected = URIRef(f"https://w3id.org/pod-server/shapes/{shape}")
        assert (URIRef(c + container), URIRef(LDP + "constrainedBy"), expected) in meta, container
    # The store says so too (H2's constrained containers advertise their shape).
    assert "shapes/acknowledgement" in PUBLIC.head(c + "ledger/").headers.get("Link", "")

    roster = requests.get(c + ".well-known/community", timeout=10).json()
    assert roster["members"] == []
    assert [p["webid"] for p in roster["pending"]] == [alice.webid]
    assert roster["pending"][0]["roles"] == ["admin", "member"]
    assert roster["name"] == "Commons"


def test_founding_with_the_member_half_confirms_the_founder(server: LiveServer) -> None:
    alice = make_person(server, "alice")
    agent = log_in(server, alice)
    community = found(server, alice, agent, name())
    assert community.members() == {alice.webid}
    group = turtle(PUBLIC, community.url + "groups/admin")
    assert (URIRef(community.url + "groups/admin#group"), None, URIRef(alice.webid)) in group
    # Now an admin: the members-only containers open.
    assert agent.get(community.url + "proposals/").status_code == 200


def exists(server: LiveServer, path: str) -> bool:
    try:
        server.app.extensions["pod_server.store"].backend.stat(path)
    except NotFound:
        return False
    return True


def foreign_agent(server: LiveServer) -> Agent:
    """A WebID hosted here whose profile trusts this issuer, but that no account holds."""
    owner = make_person(server, "host")
    host = log_in(server, owner)
    webid = owner.pod + "stray#me"
    profile = f"<{webid}> <http://www.w3.org/ns/solid/terms#oidcIssuer> <{server.url}> ."
    assert host.put(owner.pod + "stray", profile).status_code == 201
    signer = AgentSigner(server.app.extensions["pod_server.idp"].keys, issuer=server.url)

    class Stray(Agent):
        def request(self, method: str, url: str, **kw: object) -> requests.Response:
            headers = {**dict(kw.pop("headers", {}) or {}), **signer.headers(webid, method, url)}  # type: ignore[call-overload]
            return requests.request(method, url, headers=headers, timeout=10, **kw)  # type: ignore[arg-type]

    return Stray(webid=webid)


@pytest.mark.parametrize(
    "who,body,content_type,status",
    [
        ("anonymous", {"name": "ok", "title": "T"}, "application/json", 401),
        ("stray", {"name": "ok", "title": "T"}, "application/json", 403),
        ("alice", {"name": "Bad Name", "title": "T"}, "application/json", 400),
        ("alice", {"name": "ok", "title": ""}, "application/json", 400),
        ("alice", {"name": "ok", "title": "x" * 201}, "application/json", 400),
        ("alice", {"name": "ok"}, "application/json", 400),
        ("alice", {"name": "ok", "title": "T", "homepage": "not a url"}, "application/json", 400),
        ("alice", {"name": "ok", "title": "T", "colour": "red"}, "application/json", 400),
        ("alice", {"name": "account", "title": "T"}, "application/json", 400),
        ("alice", "{not json", "application/json", 400),
        ("alice", ["a list"], "application/json", 400),
        ("alice", {"name": "ok", "title": "T"}, "text/plain", 415),
        ("alice", {"name": "taken", "title": "T"}, "application/json", 409),
    ],
)
def test_founding_refusals_change_nothing(
    server: LiveServer, who: str, body: object, content_type: str, status: int
) -> None:
    alice = make_person(server, "alice")
    agents = {"anonymous": PUBLIC, "stray": foreign_agent(server), "alice": log_in(server, alice)}
    pod_name = name()
    if isinstance(body, dict) and body.get("name") == "ok":
        body = {**body, "name": pod_name}
    if isinstance(body, dict) and body.get("name") == "taken":
        body = {**body, "name": alice.pod[len(server.url) :].rstrip("/")}
    before = snapshot(server, alice.pod)
    data = body if isinstance(body, str) else requests.models.complexjson.dumps(body)
    answer = agents[who].request(
        "POST", server.url + ".communities", data=data, headers={"Content-Type": content_type}
    )
    assert answer.status_code == status, answer.text
    assert answer.headers["Content-Type"] == "application/problem+json"
    if who == "stray":
        assert "account" in answer.json()["detail"]
    assert not exists(server, f"/{pod_name}/")
    assert snapshot(server, alice.pod) == before


def test_a_member_half_that_does_not_agree_refuses_the_founding(server: LiveServer) -> None:
    alice = make_person(server, "alice")
    agent = log_in(server, alice)
    n = name()
    C = f"{server.url}{n}/profile/card#me"
    unreadable = write_member_half(agent, alice, C, readable=False)
    answer = post(agent, server.url + ".communities", {"name": n, "title": "T", "membership": unreadable})
    assert answer.status_code == 422, answer.text
    assert "could not be read" in answer.json()["detail"]
    # Nothing is left: the name is free again, and the WebID is no account's.
    assert not exists(server, f"/{n}/")
    assert server.app.extensions["pod_server.accounts"].owners_of(f"/{n}/") == ()
    fixed = write_member_half(agent, alice, C)
    again = post(agent, server.url + ".communities", {"name": n, "title": "T", "membership": fixed})
    assert again.status_code == 201, again.text
    assert again.json()["confirmed"] is True


class FailingStore(ResourceStore):
    """The app's store, failing on one write (a full disk, say) so founding must undo."""

    def __init__(self, store: ResourceStore, fail_on: str) -> None:
        super().__init__(store.backend, store.ids, store.limits)
        self.constraints = getattr(store, "constraints", None)
        self.fail_on = fail_on

    def put(self, path: str, data: bytes, content_type: str, base: str, **kw: object) -> object:  # type: ignore[override]
        if path.endswith(self.fail_on):
            raise StorageError("the disk is full")
        return super().put(path, data, content_type, base, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("fail_on", ["/roles", "/governance/rules", "/groups/members"])
def test_a_failed_founding_removes_everything_it_wrote(
    server: LiveServer, tmp_path: Path, fail_on: str
) -> None:
    app_service: CommunityService = server.app.extensions["pod_server.community"].service
    accounts = server.app.extensions["pod_server.community"].accounts
    svc = CommunityService(
        FailingStore(app_service.store, fail_on), app_service.agent, app_service.shapes, issuer=server.url
    )
    alice = make_person(server, "alice")
    n = name()
    before = sorted(c.path for c in app_service.store.backend.children("/"))
    from pod_server.access.credentials import Credentials

    with pytest.raises(StorageError):
        founding.create(svc, accounts, Credentials(webid=alice.webid), {"name": n, "title": "T"})
    assert sorted(c.path for c in app_service.store.backend.children("/")) == before
    assert accounts.account_of(f"{server.url}{n}/profile/card#me") is None
    # The name is free again.
    retry = post(log_in(server, alice), server.url + ".communities", {"name": n, "title": "T"})
    assert retry.status_code == 201, retry.text


def test_single_pod_servers_have_no_communities(tmp_path: Path) -> None:
    for live in _serve(tmp_path, single_pod=True):
        answer = requests.post(live.url + ".communities", json={"name": "x", "title": "T"}, timeout=10)
        assert answer.status_code == 404
