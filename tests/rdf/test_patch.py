"""PATCH bodies: N3 Patch (Solid Protocol §5.3.1) and SPARQL Update, applied to an rdflib Graph."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from rdflib import Graph

import pod_server.rdf.patch as patch_module
from pod_server.errors import (
    BadRequest,
    Conflict,
    InvalidRdf,
    UnprocessableContent,
    UnsupportedMediaType,
)
from pod_server.rdf.patch import parse_patch

BASE = "https://pod.example/data/doc"

TURTLE_PREFIXES = """\
@prefix ex: <http://example.org/ns#>.
@prefix xsd: <http://www.w3.org/2001/XMLSchema#>.
"""

N3_PREFIXES = TURTLE_PREFIXES + "@prefix solid: <http://www.w3.org/ns/solid/terms#>.\n"

SPARQL_PREFIXES = "PREFIX ex: <http://example.org/ns#>\nPREFIX xsd: <http://www.w3.org/2001/XMLSchema#>\n"

TARGET = """\
<#alice> ex:name "Alice"; ex:age 30; ex:knows <#bob>; ex:greeting "hello"@en.
<#bob> ex:name "Bob"; ex:knows <#carol>.
<#carol> ex:name "Carol"; ex:born "1990-01-02"^^xsd:date.
"""


def turtle(text: str) -> Graph:
    graph = Graph()
    graph.parse(data=TURTLE_PREFIXES + text, format="turtle", publicID=BASE)
    return graph


def expected(added: str = "", removed: str = "") -> set[object]:
    return (set(turtle(TARGET)) - set(turtle(removed))) | set(turtle(added))


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Any attempt to open a connection fails the test: these code paths never use the network."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


# --- N3 Patch: successful patches -------------------------------------------------------------

N3_APPLIED = [
    # (id, patch resource body, added triples, removed triples, deletes, reads)
    (
        "insert only",
        "_:p a solid:InsertDeletePatch; solid:inserts { <#carol> ex:knows <#alice>. }.",
        "<#carol> ex:knows <#alice>.",
        "",
        False,
        False,
    ),
    (
        "delete only",
        "_:p a solid:InsertDeletePatch; solid:deletes { <#bob> ex:knows <#carol>. }.",
        "",
        "<#bob> ex:knows <#carol>.",
        True,
        True,  # Solid Protocol §5.3.1: non-empty ?deletions is a Read and Write operation.
    ),
    (
        "where with one binding, insert",
        "_:p a solid:InsertDeletePatch;"
        ' solid:where { ?who ex:name "Bob". }; solid:inserts { ?who ex:age 40. }.',
        "<#bob> ex:age 40.",
        "",
        False,
        True,
    ),
    (
        "where, delete and insert (the spec's example shape)",
        "<#rename> a solid:InsertDeletePatch;"
        ' solid:where { ?who ex:name "Alice"; ex:age ?age. };'
        " solid:deletes { ?who ex:age ?age. };"
        " solid:inserts { ?who ex:age 31. }.",
        "<#alice> ex:age 31.",
        "<#alice> ex:age 30.",
        True,
        True,
    ),
    (
        "where joining two patterns",
        "_:p a solid:InsertDeletePatch;"
        " solid:where { ?a ex:knows ?b. ?b ex:knows ?c. };"
        " solid:inserts { ?a ex:friendOfFriend ?c. }.",
        "<#alice> ex:friendOfFriend <#carol>.",
        "",
        False,
        True,
    ),
    (
        "where with a variable predicate",
        '_:p a solid:InsertDeletePatch; solid:where { <#carol> ?p "1990-01-02"^^xsd:date. };'
        ' solid:deletes { <#carol> ?p "1990-01-02"^^xsd:date. }.',
        "",
        '<#carol> ex:born "1990-01-02"^^xsd:date.',
        True,
        True,
    ),
    (
        "ground where that holds is one (empty) binding",
        '_:p a solid:InsertDeletePatch; solid:where { <#alice> ex:name "Alice". };'
        " solid:inserts { <#alice> ex:checked true. }.",
        "<#alice> ex:checked true.",
        "",
        False,
        True,
    ),
    (
        "relative IRIs resolve against the target's URL",
        "_:p a solid:InsertDeletePatch;"
        " solid:inserts { <> ex:about <#alice>. <#alice> ex:seeAlso <../other/x#y>. }.",
        "<https://pod.example/data/doc> ex:about <https://pod.example/data/doc#alice>."
        " <https://pod.example/data/doc#alice> ex:seeAlso <https://pod.example/other/x#y>.",
        "",
        False,
        False,
    ),
    (
        "literals with datatypes and language tags are inserted as written",
        "_:p a solid:InsertDeletePatch;"
        ' solid:inserts { <#alice> ex:nick "Ali"@en-GB; ex:since "2020-05-01"^^xsd:date;'
        ' ex:score 1.5; ex:custom "x"^^ex:myType. }.',
        '<#alice> ex:nick "Ali"@en-GB; ex:since "2020-05-01"^^xsd:date;'
        ' ex:score 1.5; ex:custom "x"^^ex:myType.',
        "",
        False,
        False,
    ),
    (
        "typed literals and language tags match in where and deletes",
        '_:p a solid:InsertDeletePatch; solid:where { ?x ex:greeting "hello"@en; ex:age 30. };'
        ' solid:deletes { ?x ex:greeting "hello"@en. ?x ex:age "30"^^xsd:integer. }.',
        "",
        '<#alice> ex:greeting "hello"@en; ex:age 30.',
        True,
        True,
    ),
    (
        "empty formulae are a no-op",
        "_:p a solid:InsertDeletePatch; solid:where {}; solid:inserts {}; solid:deletes {}.",
        "",
        "",
        False,
        False,
    ),
    (
        "an IRI as the patch resource, with solid:Patch as an extra type",
        "<#patch> a solid:InsertDeletePatch, solid:Patch; solid:inserts { <#bob> ex:age 41. }.",
        "<#bob> ex:age 41.",
        "",
        False,
        False,
    ),
    (
        "triples not about the patch resource are ignored",
        '<#note> ex:comment "not part of the patch".'
        " _:p a solid:InsertDeletePatch; solid:inserts { <#bob> ex:age 41. }.",
        "<#bob> ex:age 41.",
        "",
        False,
        False,
    ),
    (
        "a triple both deleted and inserted stays",
        "_:p a solid:InsertDeletePatch; solid:deletes { <#bob> ex:knows <#carol>. };"
        " solid:inserts { <#bob> ex:knows <#carol>. }.",
        "",
        "",
        True,
        True,
    ),
]


@pytest.mark.parametrize(
    ("body", "added", "removed", "deletes", "reads"),
    [case[1:] for case in N3_APPLIED],
    ids=[case[0] for case in N3_APPLIED],
)
def test_n3_patch_applies(body: str, added: str, removed: str, deletes: bool, reads: bool) -> None:
    patch = parse_patch((N3_PREFIXES + body).encode(), "text/n3", BASE)
    assert (patch.media_type, patch.deletes, patch.reads) == ("text/n3", deletes, reads)
    graph = turtle(TARGET)
    patch.apply(graph)
    assert set(graph) == expected(added, removed)


def test_n3_patch_content_type_parameters_and_bom_are_accepted() -> None:
    body = "\ufeff" + N3_PREFIXES + "_:p a solid:InsertDeletePatch; solid:inserts { <#bob> ex:age 41. }."
    patch = parse_patch(body.encode(), "Text/N3; charset=utf-8", BASE)
    graph = turtle(TARGET)
    patch.apply(graph)
    assert set(graph) == expected("<#bob> ex:age 41.")


def test_n3_patch_on_an_empty_graph_inserts() -> None:
    # Solid Protocol §5.3.1 step 1: an empty dataset if the target does not exist yet.
    patch = parse_patch(
        (N3_PREFIXES + "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:b <#c>. }.").encode(),
        "text/n3",
        BASE,
    )
    graph = Graph()
    patch.apply(graph)
    assert set(graph) == set(turtle("<#a> ex:b <#c>."))


# --- N3 Patch: 409 Conflict, and the graph is left unchanged -----------------------------------

N3_CONFLICTS = [
    (
        "where matches nothing",
        '_:p a solid:InsertDeletePatch; solid:where { ?x ex:name "Zoe". }; solid:inserts { ?x ex:age 1. }.',
        "matches nothing",
    ),
    (
        "where matches two bindings",
        "_:p a solid:InsertDeletePatch; solid:where { ?x ex:knows ?y. }; solid:inserts { ?x ex:age 1. }.",
        "more than once",
    ),
    (
        "where matches three bindings",
        "_:p a solid:InsertDeletePatch; solid:where { ?x ex:name ?n. }; solid:deletes { ?x ex:name ?n. }.",
        "more than once",
    ),
    (
        "ground where that does not hold",
        '_:p a solid:InsertDeletePatch; solid:where { <#bob> ex:name "Robert". };'
        " solid:inserts { <#bob> ex:age 1. }.",
        "matches nothing",
    ),
    (
        "where with another language tag",
        '_:p a solid:InsertDeletePatch; solid:where { ?x ex:greeting "hello"@fr. };'
        " solid:inserts { ?x ex:age 1. }.",
        "matches nothing",
    ),
    (
        "where with a plain literal where the data has a language tag",
        "_:p a solid:InsertDeletePatch;"
        ' solid:where { ?x ex:greeting "hello". }; solid:inserts { ?x ex:age 1. }.',
        "matches nothing",
    ),
    (
        "where with a repeated variable",
        "_:p a solid:InsertDeletePatch; solid:where { ?x ex:knows ?x. }; solid:inserts { ?x ex:age 1. }.",
        "matches nothing",
    ),
    (
        "delete of an absent triple",
        "_:p a solid:InsertDeletePatch; solid:deletes { <#carol> ex:knows <#bob>. }.",
        "does not contain",
    ),
    (
        "delete of an absent triple after a binding",
        '_:p a solid:InsertDeletePatch; solid:where { ?x ex:name "Bob". };'
        " solid:deletes { ?x ex:age 30. }; solid:inserts { ?x ex:age 31. }.",
        "does not contain",
    ),
    (
        "one delete present, one absent",
        "_:p a solid:InsertDeletePatch;"
        " solid:deletes { <#bob> ex:knows <#carol>. <#carol> ex:knows <#bob>. };"
        " solid:inserts { <#x> ex:y <#z>. }.",
        "does not contain",
    ),
    (
        "delete of a literal with another datatype",
        '_:p a solid:InsertDeletePatch; solid:deletes { <#alice> ex:age "30". }.',
        "does not contain",
    ),
    (
        "insert would make a literal a subject",
        "_:p a solid:InsertDeletePatch; solid:where { <#bob> ex:name ?n. };"
        " solid:inserts { ?n ex:length 3. }.",
        "literal",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"), [case[1:] for case in N3_CONFLICTS], ids=[case[0] for case in N3_CONFLICTS]
)
def test_n3_patch_conflicts(body: str, message: str) -> None:
    patch = parse_patch((N3_PREFIXES + body).encode(), "text/n3", BASE)
    graph = turtle(TARGET)
    with pytest.raises(Conflict, match=message) as caught:
        patch.apply(graph)
    assert caught.value.status == 409
    assert set(graph) == set(turtle(TARGET))


def test_n3_patch_where_stops_after_two_bindings(monkeypatch: pytest.MonkeyPatch) -> None:
    # Only 0, 1 or more bindings matter, so matching a large graph stops early: with a step
    # budget of 10 over 1000 candidate triples the answer is still a 409, not a 422.
    monkeypatch.setattr(patch_module, "MAX_MATCH_STEPS", 10)
    graph = turtle(" ".join(f"<#s{i}> ex:p <#o{i}>." for i in range(1000)))
    patch = parse_patch(
        (
            N3_PREFIXES
            + "_:p a solid:InsertDeletePatch; solid:where { ?s ex:p ?o. }; solid:deletes { ?s ex:p ?o. }."
        ).encode(),
        "text/n3",
        BASE,
    )
    with pytest.raises(Conflict, match="more than once"):
        patch.apply(graph)


def test_n3_patch_where_evaluation_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(patch_module, "MAX_MATCH_STEPS", 500)
    graph = turtle(" ".join(f"<#s{i}> ex:p <#o{i}>." for i in range(50)))
    # 50 x 50 candidate pairs before the third pattern fails each time: more than 500 steps.
    patch = parse_patch(
        (
            N3_PREFIXES
            + "_:p a solid:InsertDeletePatch; solid:where { ?a ex:p ?b. ?c ex:p ?d. ?e ex:q ?f. };"
            " solid:inserts { ?a ex:r ?c. }."
        ).encode(),
        "text/n3",
        BASE,
    )
    with pytest.raises(UnprocessableContent, match="too expensive"):
        patch.apply(graph)
    assert set(graph) == set(turtle(" ".join(f"<#s{i}> ex:p <#o{i}>." for i in range(50))))


# --- N3 Patch: 422 for documents that parse but are not valid patches --------------------------

N3_INVALID = [
    ("prefixes only", "", "no patch resource"),
    ("data triples but no patch resource", "<#a> ex:b <#c>.", "no patch resource"),
    (
        "two patch resources",
        "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:b <#c>. }."
        " _:q a solid:InsertDeletePatch; solid:inserts { <#d> ex:e <#f>. }.",
        "2 patch resources",
    ),
    (
        "formula predicates on two subjects",
        "_:p a solid:InsertDeletePatch. _:q solid:inserts { <#a> ex:b <#c>. }.",
        "2 patch resources",
    ),
    (
        "typed solid:Patch only",
        "_:p a solid:Patch; solid:inserts { <#a> ex:b <#c>. }.",
        "solid:InsertDeletePatch",
    ),
    ("no type at all", "_:p solid:inserts { <#a> ex:b <#c>. }.", "solid:InsertDeletePatch"),
    ("wrong type", "_:p a ex:Patch; solid:inserts { <#a> ex:b <#c>. }.", "solid:InsertDeletePatch"),
    (
        "a variable as patch resource",
        "?p a solid:InsertDeletePatch; solid:inserts { <#a> ex:b <#c>. }.",
        "IRI or a blank node",
    ),
    (
        "variable in inserts not in where",
        '_:p a solid:InsertDeletePatch; solid:where { ?a ex:name "Bob". }; solid:inserts { ?b ex:age 3. }.',
        r"\?b in solid:inserts",
    ),
    (
        "variable in deletes without a where",
        "_:p a solid:InsertDeletePatch; solid:deletes { ?x ex:age 30. }.",
        r"\?x in solid:deletes",
    ),
    (
        "blank node in where",
        "_:p a solid:InsertDeletePatch; solid:where { _:x ex:name ?n. }; solid:inserts { <#a> ex:name ?n. }.",
        "solid:where formula must not contain blank nodes",
    ),
    (
        "[] in where",
        "_:p a solid:InsertDeletePatch; solid:where { ?x ex:knows []. }; solid:inserts { ?x ex:a ex:b. }.",
        "blank nodes",
    ),
    (
        "blank node in deletes",
        '_:p a solid:InsertDeletePatch; solid:deletes { _:x ex:name "Bob". }.',
        "solid:deletes formula must not contain blank nodes",
    ),
    (
        "blank node in inserts",
        "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:b _:c. }.",
        "solid:inserts formula must not contain blank nodes",
    ),
    (
        "[ ] in inserts",
        "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:b [ ex:c 1 ]. }.",
        "blank nodes",
    ),
    (
        "a list in inserts",
        "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:b (1 2). }.",
        "blank nodes",
    ),
    ("inserts not a formula", "_:p a solid:InsertDeletePatch; solid:inserts <#a>.", "must be a formula"),
    ("where is a literal", '_:p a solid:InsertDeletePatch; solid:where "?x ex:a ex:b".', "must be a formula"),
    (
        "two inserts formulae",
        "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:b <#c>. }, { <#d> ex:e <#f>. }.",
        "2 solid:inserts formulae",
    ),
    (
        "two where formulae",
        "_:p a solid:InsertDeletePatch; solid:where { ?a ex:b <#c>. }; solid:where { ?a ex:e <#f>. };"
        " solid:inserts { ?a ex:x 1. }.",
        "2 solid:where formulae",
    ),
    (
        "nested formula",
        "_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:says { <#b> ex:c <#d>. }. }.",
        "nested formulae",
    ),
    (
        "an implication in where",
        "_:p a solid:InsertDeletePatch; solid:where { { ?a ex:b ?c } => { ?a ex:d ?c } }.",
        "nested formulae",
    ),
    (
        "a literal subject in inserts",
        '_:p a solid:InsertDeletePatch; solid:inserts { "a" ex:b <#c>. }.',
        "not a triple pattern",
    ),
    (
        "a typo in a formula predicate",
        "_:p a solid:InsertDeletePatch; solid:insert { <#a> ex:b <#c>. }.",
        "unexpected predicate",
    ),
]


@pytest.mark.parametrize(
    ("body", "message"), [case[1:] for case in N3_INVALID], ids=[case[0] for case in N3_INVALID]
)
def test_n3_patch_invalid(body: str, message: str) -> None:
    with pytest.raises(UnprocessableContent, match=message) as caught:
        parse_patch((N3_PREFIXES + body).encode(), "text/n3", BASE)
    assert caught.value.status == 422


@pytest.mark.parametrize("body", [b"", b"  \n\t", b"# nothing\n"], ids=["empty", "whitespace", "comment"])
def test_n3_patch_without_content_is_422(body: bytes) -> None:
    # Solid Protocol §5.3.1: "A patch document MUST contain one or more patch resources."
    with pytest.raises(UnprocessableContent, match="no patch resource"):
        parse_patch(body, "text/n3", BASE)


# --- N3 Patch: 400 for bodies that do not parse -----------------------------------------------

N3_SYNTAX_ERRORS = [
    ("missing object", N3_PREFIXES + "_:p a solid:InsertDeletePatch;\n solid:inserts { <#a> ex:b . }.", 5),
    (
        "unclosed formula",
        N3_PREFIXES + "_:p a solid:InsertDeletePatch;\n solid:inserts { <#a> ex:b <#c>.",
        None,
    ),
    ("undefined prefix", "_:p a nope:InsertDeletePatch.", 1),
    ("truncated statement", N3_PREFIXES + "_:p a solid:InsertDeletePatch", None),
    ("turtle-style garbage", "this is not N3 at all {", None),
]


@pytest.mark.parametrize(
    ("body", "line"), [case[1:] for case in N3_SYNTAX_ERRORS], ids=[case[0] for case in N3_SYNTAX_ERRORS]
)
def test_n3_patch_syntax_error(body: str, line: int | None) -> None:
    with pytest.raises(InvalidRdf) as caught:
        parse_patch(body.encode(), "text/n3", BASE)
    assert caught.value.status == 400
    assert "\n" not in caught.value.detail
    if line is not None:
        assert caught.value.line == line


def test_n3_patch_invalid_utf8() -> None:
    body = (
        N3_PREFIXES + '_:p a solid:InsertDeletePatch; solid:inserts { <#a> ex:b "'
    ).encode() + b'\xff". }.'
    with pytest.raises(InvalidRdf, match="UTF-8") as caught:
        parse_patch(body, "text/n3", BASE)
    assert caught.value.line == 4


# --- SPARQL Update ------------------------------------------------------------------------------

SPARQL_APPLIED = [
    # (id, request, added, removed, deletes, reads)
    ("INSERT DATA", "INSERT DATA { <#carol> ex:age 25 }", "<#carol> ex:age 25.", "", False, False),
    (
        "INSERT DATA with datatypes and language tags",
        'INSERT DATA { <#carol> ex:nick "Caro"@fr-CA; ex:since "2021-01-01"^^xsd:date; ex:x "y"^^ex:t }',
        '<#carol> ex:nick "Caro"@fr-CA; ex:since "2021-01-01"^^xsd:date; ex:x "y"^^ex:t.',
        "",
        False,
        False,
    ),
    (
        "INSERT DATA resolves relative IRIs",
        "INSERT DATA { <> ex:about <../other#x> }",
        "<https://pod.example/data/doc> ex:about <https://pod.example/other#x>.",
        "",
        False,
        False,
    ),
    ("DELETE DATA", "DELETE DATA { <#bob> ex:knows <#carol> }", "", "<#bob> ex:knows <#carol>.", True, False),
    (
        "DELETE DATA of an absent triple is a no-op",
        "DELETE DATA { <#bob> ex:knows <#alice> }",
        "",
        "",
        True,
        False,
    ),
    (
        "DELETE DATA with a language tag",
        'DELETE DATA { <#alice> ex:greeting "hello"@en }',
        "",
        '<#alice> ex:greeting "hello"@en.',
        True,
        False,
    ),
    (
        "DELETE/INSERT WHERE",
        'DELETE { ?p ex:age ?a } INSERT { ?p ex:age 31 } WHERE { ?p ex:name "Alice"; ex:age ?a }',
        "<#alice> ex:age 31.",
        "<#alice> ex:age 30.",
        True,
        True,
    ),
    (
        "INSERT WHERE",
        'INSERT { ?p ex:seen true } WHERE { ?p ex:name "Bob" }',
        "<#bob> ex:seen true.",
        "",
        False,
        True,
    ),
    ("DELETE WHERE", "DELETE WHERE { <#bob> ex:knows ?x }", "", "<#bob> ex:knows <#carol>.", True, True),
    (
        "INSERT with an empty WHERE",
        "INSERT { <#bob> ex:age 7 } WHERE {}",
        "<#bob> ex:age 7.",
        "",
        False,
        False,
    ),
    (
        "several operations with ;",
        "INSERT DATA { <#carol> ex:age 25 } ;\nDELETE DATA { <#bob> ex:knows <#carol> } ;\n"
        "INSERT { ?p ex:adult true } WHERE { ?p ex:age ?a FILTER(?a >= 18) }",
        "<#carol> ex:age 25. <#carol> ex:adult true. <#alice> ex:adult true.",
        "<#bob> ex:knows <#carol>.",
        True,
        True,
    ),
    ("a trailing ;", "INSERT DATA { <#carol> ex:age 25 } ;", "<#carol> ex:age 25.", "", False, False),
    (
        "template triples with a literal subject or predicate are not inserted",
        'INSERT { ?n ex:length 3. ?s ?n 1. ?s ex:named ?n } WHERE { ?s ex:name ?n FILTER(?n = "Bob") }',
        '<#bob> ex:named "Bob".',
        "",
        False,
        True,
    ),
    (
        "template triples with an unbound variable are not inserted",
        'INSERT { ?s ex:x ?unbound. ?s ex:y 1 } WHERE { ?s ex:name "Bob" }',
        "<#bob> ex:y 1.",
        "",
        False,
        True,
    ),
]


@pytest.mark.parametrize(
    ("request_text", "added", "removed", "deletes", "reads"),
    [case[1:] for case in SPARQL_APPLIED],
    ids=[case[0] for case in SPARQL_APPLIED],
)
def test_sparql_update_applies(
    request_text: str, added: str, removed: str, deletes: bool, reads: bool
) -> None:
    patch = parse_patch((SPARQL_PREFIXES + request_text).encode(), "application/sparql-update", BASE)
    assert (patch.media_type, patch.deletes, patch.reads) == ("application/sparql-update", deletes, reads)
    graph = turtle(TARGET)
    patch.apply(graph)
    assert set(graph) == expected(added, removed)


@pytest.mark.parametrize(
    "request_text",
    [
        "",
        "   \n\t  \n",
        "# just a comment\n",
        SPARQL_PREFIXES,
        "BASE <http://example.org/>\n" + SPARQL_PREFIXES + "# c",
    ],
    ids=["empty", "whitespace", "comment", "prefixes only", "base and prefixes"],
)
def test_sparql_update_without_operations_is_a_no_op(request_text: str) -> None:
    patch = parse_patch(request_text.encode(), "application/sparql-update; charset=utf-8", BASE)
    assert (patch.deletes, patch.reads) == (False, False)
    graph = turtle(TARGET)
    patch.apply(graph)
    assert set(graph) == set(turtle(TARGET))


SPARQL_SYNTAX_ERRORS = [
    ("unclosed brace", "INSERT DATA { <#a> <#b> <#c> "),
    ("a query, not an update", "SELECT * WHERE { ?s ?p ?o }"),
    ("variable in INSERT DATA", "INSERT DATA { ?s <#b> <#c> }"),
    ("variable in DELETE DATA", "DELETE DATA { <#bob> ex:knows ?who }"),
    ("undefined prefix", "INSERT DATA { nope:a <#b> <#c> }"),
    ("blank node in DELETE DATA", 'DELETE DATA { _:b ex:name "Bob" }'),
    ("blank node in DELETE WHERE", "DELETE WHERE { _:b ex:name ?n }"),
    ("blank node in a DELETE template", "DELETE { _:b ex:name ?n } WHERE { ?x ex:name ?n }"),
]


@pytest.mark.parametrize(
    "request_text", [case[1] for case in SPARQL_SYNTAX_ERRORS], ids=[case[0] for case in SPARQL_SYNTAX_ERRORS]
)
def test_sparql_update_syntax_error(request_text: str) -> None:
    with pytest.raises(BadRequest) as caught:
        parse_patch((SPARQL_PREFIXES + request_text).encode(), "application/sparql-update", BASE)
    assert caught.value.status == 400
    assert caught.value.detail
    assert "\n" not in caught.value.detail


def test_sparql_update_syntax_error_names_the_position() -> None:
    with pytest.raises(BadRequest, match="line 2"):
        parse_patch(
            b"INSERT DATA { <#a> <#b> <#c> }\n; INSERT DATA { <#a> }", "application/sparql-update", BASE
        )


def test_sparql_update_invalid_utf8() -> None:
    with pytest.raises(BadRequest, match="UTF-8"):
        parse_patch(b'INSERT DATA { <#a> <#b> "\xc3\x28" }', "application/sparql-update", BASE)


SPARQL_FORBIDDEN = [
    ("LOAD", "LOAD <http://example.org/data.ttl>", "LOAD"),
    (
        "LOAD INTO GRAPH",
        "LOAD SILENT <http://example.org/data.ttl> INTO GRAPH <http://example.org/g>",
        "LOAD",
    ),
    ("CLEAR DEFAULT", "CLEAR DEFAULT", "CLEAR"),
    ("CLEAR ALL", "CLEAR ALL", "CLEAR"),
    ("DROP GRAPH", "DROP GRAPH <http://example.org/g>", "DROP"),
    ("DROP DEFAULT", "DROP SILENT DEFAULT", "DROP"),
    ("CREATE", "CREATE GRAPH <http://example.org/g>", "CREATE"),
    ("ADD", "ADD DEFAULT TO <http://example.org/g>", "ADD"),
    ("MOVE", "MOVE <http://example.org/g> TO DEFAULT", "MOVE"),
    ("COPY", "COPY DEFAULT TO <http://example.org/g>", "COPY"),
    ("WITH", "WITH <http://example.org/g> DELETE { ?s ex:name ?n } WHERE { ?s ex:name ?n }", "WITH"),
    ("USING", "DELETE { ?s ex:name ?n } USING <http://example.org/g> WHERE { ?s ex:name ?n }", "USING"),
    (
        "USING NAMED",
        "INSERT { ?s ex:x 1 } USING NAMED <http://example.org/g> WHERE { ?s ex:name ?n }",
        "USING",
    ),
    ("GRAPH in INSERT DATA", "INSERT DATA { GRAPH <http://example.org/g> { <#a> ex:b <#c> } }", "GRAPH"),
    ("GRAPH in DELETE DATA", "DELETE DATA { GRAPH <http://example.org/g> { <#a> ex:b <#c> } }", "GRAPH"),
    ("GRAPH in DELETE WHERE", "DELETE WHERE { GRAPH <http://example.org/g> { ?s ?p ?o } }", "GRAPH"),
    (
        "GRAPH in an INSERT template",
        "INSERT { GRAPH <http://example.org/g> { ?s ex:x 1 } } WHERE { ?s ex:name ?n }",
        "GRAPH",
    ),
    ("GRAPH in WHERE", "INSERT { ?s ex:x 1 } WHERE { GRAPH ?g { ?s ex:name ?n } }", "GRAPH"),
    (
        "SERVICE in WHERE",
        "INSERT { ?s ex:x ?o } WHERE { SERVICE <http://example.org/sparql> { ?s ex:y ?o } }",
        "SERVICE",
    ),
    (
        "SERVICE SILENT nested in OPTIONAL",
        "INSERT { ?s ex:x ?o } WHERE { ?s ex:name ?n"
        " OPTIONAL { SERVICE SILENT <http://example.org/sparql> { ?s ex:y ?o } } }",
        "SERVICE",
    ),
    (
        "GRAPH inside FILTER EXISTS",
        "INSERT { ?s ex:x 1 } WHERE { ?s ex:name ?n"
        " FILTER EXISTS { GRAPH <http://example.org/g> { ?s ?p ?o } } }",
        "GRAPH",
    ),
    (
        "SERVICE inside FILTER NOT EXISTS",
        "DELETE { ?s ex:name ?n } WHERE { ?s ex:name ?n"
        " FILTER NOT EXISTS { SERVICE <http://example.org/sparql> { ?s ?p ?o } } }",
        "SERVICE",
    ),
    (
        "GRAPH inside a subquery",
        "INSERT { ?s ex:x 1 } WHERE { { SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } } } }",
        "GRAPH",
    ),
    ("a forbidden operation after an allowed one", "INSERT DATA { <#a> ex:b <#c> } ; DROP ALL", "DROP"),
]


@pytest.mark.parametrize(
    ("request_text", "keyword"),
    [case[1:] for case in SPARQL_FORBIDDEN],
    ids=[case[0] for case in SPARQL_FORBIDDEN],
)
def test_sparql_update_forbidden_operations(request_text: str, keyword: str) -> None:
    with pytest.raises(UnprocessableContent, match=keyword) as caught:
        parse_patch((SPARQL_PREFIXES + request_text).encode(), "application/sparql-update", BASE)
    assert caught.value.status == 422


# --- dispatch -------------------------------------------------------------------------------------


@pytest.mark.parametrize("content_type", ["text/turtle", "application/json", "", "application/sparql-query"])
def test_other_media_types_are_unsupported(content_type: str) -> None:
    with pytest.raises(UnsupportedMediaType, match="text/n3") as caught:
        parse_patch(b"INSERT DATA { <#a> <#b> <#c> }", content_type, BASE)
    assert caught.value.status == 415
