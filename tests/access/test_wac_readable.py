"""WacPolicy.readable: the Read decision for many paths at once, decided once per effective ACL.

The specification is authorize(): for every path and every requester, readable() must answer
exactly what a GET of that path would (WAC §6.1 effective ACL, §4.2 Control over ACL resources,
Solid Protocol §4.3 description resources).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pod_server.access.credentials import PUBLIC, Credentials
from pod_server.access.wac import WacPolicy
from pod_server.errors import PodError
from pod_server.ldp.identifiers import IdentifierMap
from pod_server.ldp.model import Operation
from pod_server.rdf.limits import RdfLimits
from pod_server.store.filesystem import FilesystemBackend
from pod_server.store.resource_store import ResourceStore

BASE = "http://pod.test/"
ALICE = Credentials(webid=BASE + "alice/profile/card#me")
BOB = Credentials(webid="https://bob.example/profile#me")
DAVE = Credentials(webid="https://dave.example/profile#me")
CAROL = Credentials(webid=BASE + "carol/profile/card#me")
PREFIXES = (
    "@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
    "@prefix vcard: <http://www.w3.org/2006/vcard/ns#>.\n"
)


def owner_rule(container: str) -> str:
    return (
        f"<#owner> a acl:Authorization; acl:agent <{ALICE.webid}>; acl:accessTo <{BASE}{container}>; "
        f"acl:default <{BASE}{container}>; acl:mode acl:Read, acl:Write, acl:Control .\n"
    )


def rule(name: str, who: str, target: str, *, default: bool = True, modes: str = "acl:Read") -> str:
    inherit = f"; acl:default <{BASE}{target}>" if default else ""
    return (
        f"<#{name}> a acl:Authorization; {who}; acl:accessTo <{BASE}{target}>{inherit}; acl:mode {modes} .\n"
    )


class Owners:
    def owners_of(self, root_path: str) -> tuple[str, ...]:
        return {"/alice/": (str(ALICE.webid),), "/carol/": (str(CAROL.webid),)}.get(root_path, ())


DOCS = {
    "/alice/profile.ttl": "<#me> a <#Person> .",
    "/alice/groups.ttl": f"<#friends> a vcard:Group; vcard:hasMember <{BOB.webid}> .",
    "/alice/public/doc.ttl": "<#a> <#b> <#c> .",
    "/alice/public/doc.ttl.meta": "<doc.ttl> <#about> <#it> .",
    "/alice/public/nested/deep.ttl": "<#a> <#b> <#c> .",
    "/alice/public/own.ttl": "<#a> <#b> <#c> .",
    "/alice/friends/plan.ttl": "<#a> <#b> <#c> .",
    "/alice/authed/x.ttl": "<#a> <#b> <#c> .",
    "/alice/shared/x.ttl": "<#a> <#b> <#c> .",
    "/alice/toponly/child.ttl": "<#a> <#b> <#c> .",
    "/carol/x.ttl": "<#a> <#b> <#c> .",
}
ACLS = {
    "/alice/.acl": owner_rule("alice/"),
    # A container ACL with default rules, inherited by a nested container that has no ACL.
    "/alice/public/.acl": owner_rule("alice/public/")
    + rule("p", "acl:agentClass foaf:Agent", "alice/public/"),
    # A document's own ACL: it replaces the container's, so the public loses Read here.
    "/alice/public/own.ttl.acl": rule(
        "bob", f"acl:agent <{BOB.webid}>", "alice/public/own.ttl", default=False
    )
    + rule(
        "alice",
        f"acl:agent <{ALICE.webid}>",
        "alice/public/own.ttl",
        default=False,
        modes="acl:Read, acl:Control",
    ),
    "/alice/friends/.acl": owner_rule("alice/friends/")
    + rule("g", f"acl:agentGroup <{BASE}alice/groups.ttl#friends>", "alice/friends/"),
    "/alice/authed/.acl": owner_rule("alice/authed/")
    + rule("a", "acl:agentClass acl:AuthenticatedAgent", "alice/authed/"),
    "/alice/shared/.acl": owner_rule("alice/shared/")
    + rule("d", f"acl:agent <{DAVE.webid}>", "alice/shared/"),
    # accessTo without default: the container is public, its members are not.
    "/alice/toponly/.acl": owner_rule("alice/toponly/")
    + rule("t", "acl:agentClass foaf:Agent", "alice/toponly/", default=False),
}
# Every path asked about: documents, containers, auxiliary resources, and /carol/, a pod with no
# ACL anywhere (its ACL path does not exist; the owner still has Control over it).
CONTAINERS = [
    "/alice/",
    "/alice/public/",
    "/alice/public/nested/",
    "/alice/friends/",
    "/alice/authed/",
    "/alice/shared/",
    "/alice/toponly/",
    "/carol/",
]
PATHS = [*DOCS, *ACLS, *CONTAINERS, "/carol/.acl", "/alice/.well-known/solid"]
# acl_paths as the index gives them, plus one that has since been deleted (skipped, as authorize does).
ACL_PATHS = [*ACLS, "/alice/public/gone.ttl.acl"]

PUBLIC_READS = {
    "/alice/public/",
    "/alice/public/doc.ttl",
    "/alice/public/doc.ttl.meta",
    "/alice/public/nested/",
    "/alice/public/nested/deep.ttl",
    "/alice/toponly/",
    "/alice/.well-known/solid",
}
ALICE_READS = set(PATHS) - {"/carol/x.ttl", "/carol/", "/carol/.acl"}
BOB_READS = (
    PUBLIC_READS
    | {"/alice/public/own.ttl", "/alice/friends/", "/alice/friends/plan.ttl"}
    | {
        "/alice/authed/",
        "/alice/authed/x.ttl",
    }
)
DAVE_READS = PUBLIC_READS | {"/alice/authed/", "/alice/authed/x.ttl", "/alice/shared/", "/alice/shared/x.ttl"}
CAROL_READS = PUBLIC_READS | {"/alice/authed/", "/alice/authed/x.ttl", "/carol/.acl"}


@pytest.fixture(scope="module")
def policy(tmp_path_factory: pytest.TempPathFactory) -> WacPolicy:
    data: Path = tmp_path_factory.mktemp("readable") / "data"
    store = ResourceStore(FilesystemBackend(data), IdentifierMap(BASE), RdfLimits())
    for path, body in {**DOCS, **ACLS}.items():
        store.put(path, (PREFIXES + body).encode(), "text/turtle", BASE + path[1:])
    for path in CONTAINERS:
        store.put(path, b"", "text/turtle", BASE + path[1:])
    return WacPolicy(store, owners=Owners())


def authorized(policy: WacPolicy, path: str, who: Credentials) -> bool:
    try:
        policy.authorize(Operation("GET", path, BASE + path[1:]), who)
    except PodError:
        return False
    return True


@pytest.mark.parametrize(
    "who,expected",
    [
        (PUBLIC, PUBLIC_READS),
        (ALICE, ALICE_READS),
        (BOB, BOB_READS),
        (DAVE, DAVE_READS),
        (CAROL, CAROL_READS),
        (BOB.with_origin("https://app.example"), BOB_READS),
    ],
    ids=[
        "public",
        "alice-owner",
        "bob-agent-and-group",
        "dave-agent",
        "carol-other-pod-owner",
        "bob-with-origin",
    ],
)
def test_readable_is_what_authorize_allows(policy: WacPolicy, who: Credentials, expected: set[str]) -> None:
    by_authorize = {p for p in PATHS if authorized(policy, p, who)}
    assert by_authorize == expected
    assert policy.readable(PATHS, who, acl_paths=ACL_PATHS) == expected


def test_one_decision_per_effective_acl(policy: WacPolicy, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each effective ACL is read and evaluated once, however many paths it governs."""
    evaluated: list[int] = []
    fetched: list[str] = []
    evaluate, get = policy._evaluate, policy.acls.get

    def counting_evaluate(rules, credentials):  # type: ignore[no-untyped-def]
        evaluated.append(len(rules))
        return evaluate(rules, credentials)

    def counting_get(path: str):  # type: ignore[no-untyped-def]
        fetched.append(path)
        return get(path)

    monkeypatch.setattr(policy, "_evaluate", counting_evaluate)
    monkeypatch.setattr(policy.acls, "get", counting_get)
    many = [f"/alice/public/n{i}.ttl" for i in range(500)] + [f"/alice/friends/n{i}.ttl" for i in range(500)]
    assert len(policy.readable(many, BOB, acl_paths=ACL_PATHS)) == 1000
    assert len(evaluated) == 2
    assert sorted(fetched) == ["/alice/friends/.acl", "/alice/public/.acl"]


def test_an_unreadable_acl_denies_what_it_governs(tmp_path: Path) -> None:
    store = ResourceStore(FilesystemBackend(tmp_path / "data"), IdentifierMap(BASE), RdfLimits())
    store.put("/alice/c/x.ttl", b"<#a> <#b> <#c> .", "text/turtle", BASE + "alice/c/x.ttl")
    store.put("/alice/.acl", (PREFIXES + owner_rule("alice/")).encode(), "text/turtle", BASE + "alice/.acl")
    # Stored behind the store's back (another program): it is not Turtle.
    store.backend.write("/alice/c/.acl", b"this is { not turtle", "text/turtle")
    policy = WacPolicy(store, owners=Owners())
    paths = ["/alice/c/x.ttl", "/alice/c/x.ttl.meta", "/alice/c/.acl", "/alice/c/", "/alice/"]
    assert {p for p in paths if authorized(policy, p, ALICE)} == {"/alice/"}
    assert policy.readable(paths, ALICE, acl_paths=["/alice/.acl", "/alice/c/.acl"]) == {"/alice/"}
