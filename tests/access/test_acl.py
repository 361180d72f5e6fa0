"""Compiling ACL documents and matching their rules (no server)."""

from __future__ import annotations

import pytest
from rdflib import Graph

from pod_server.access.acl import compile_acl, normalize_origin
from pod_server.access.credentials import Credentials
from pod_server.access.modes import Mode

BASE = "https://pod.example/c/.acl"
C = "https://pod.example/c/"
PREFIXES = "@prefix acl: <http://www.w3.org/ns/auth/acl#>. @prefix foaf: <http://xmlns.com/foaf/0.1/>.\n"
ALICE = Credentials(
    webid="https://alice.example/#me", client_id="https://app.example/id", issuer="https://idp.example/"
)
CLIENT_IS_APP = "acl:condition [ a acl:ClientCondition; acl:client <https://app.example/id> ]"
EVERYONE = "acl:agentClass foaf:Agent"
BOB = Credentials(webid="https://bob.example/#me", client_id="bob-script", issuer="https://idp.example")


def compiled(turtle: str):  # type: ignore[no-untyped-def]
    return compile_acl(Graph().parse(data=PREFIXES + turtle, format="turtle", publicID=BASE))


def modes(turtle: str, credentials: Credentials, *, inherited: bool = False) -> set[Mode]:
    found: set[Mode] = set()
    for rule in compiled(turtle).rules_for(C, inherited=inherited):
        if rule.admits(credentials):
            found |= rule.modes
    return found


def test_write_implies_append_and_unknown_modes_are_ignored() -> None:
    acl = (
        "<#a> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <./>; acl:mode acl:Write, acl:X ."
    )
    assert modes(acl, Credentials()) == {Mode.WRITE, Mode.APPEND}


def test_access_to_and_default_are_indexed_apart() -> None:
    acl = "<#a> a acl:Authorization; acl:agentClass foaf:Agent; acl:default <./>; acl:mode acl:Read ."
    assert modes(acl, Credentials()) == set()
    assert modes(acl, Credentials(), inherited=True) == {Mode.READ}


@pytest.mark.parametrize(
    "subject,who,allowed",
    [
        ("acl:agent <https://alice.example/#me>", ALICE, True),
        ("acl:agent <https://alice.example/#me>", BOB, False),
        ("acl:agent <https://alice.example/#me>", Credentials(), False),
        ("acl:agentClass acl:AuthenticatedAgent", BOB, True),
        ("acl:agentClass acl:AuthenticatedAgent", Credentials(), False),
        ("acl:agentClass foaf:Agent", Credentials(), True),
        ("acl:agent <https://alice.example/#me>; acl:origin <https://App.Example:443/>", ALICE, True),
        (
            "acl:agent <https://alice.example/#me>; acl:origin <https://app.example>",
            ALICE.with_origin("https://app.example"),
            True,
        ),
        (
            "acl:agent <https://alice.example/#me>; acl:origin <https://app.example>",
            ALICE.with_origin("https://other.example"),
            False,
        ),
        ("acl:origin <https://app.example>", Credentials().with_origin("https://app.example"), True),
        ("acl:origin <https://app.example>", Credentials(), False),
        ("acl:origin <https://app.example>", Credentials().with_origin("null"), False),
        (
            f"acl:agent <https://alice.example/#me>; {CLIENT_IS_APP}",
            ALICE,
            True,
        ),
        (
            f"acl:agent <https://bob.example/#me>; {CLIENT_IS_APP}",
            BOB,
            False,
        ),
        (
            'acl:agentClass foaf:Agent; acl:condition [ a acl:ClientCondition; acl:client "bob-script" ]',
            BOB,
            True,
        ),
        (
            f"{EVERYONE}; acl:condition [ a acl:IssuerCondition; acl:issuer <https://idp.example> ]",
            ALICE,
            True,
        ),
        (
            f"{EVERYONE}; acl:condition [ a acl:IssuerCondition; acl:issuer <https://other.example/> ]",
            BOB,
            False,
        ),
        ("acl:agentClass foaf:Agent; acl:condition [ a acl:ClientCondition ]", BOB, False),
        # Conditions are conjunctive: both must hold.
        (
            'acl:agentClass foaf:Agent; acl:condition [ a acl:ClientCondition; acl:client "bob-script" ], '
            "[ a acl:IssuerCondition; acl:issuer <https://elsewhere.example/> ]",
            BOB,
            False,
        ),
        ("acl:agentClass foaf:Agent; acl:condition [ a acl:TimeCondition ]", BOB, False),
        ("acl:agentClass foaf:Agent; acl:condition <https://example.org/untyped>", BOB, False),
    ],
)
def test_subjects_origins_and_conditions(subject: str, who: Credentials, allowed: bool) -> None:
    acl = f"<#a> a acl:Authorization; {subject}; acl:accessTo <./>; acl:mode acl:Read ."
    assert modes(acl, who) == ({Mode.READ} if allowed else set())


def test_rules_need_type_mode_object_and_subject() -> None:
    acl = (
        "<#untyped> acl:agentClass foaf:Agent; acl:accessTo <./>; acl:mode acl:Read .\n"
        "<#no-mode> a acl:Authorization; acl:agentClass foaf:Agent; acl:accessTo <./> .\n"
        "<#no-subject> a acl:Authorization; acl:accessTo <./>; acl:mode acl:Read .\n"
        "<#no-object> a acl:Authorization; acl:agentClass foaf:Agent; acl:mode acl:Write .\n"
    )
    assert modes(acl, Credentials()) == set()


def test_group_rules_are_left_to_the_caller() -> None:
    group = "acl:agentGroup <https://g.example/team#it>"
    acl = f"<#g> a acl:Authorization; {group}; acl:accessTo <./>; acl:mode acl:Read ."
    (rule,) = compiled(acl).rules_for(C, inherited=False)
    assert rule.admits(BOB) is None and rule.admits(Credentials()) is False
    assert rule.groups == ("https://g.example/team#it",)


@pytest.mark.parametrize(
    "raw,normal",
    [
        ("https://App.example:443/", "https://app.example"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:8080/x", "http://[::1]:8080"),
        ("null", None),
        ("file:///etc", None),
    ],
)
def test_origins_are_normalised(raw: str, normal: str | None) -> None:
    assert normalize_origin(raw) == normal
