"""What the SPARQL endpoint refuses before a query runs (pod_server.query.guard), as tables:
(query, status, words the message must hold so the client knows what to change)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pod_server.errors import PodError
from pod_server.query import guard

EX = "PREFIX ex: <http://example.org/ns#>\n"


def _patterns(n: int) -> str:
    return EX + "SELECT * WHERE { " + " ".join(f"?s{i} ex:p ?o{i} ." for i in range(n)) + " }"


@pytest.mark.parametrize(
    ("query", "form"),
    [
        ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
        ("select ?s where { ?s a ?type } limit 5", "SELECT"),
        ("ASK { ?s ?p ?o }", "ASK"),
        ("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("CONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
        ("DESCRIBE <http://example.org/a>", "DESCRIBE"),
        ("DESCRIBE ?s WHERE { ?s ?p ?o }", "DESCRIBE"),
        ("SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } }", "SELECT"),
        ("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", "SELECT"),
        (EX + "SELECT * WHERE { <http://example.org/a> ex:knows* ?o }", "SELECT"),  # one end bound
        (EX + "SELECT * WHERE { ?s ex:knows+ <http://example.org/b> }", "SELECT"),
        (EX + "SELECT * WHERE { ?s ex:knows/ex:knows ?o }", "SELECT"),  # fixed length
        (EX + "SELECT * WHERE { ?s ex:knows? ?o }", "SELECT"),
        (_patterns(guard.MAX_TRIPLE_PATTERNS), "SELECT"),
        ("SELECT * WHERE { ?s ?p 'SERVICE <http://x/> FROM <http://y/>' }", "SELECT"),  # in a literal
        ("SELECT * WHERE { ?s ?p ?o } # SERVICE {{{{{{{{{{{{{{{{{{{{{{{{{{{{", "SELECT"),  # a comment
        ("SELECT * WHERE " + "{ " * guard.MAX_NESTING + "?s ?p ?o" + " }" * guard.MAX_NESTING, "SELECT"),
        ("SELECT * WHERE { ?s ?p ?o } VALUES ?s { <http://example.org/a> }", "SELECT"),
        ("SELECT ?s WHERE { ?s ?p ?o } GROUP BY ?s HAVING (COUNT(?o) > 1) ORDER BY ?s", "SELECT"),
        ("SELECT * WHERE { ?s ?p ?o FILTER NOT EXISTS { ?s a ?t } }", "SELECT"),
        ("SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 1 } }", "SELECT"),
        ("SELECT * WHERE { ?s ?p ?o MINUS { ?s a ?t } OPTIONAL { ?o ?q ?r } }", "SELECT"),
    ],
)
def test_queries_that_may_run(query: str, form: str) -> None:
    assert guard.check(query) == form


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        # Remote or named datasets: the dataset is fixed by access control.
        ("SELECT * FROM <http://evil.example/data> WHERE { ?s ?p ?o }", 422, ["FROM <http://evil", "GRAPH"]),
        ("SELECT * FROM NAMED <http://a.example/> WHERE { GRAPH ?g { ?s ?p ?o } }", 422, ["FROM NAMED"]),
        ("DESCRIBE ?s FROM <http://a.example/> WHERE { ?s ?p ?o }", 422, ["FROM"]),
        (
            "SELECT * WHERE { SERVICE <http://remote.example/sparql> { ?s ?p ?o } }",
            422,
            ["SERVICE", "yourself"],
        ),
        (
            "SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE SILENT <http://x/> { ?s ?p ?o } } }",
            422,
            ["SERVICE"],
        ),
        ("ASK { FILTER EXISTS { SERVICE ?endpoint { ?s ?p ?o } } }", 422, ["SERVICE"]),
        # Updates: this endpoint only reads.
        ("INSERT DATA { <http://a/> <http://b/> <http://c/> }", 422, ["not SPARQL Update", "PATCH"]),
        ("DELETE WHERE { ?s ?p ?o }", 422, ["PATCH"]),
        (
            "PREFIX ex: <http://e/> DELETE { ?s ex:p ?o } INSERT { ?s ex:q ?o } WHERE { ?s ex:p ?o }",
            422,
            ["PATCH"],
        ),
        ("CLEAR ALL", 422, ["not SPARQL Update"]),
        ("DROP GRAPH <http://a/>", 422, ["not SPARQL Update"]),
        ("LOAD <http://evil.example/data.ttl>", 422, ["LOAD", "fetch"]),
        ("LOAD <http://a/> INTO GRAPH <http://b/>", 422, ["LOAD"]),
        # The cost cap.
        (EX + "SELECT * WHERE { ?s ex:knows* ?o }", 422, ["*", "?s", "?o", "Bind"]),
        (EX + "SELECT * WHERE { ?s (ex:a|ex:b)+ ?s }", 422, ["+"]),
        (EX + "SELECT * WHERE { [] (ex:a/ex:b)* ?o }", 422, ["blank node"]),
        (EX + "SELECT * WHERE { ?s ex:a/ex:b* ?o }", 422, ["*"]),
        (EX + "ASK { FILTER EXISTS { ?s ex:a+ ?o } }", 422, ["+"]),
        (EX + "SELECT * WHERE { { SELECT ?s WHERE { ?s ex:a* ?o } } }", 422, ["*"]),
        (_patterns(guard.MAX_TRIPLE_PATTERNS + 1), 422, ["65 triple patterns", "at most 64"]),
        (
            EX
            + "SELECT * WHERE { ?s ex:p ?a, ?b, ?c ; ex:q [ ex:r ?d ] . "
            + " ".join(f"?x{i} ex:p ?y{i} ." for i in range(60))
            + " }",
            422,
            ["65 triple patterns"],
        ),
        (
            "SELECT * WHERE " + "{ " * (guard.MAX_NESTING + 1) + "?s ?p ?o" + " }" * (guard.MAX_NESTING + 1),
            422,
            ["17 levels", "at most 16"],
        ),
        ("SELECT * WHERE { FILTER(" + "(" * 20 + "1" + ")" * 20 + ") }", 422, ["levels deep"]),
        (
            "SELECT * WHERE { ?s ?p ?o VALUES ?o { " + " ".join(f'"{i}"' for i in range(2100)) + " } }",
            422,
            ["tokens", "at most 2048", "VALUES"],
        ),
        # Size.
        ("SELECT * WHERE { ?s ?p '" + "x" * guard.MAX_QUERY_BYTES + "' }", 413, ["bytes", "64 KiB"]),
        # Syntax: the parser's message, with where.
        ("SELEC * WHERE { ?s ?p ?o }", 400, ["not valid SPARQL 1.1", "line 1, column 1", "SELEC"]),
        ("SELECT * WHERE {\n  ?s ?p\n}", 400, ["line 2"]),
        ("SELECT * WHERE { ?s ?p ?o", 400, ["not valid SPARQL"]),
        ("PREFIX ex: <http://e/>", 400, ["found end of text"]),
        ("SELECT * WHERE { ?s foaf:name ?o }", 400, ["prefix foaf: is not declared", "PREFIX foaf:"]),
        ("PREFIX ex: <http://e/> SELECT * WHERE { ?s :p ex:o }", 400, ["prefix : is not declared"]),
        (EX + "SELECT * WHERE { ?s ?p ?o FILTER(fn:lower(?o)) }", 400, ["prefix fn:"]),
        ("", 400, ["empty"]),
        ("   \n ", 400, ["empty"]),
    ],
)
def test_refusals_say_what_to_change(query: str, status: int, words: list[str]) -> None:
    with pytest.raises(PodError) as caught:
        guard.check(query)
    assert caught.value.status == status, caught.value.detail
    for word in words:
        assert word in caught.value.detail


def test_a_query_too_complex_for_the_parser_is_refused_not_crashed() -> None:
    # Within the nesting and token caps, yet deep enough for rdflib's recursive parser to run
    # out of stack: groups nested 16 deep, each holding many triple patterns.
    inner = " ".join(f"?s{i} ?p ?o{i} ." for i in range(60))
    query = "SELECT * WHERE " + "{ " * 16 + inner + " }" * 16
    with pytest.raises(PodError) as caught:
        guard.check(query)
    assert caught.value.status == 422
    assert "too large or nested too deeply" in caught.value.detail


@pytest.mark.parametrize(
    ("keyword", "iri"), [("FROM", "http://a/"), ("default-graph-uri", "http://b/"), ("named-graph-uri", "x")]
)
def test_dataset_refusal_names_the_parameter(keyword: str, iri: str) -> None:
    refusal = guard.dataset_refusal(keyword, iri)
    assert refusal.status == 422
    assert f"{keyword} <{iri}>" in refusal.detail
    assert "access control" in refusal.detail


RACE = """
import threading
from pod_server.query import guard

queries = [
    "PREFIX ex: <http://e/> SELECT ?s (COUNT(?o) AS ?n) WHERE { ?s ex:p ?o ; ex:q [ ex:r 1.5 ] "
    "FILTER(?o > 2 && LANG(?o) = 'en') } GROUP BY ?s ORDER BY DESC(?n) LIMIT 5",
    "PREFIX ex: <http://e/> CONSTRUCT { ?s ex:x ?o } WHERE { ?s ex:a/ex:b ?o OPTIONAL { ?o ex:c ?d } }",
    'ASK { ?s ?p "x"@en FILTER NOT EXISTS { ?s ?p 3 } }',
    "PREFIX ex: <http://e/> DESCRIBE ?s WHERE { ?s ex:p ?o BIND(STRLEN(STR(?o)) * 2 AS ?l) }",
]
errors = []
start = threading.Barrier(16)

def run(i):
    start.wait()
    for q in queries[i % 4:] + queries[: i % 4]:
        try:
            guard.check(q + f" # {i}")
        except Exception as e:
            errors.append(repr(e))

threads = [threading.Thread(target=run, args=(i,)) for i in range(16)]
for t in threads:
    t.start()
for t in threads:
    t.join()
print(errors)
"""


def test_many_threads_can_check_at_once_from_a_cold_start() -> None:
    """pyparsing is not thread-safe: unguarded, 16 threads parsing at once fail with TypeErrors or
    bogus syntax errors. A fresh interpreter, so the grammar is cold as in a new worker."""
    out = subprocess.run([sys.executable, "-c", RACE], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]", out.stdout
