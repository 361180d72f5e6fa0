#!/usr/bin/env python3
"""rdflib's own SPARQL against pyoxigraph as the engine of the query index (issue 7, decision 0008).

    bench/query_engines.py [--runs 200] [--budget 30] [--seed 7] [--json results.json]

Generates a pod-like dataset, loads it into each engine in a fresh child process (so the memory
figure is that engine's alone), and measures:

- **load**: parsing the 1,000 Turtle documents into the engine, each as a named graph named by
  its URL (what the index does when it loads a storage root);
- **memory**: the process's RSS after loading minus before (the Turtle text is already in memory
  before; ``gc.collect()`` first);
- **query latency**, p50 and p99 of ``--runs`` runs after 3 warm-up runs, from the query string to
  every row materialised as Python objects (parsing the query each time, as the endpoint will).
  A cell stops early when its runs pass ``--budget`` seconds; the table says how many runs it got.

Each query runs against the whole dataset and against 900 of the 1,000 graphs (the same random
900 for both engines), which is what access control does: the dataset is the documents the
requester may read; each is a named graph and the default graph is their union.

- pyoxigraph: ``Store.query(q, default_graph=[900 NamedNodes], named_graphs=[the same])``;
  the whole dataset once as ``use_default_graph_as_union=True`` and once as explicit lists of all
  1,000 graphs (what the index passes when everything is readable). Also: the 900 graphs copied
  into a Store of their own (``Store.bulk_extend``, timed once) and queried as its union, which is
  what caching one Store per readable set would cost and give.
- rdflib: the whole dataset is a ``Dataset(default_union=True)``. rdflib has no dataset arguments
  on ``query()``; it offers two ways to restrict one: a ``ReadOnlyGraphAggregate`` of the 900
  ``Graph`` objects (a read-only ``ConjunctiveGraph`` view over the same store: the default graph is
  the union of its graphs; nothing is copied; its ``contexts()`` must be overridden, or ``GRAPH ?g``
  sees every graph in the store), and the query's own ``FROM``/``FROM NAMED`` clauses, which rdflib
  evaluates by *copying* every listed graph into a fresh ``Dataset`` on each query
  (``rdflib.plugins.sparql.sparql.QueryContext``). Both are measured.

The dataset (``pod_documents``, also used by ``bench/query.py``): 1,000 Turtle documents, exactly
100,000 triples, deterministic for a seed. 200 person profiles (FOAF, vCard, schema.org, Solid
terms, skills, accounts), 50 communities (org:Membership, roles, sites, forums), 100 project plans
(ValueFlows processes and commitments) and 650 contribution logs (ValueFlows economic events with
OM 2 quantities), plus app-specific terms; about 300 distinct predicates and 60 classes.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "dcterms": "http://purl.org/dc/terms/",
    "schema": "http://schema.org/",
    "vf": "https://w3id.org/valueflows/ont/vf#",
    "om2": "http://www.ontology-of-units-of-measure.org/resource/om-2/",
    "org": "http://www.w3.org/ns/org#",
    "as": "https://www.w3.org/ns/activitystreams#",
    "sioc": "http://rdfs.org/sioc/ns#",
    "solid": "http://www.w3.org/ns/solid/terms#",
    "ldp": "http://www.w3.org/ns/ldp#",
    "pim": "http://www.w3.org/ns/pim/space#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "geo": "http://www.w3.org/2003/01/geo/wgs84_pos#",
    "doap": "http://usefulinc.com/ns/doap#",
    "commons": "https://vocab.commons.example/ns#",
}
TURTLE_PREFIXES = "".join(f"@prefix {p}: <{iri}> .\n" for p, iri in PREFIXES.items())
SPARQL_PREFIXES = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIXES.items())


def _words(text: str) -> list[str]:
    return text.split()


def _terms(prefix: str, names: str) -> list[str]:
    return [f"{prefix}:{name}" for name in _words(names)]


# Predicates used only as filler (never by a benchmark query), so query answers stay controlled.
_FILLER_PREDICATES = (
    _terms(
        "foaf",
        "homepage weblog topic_interest based_near title depiction openid currentProject pastProject logo "
        "made maker accountName accountServiceHomepage isPrimaryTopicOf gender age",
    )
    + _terms(
        "vcard",
        "hasPhoto hasURL organization-name role note bday hasUID nickname hasKey hasGender hasLanguage "
        "title category",
    )
    + _terms(
        "dcterms",
        "subject license language identifier source isPartOf hasPart references publisher rights abstract "
        "format issued conformsTo",
    )
    + _terms(
        "schema",
        "url jobTitle worksFor alumniOf birthDate location startDate endDate organizer attendee about "
        "keywords author dateCreated dateModified license codeRepository programmingLanguage sameAs image "
        "logo sponsor funder award skills seeks makesOffer areaServed numberOfEmployees slogan "
        "parentOrganization subOrganization contactPoint availableLanguage eventStatus duration isPartOf "
        "hasPart identifier alternateName interactionStatistic version citation contributor publisher "
        "inLanguage text headline genre",
    )
    + _terms(
        "vf",
        "hasBeginning hasEnd outputOf resourceInventoriedAs resourceClassifiedAs fulfills satisfies "
        "realizationOf finished plannedWithin basedOn atLocation toLocation triggeredBy corrects "
        "independentDemandOf agreedIn clauseOf primaryAccountable accountingQuantity onhandQuantity "
        "trackingIdentifier stage state image classifiedAs",
    )
    + _terms(
        "org",
        "memberDuring hasSubOrganization subOrganizationOf purpose identifier headOf linkedTo "
        "classification hasSite",
    )
    + _terms("as", "content published attributedTo inReplyTo tag context summary url")
    + _terms("sioc", "content has_creator has_container reply_of topic num_replies")
    + _terms("solid", "account storageQuota")
    + _terms("skos", "altLabel broader definition")
    + _terms(
        "doap", "name repository programming-language maintainer developer homepage bug-database release"
    )
    + _terms("rdfs", "label comment seeAlso")
    + _terms("geo", "lat long")
    + [
        f"commons:{a}{b}"
        for a in _words("skill interest badge reputation karma availability timezone language tool")
        + _words("licence repo channel role")
        for b in _words("Level Since Note Score Url Label")
    ]
)
_FILLER_CLASSES = _words(
    "foaf:Organization foaf:OnlineAccount schema:Event schema:CreativeWork schema:SoftwareSourceCode "
    "schema:Place schema:ContactPoint schema:Offer vcard:Email vcard:Address org:Site org:OrganizationalUnit "
    "vf:Intent vf:Agreement vf:EconomicResource vf:Claim vf:Proposal as:Event sioc:Forum "
    "skos:ConceptScheme doap:GitRepository commons:Badge commons:Endorsement commons:Availability "
    "commons:Guild commons:Charter commons:Vote commons:Proposal commons:Milestone commons:Task "
    "commons:Review commons:Budget commons:Expense commons:Reward commons:Tool commons:Channel",
)
ACTIONS = ["work"] * 40 + ["use"] * 12 + ["consume"] * 10 + ["produce"] * 14 + ["transfer"] * 8
ACTIONS += ["deliverService"] * 10 + ["cite"] * 6
FIRST = _words(
    "Ada Bo Chen Dara Eli Fatima Gus Hana Ivo Jun Kemal Lea Milo Nia Omar Pia Quinn Rui Sara Tomas"
)
LAST = _words("Abara Berg Costa Dube Eriksen Ferraro Garcia Haddad Ito Jensen Kowalski Lopez Moreau Nakamura")
WORDS = _words(
    "garden repair bread solar mesh wiki seed tool library kitchen bike translation map course "
    "compost code water timber textile audit design archive radio festival care clinic",
)
N_PEOPLE, N_COMMUNITIES, N_PLANS, N_LOGS = 200, 50, 100, 650
TOTAL_TRIPLES = 100_000


@dataclass(frozen=True)
class Document:
    path: str  # relative to the pod root, e.g. "people/p042/profile/card"
    turtle: str
    triples: int


def person(base: str, i: int) -> str:
    return f"{base}people/p{i:03d}/profile/card#me"


def community(base: str, j: int) -> str:
    return f"{base}communities/c{j:02d}/about#it"


def _lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _date(rng: random.Random, year: int | None = None) -> str:
    y = year if year is not None else rng.randint(2019, 2025)
    return f'"{y}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"^^xsd:date'


def _datetime(rng: random.Random, year: int, month: int) -> str:
    day, hour, minute = rng.randint(1, 28), rng.randint(7, 21), rng.randint(0, 59)
    return f'"{year}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:00Z"^^xsd:dateTime'


def _filler(rng: random.Random, n: int) -> Iterator[tuple[str, str, str]]:
    """App-specific records with random predicates from the filler pool; endless."""
    k = 0
    while True:
        k += 1
        s = f"<#{'rec'}{n}-{k}>"
        yield s, "a", rng.choice(_FILLER_CLASSES)
        for p in rng.sample(_FILLER_PREDICATES, rng.randint(3, 7)):
            yield s, p, _lit(f"{rng.choice(WORDS)} {rng.randint(1, 9999)}")


def _person_triples(base: str, i: int, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    me = "<#me>"
    name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
    yield "<>", "a", "foaf:PersonalProfileDocument"
    yield "<>", "foaf:primaryTopic", me
    yield "<>", "foaf:maker", me
    for t in ("foaf:Person", "schema:Person", "vcard:Individual"):
        yield me, "a", t
    yield me, "foaf:name", _lit(name)
    yield me, "vcard:fn", _lit(name)
    yield me, "foaf:givenName", _lit(name.split()[0])
    yield me, "foaf:familyName", _lit(name.split()[1])
    yield me, "foaf:nick", _lit(f"p{i:03d}")
    yield me, "foaf:mbox", f"<mailto:p{i:03d}@people.example>"
    yield me, "foaf:img", "<photo.jpg>"
    yield me, "solid:oidcIssuer", "<https://idp.example/>"
    yield me, "pim:storage", f"<{base}>"
    yield me, "ldp:inbox", f"<{base}people/p{i:03d}/inbox/>"
    yield me, "solid:publicTypeIndex", "<publicTypeIndex.ttl>"
    yield me, "solid:privateTypeIndex", "<privateTypeIndex.ttl>"
    yield me, "pim:preferencesFile", "<prefs.ttl>"
    yield me, "schema:email", _lit(f"p{i:03d}@people.example")
    yield me, "schema:knowsLanguage", _lit(rng.choice(["en", "fr", "de", "es", "pt", "sw"]))
    for j in sorted(rng.sample(range(N_COMMUNITIES), rng.randint(1, 4))):
        yield me, "org:memberOf", f"<{community(base, j)}>"
        yield me, "schema:memberOf", f"<{community(base, j)}>"
    for a, kind in (("#home", "vcard:Home"), ("#work", "vcard:Work")):
        yield me, "vcard:hasAddress", f"<{a}>"
        yield f"<{a}>", "a", kind
        yield f"<{a}>", "vcard:street-address", _lit(f"{rng.randint(1, 200)} {rng.choice(WORDS)} street")
        yield f"<{a}>", "vcard:locality", _lit(rng.choice(["Lyon", "Porto", "Nairobi", "Osaka", "Leeds"]))
        yield f"<{a}>", "vcard:postal-code", _lit(str(rng.randint(10000, 99999)))
        yield f"<{a}>", "vcard:country-name", _lit(rng.choice(["FR", "PT", "KE", "JP", "UK"]))
        yield f"<{a}>", "vcard:region", _lit(rng.choice(WORDS))
    yield me, "vcard:hasTelephone", "<#tel>"
    yield "<#tel>", "a", "vcard:Cell"
    yield "<#tel>", "vcard:value", f"<tel:+1555{i:07d}>"
    yield me, "vcard:hasEmail", "<#email>"
    yield "<#email>", "vcard:value", f"<mailto:p{i:03d}@people.example>"
    for k in sorted(rng.sample(range(N_PEOPLE), 8)):
        if k != i:
            yield me, "foaf:knows", f"<{person(base, k)}>"
    k = 0
    while True:  # skills, accounts, then app records, until the document is full
        k += 1
        s = f"<#skill{k}>"
        yield me, "schema:knowsAbout", s
        yield s, "a", "commons:Skill"
        yield s, "skos:prefLabel", _lit(f"{rng.choice(WORDS)} {rng.choice(WORDS)}")
        yield s, "skos:inScheme", f"<{base}vocab/skills#scheme>"
        yield s, "commons:skillLevel", f'"{rng.randint(1, 5)}"^^xsd:integer'
        if k % 3 == 0:
            acc = f"<#account{k}>"
            yield me, "foaf:account", acc
            yield acc, "a", "foaf:OnlineAccount"
            yield acc, "foaf:accountName", _lit(f"p{i:03d}-{k}")
            yield acc, "foaf:accountServiceHomepage", f"<https://{rng.choice(WORDS)}.example/>"
        if k > 4:
            yield from _filler(rng, k)


def _community_triples(base: str, j: int, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    it = "<#it>"
    for t in ("org:Organization", "schema:Organization", "foaf:Group"):
        yield it, "a", t
    title = f"{rng.choice(WORDS).title()} {rng.choice(WORDS)} commons {j}"
    yield it, "foaf:name", _lit(title)
    yield it, "schema:name", _lit(title)
    yield it, "dcterms:title", _lit(title)
    yield it, "dcterms:description", _lit(f"A community for {rng.choice(WORDS)} and {rng.choice(WORDS)}.")
    yield it, "schema:foundingDate", _date(rng)
    yield it, "dcterms:created", _date(rng)
    yield it, "dcterms:modified", _date(rng, 2025)
    yield it, "schema:description", _lit("Open to everyone who contributes.")
    for r in ("maintainer", "member", "steward", "treasurer"):
        yield f"<#role-{r}>", "a", "org:Role"
        yield f"<#role-{r}>", "skos:prefLabel", _lit(r)
    forum = "<#forum>"
    yield it, "org:hasSite", forum
    yield forum, "a", "sioc:Forum"
    yield forum, "dcterms:title", _lit(f"{title} forum")
    k = 0
    while True:  # memberships, then posts, then app records
        k += 1
        m = f"<#m{k}>"
        yield m, "a", "org:Membership"
        yield m, "org:member", f"<{person(base, rng.randrange(N_PEOPLE))}>"
        yield m, "org:organization", it
        yield (
            m,
            "org:role",
            f"<#role-{rng.choice(['maintainer', 'member', 'member', 'steward', 'treasurer'])}>",
        )
        yield it, "org:hasMember", m
        yield it, "foaf:member", f"<{person(base, rng.randrange(N_PEOPLE))}>"
        if k % 2 == 0:
            post = f"<#post{k}>"
            yield post, "a", "sioc:Post"
            yield post, "sioc:has_container", forum
            yield post, "dcterms:created", _date(rng, 2025)
            yield post, "sioc:content", _lit(f"About the {rng.choice(WORDS)}: {rng.randint(1, 999)}")
        if k > 8:
            yield from _filler(rng, k)


def _plan_triples(base: str, n: int, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    plan = "<#plan>"
    yield plan, "a", "vf:Plan"
    yield plan, "vf:name", _lit(f"{rng.choice(WORDS).title()} plan {n}")
    yield plan, "vf:due", _date(rng, 2025)
    yield plan, "vf:note", _lit("Planned at the assembly.")
    yield plan, "vf:inScopeOf", f"<{community(base, n % N_COMMUNITIES)}>"
    spec = "<#spec>"
    yield spec, "a", "vf:ResourceSpecification"
    yield spec, "vf:name", _lit(rng.choice(WORDS))
    yield spec, "skos:prefLabel", _lit(rng.choice(WORDS))
    k = 0
    while True:  # processes, each with commitments; then app records
        k += 1
        proc = f"<#process{k}>"
        yield proc, "a", "vf:Process"
        yield proc, "vf:name", _lit(f"{rng.choice(WORDS)} {k}")
        yield proc, "vf:plannedWithin", plan
        yield proc, "vf:hasBeginning", _date(rng, 2024)
        for c in range(2):
            com = f"<#commitment{k}-{c}>"
            q = f"<#commitment{k}-{c}-q>"
            yield com, "a", "vf:Commitment"
            yield com, "vf:action", f"vf:{rng.choice(ACTIONS)}"
            yield com, "vf:inputOf", proc
            yield com, "vf:resourceConformsTo", spec
            yield com, "vf:due", _date(rng, 2025)
            yield com, "vf:resourceQuantity", q
            yield q, "a", "om2:Measure"
            yield q, "om2:hasNumericalValue", f'"{rng.randint(1, 40)}"^^xsd:decimal'
            yield q, "om2:hasUnit", "om2:hour"
        if k > 3:
            yield from _filler(rng, k)


def _log_triples(base: str, n: int, rng: random.Random) -> Iterator[tuple[str, str, str]]:
    year, month = 2023 + n % 3, 1 + (n // 3) % 12
    yield "<>", "a", "as:OrderedCollection"
    yield "<>", "dcterms:title", _lit(f"Contributions {year}-{month:02d} #{n}")
    yield "<>", "dcterms:creator", f"<{person(base, rng.randrange(N_PEOPLE))}>"
    yield "<>", "dcterms:created", _date(rng, year)
    k = 0
    while True:  # economic events with their quantities; then app records
        k += 1
        e, q = f"<#e{k}>", f"<#e{k}-q>"
        action = rng.choice(ACTIONS)
        yield e, "a", "vf:EconomicEvent"
        yield e, "vf:action", f"vf:{action}"
        yield e, "vf:provider", f"<{person(base, rng.randrange(N_PEOPLE))}>"
        yield e, "vf:receiver", f"<{community(base, rng.randrange(N_COMMUNITIES))}>"
        yield e, "vf:inputOf", f"<{base}projects/pr{rng.randrange(N_PLANS):03d}/plan#process1>"
        yield e, "vf:hasPointInTime", _datetime(rng, year, month)
        yield e, "dcterms:description", _lit(f"{action} on the {rng.choice(WORDS)} {rng.choice(WORDS)}")
        yield e, "vf:effortQuantity" if action in ("work", "deliverService") else "vf:resourceQuantity", q
        yield q, "a", "om2:Measure"
        yield q, "om2:hasNumericalValue", f'"{rng.randint(1, 80) / 4}"^^xsd:decimal'
        yield q, "om2:hasUnit", "om2:hour" if action in ("work", "deliverService") else "om2:kilogram"
        if k > 7:
            yield from _filler(rng, k)


def _turtle(triples: list[tuple[str, str, str]]) -> str:
    lines = [TURTLE_PREFIXES]
    by_subject: dict[str, list[tuple[str, str]]] = {}
    for s, p, o in triples:
        by_subject.setdefault(s, []).append((p, o))
    for s, pos in by_subject.items():
        body = " ;\n    ".join(f"{p} {o}" for p, o in pos)
        lines.append(f"\n{s} {body} .\n")
    return "".join(lines)


def pod_documents(base: str, seed: int = 7) -> list[Document]:
    """The 1,000 documents (exactly 100,000 triples), their IRIs under ``base`` (a pod root URL)."""
    rng = random.Random(seed)
    kinds: list[tuple[str, Callable[[str, int, random.Random], Iterator[tuple[str, str, str]]], int, int]]
    kinds = []
    kinds += [
        (f"people/p{i:03d}/profile/card", _person_triples, i, rng.randint(70, 130)) for i in range(N_PEOPLE)
    ]
    kinds += [
        (f"communities/c{j:02d}/about", _community_triples, j, rng.randint(100, 200))
        for j in range(N_COMMUNITIES)
    ]
    kinds += [(f"projects/pr{n:03d}/plan", _plan_triples, n, rng.randint(60, 140)) for n in range(N_PLANS)]
    kinds += [
        (
            f"contributions/{2023 + n % 3}/{1 + (n // 3) % 12:02d}/log-{n:03d}.ttl",
            _log_triples,
            n,
            rng.randint(70, 120),
        )
        for n in range(N_LOGS)
    ]
    sizes = [k[3] for k in kinds]
    # Exactly TOTAL_TRIPLES: spread the difference one triple at a time over the documents.
    diff = TOTAL_TRIPLES - sum(sizes)
    step = 1 if diff > 0 else -1
    for idx in range(abs(diff)):
        sizes[idx % len(sizes)] += step
    docs = []
    for (path, make, n, _), size in zip(kinds, sizes, strict=True):
        doc_rng = random.Random(f"{seed}/{path}")
        seen: set[tuple[str, str, str]] = set()
        triples: list[tuple[str, str, str]] = []
        for t in make(base, n, doc_rng):
            if t not in seen:
                seen.add(t)
                triples.append(t)
                if len(triples) == size:
                    break
        docs.append(Document(path, _turtle(triples), size))
    return docs


# --------------------------------------------------------------------------- queries
@dataclass(frozen=True)
class Query:
    key: str
    label: str
    sparql: str


def queries(base: str) -> list[Query]:
    # p044 has 10 "work" events with this seed; c07 has 7 members.
    p44, c7 = person(base, 44), community(base, 7)
    return [
        Query("subject", "selective: one subject's properties", f"SELECT ?p ?o WHERE {{ <{p44}> ?p ?o }}"),
        Query(
            "type_filter",
            "selective: type + property filter",
            SPARQL_PREFIXES
            + f"SELECT ?e ?when WHERE {{ ?e a vf:EconomicEvent ; vf:provider <{p44}> ; vf:action vf:work ;"
            " vf:hasPointInTime ?when }",
        ),
        Query(
            "join",
            "join of 3 patterns",
            SPARQL_PREFIXES
            + f"SELECT ?name ?e WHERE {{ ?m org:memberOf <{c7}> . ?m foaf:name ?name . ?e vf:provider ?m }}",
        ),
        Query(
            "aggregate",
            "aggregate: COUNT by type",
            "SELECT ?t (COUNT(?s) AS ?n) WHERE { ?s a ?t } GROUP BY ?t",
        ),
        Query(
            "graph",
            "GRAPH ?g pattern",
            SPARQL_PREFIXES + f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?e vf:provider <{p44}> }} }}",
        ),
    ]


def restricted(docs: list[Document], base: str, seed: int) -> list[str]:
    """The URLs of 900 of the 1,000 documents (what one requester may read), in document order."""
    hidden = set(random.Random(f"{seed}/hidden").sample(range(len(docs)), len(docs) // 10))
    return [base + d.path for i, d in enumerate(docs) if i not in hidden]


# --------------------------------------------------------------------------- measuring
def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def timed(run: Callable[[], int], runs: int, budget: float, warmup: int = 3) -> dict[str, Any]:
    rows = 0
    for _ in range(warmup):
        t0 = time.perf_counter()
        rows = run()
        if time.perf_counter() - t0 > 1:  # a slow query: one warm-up run is enough
            break
    times: list[float] = []
    started = time.perf_counter()
    while len(times) < runs and (len(times) < 5 or time.perf_counter() - started < budget):
        t0 = time.perf_counter()
        rows = run()
        times.append((time.perf_counter() - t0) * 1000)
    return {
        "rows": rows,
        "runs": len(times),
        "p50_ms": statistics.median(times),
        "p99_ms": pct(times, 99),
        "mean_ms": statistics.fmean(times),
    }


def _rows(result: Any) -> int:
    """Every solution of a pyoxigraph SELECT, materialised as Python terms; their number."""
    return len([tuple(solution) for solution in result])


def _rdflib_rows(graph: Any, sparql: str) -> int:
    return len(list(graph.query(sparql)))


def bench_oxigraph(docs: list[Document], base: str, seeds: int, a: argparse.Namespace) -> dict[str, Any]:
    import pyoxigraph as ox

    rss0 = rss_mb()
    t0 = time.perf_counter()
    store = ox.Store()  # in memory
    for d in docs:
        url = base + d.path
        store.load(d.turtle, format=ox.RdfFormat.TURTLE, base_iri=url, to_graph=ox.NamedNode(url))
    load_s = time.perf_counter() - t0
    gc.collect()
    out: dict[str, Any] = {
        "engine": f"pyoxigraph {ox.__version__}",
        "load_s": load_s,
        "rss_mb": rss_mb() - rss0,
        "quads": len(store),
        "cells": {},
    }
    out["predicates"] = _rows(store.query("SELECT DISTINCT ?p { GRAPH ?g { ?s ?p ?o } }"))
    out["classes"] = _rows(store.query("SELECT DISTINCT ?c { GRAPH ?g { ?s a ?c } }"))
    all_graphs = [ox.NamedNode(base + d.path) for d in docs]
    some_graphs = [ox.NamedNode(u) for u in restricted(docs, base, seeds)]
    variants: dict[str, dict[str, Any]] = {
        "all (union)": {"use_default_graph_as_union": True},
        "all (1,000 listed)": {"default_graph": all_graphs, "named_graphs": all_graphs},
        "900 of 1,000": {"default_graph": some_graphs, "named_graphs": some_graphs},
    }
    t0 = time.perf_counter()
    own = ox.Store()
    own.bulk_extend(quad for g in some_graphs for quad in store.quads_for_pattern(None, None, None, g))
    out["copy_900_s"] = time.perf_counter() - t0
    for q in queries(base):
        for variant, kwargs in variants.items():

            def run(q: Query = q, kwargs: dict[str, Any] = kwargs) -> int:
                return _rows(store.query(q.sparql, **kwargs))

            out["cells"][f"{q.key}|{variant}"] = timed(run, a.runs, a.budget)

        def run_own(q: Query = q) -> int:
            return _rows(own.query(q.sparql, use_default_graph_as_union=True))

        out["cells"][f"{q.key}|900 copied"] = timed(run_own, a.runs, a.budget)
    return out


def bench_rdflib(docs: list[Document], base: str, seed: int, a: argparse.Namespace) -> dict[str, Any]:
    import warnings

    import rdflib
    from rdflib.graph import ReadOnlyGraphAggregate

    warnings.simplefilter("ignore", DeprecationWarning)  # ConjunctiveGraph, which the aggregate is
    rss0 = rss_mb()
    t0 = time.perf_counter()
    ds = rdflib.Dataset(default_union=True)  # in memory (rdflib's "Memory" store)
    for d in docs:
        url = base + d.path
        ds.graph(rdflib.URIRef(url)).parse(data=d.turtle, format="turtle", publicID=url)
    load_s = time.perf_counter() - t0
    gc.collect()
    out: dict[str, Any] = {
        "engine": f"rdflib {rdflib.__version__}",
        "load_s": load_s,
        "rss_mb": rss_mb() - rss0,
        "quads": len(ds),
        "cells": {},
    }

    class View(ReadOnlyGraphAggregate):
        """rdflib's aggregate with ``GRAPH ?g`` kept to its own graphs: the stock class inherits
        ``contexts()`` from ``ConjunctiveGraph``, which lists every graph in the store."""

        def contexts(self, triple: Any = None) -> Generator[rdflib.Graph, None, None]:
            yield from (g for g in self.graphs if triple is None or triple in g)

    some = restricted(docs, base, seed)
    view = View([ds.graph(rdflib.URIRef(u)) for u in some], store=ds.store)
    from_clauses = "".join(f"FROM <{u}>\nFROM NAMED <{u}>\n" for u in some)
    for q in queries(base):
        where = q.sparql.index("WHERE")
        with_from = q.sparql[:where] + from_clauses + q.sparql[where:]
        variants: dict[str, Callable[[], int]] = {
            "all (union)": functools.partial(_rdflib_rows, ds, q.sparql),
            "900 of 1,000": functools.partial(_rdflib_rows, view, q.sparql),
            "900 of 1,000 (FROM/FROM NAMED)": functools.partial(_rdflib_rows, ds, with_from),
        }
        for variant, run in variants.items():
            out["cells"][f"{q.key}|{variant}"] = timed(run, a.runs, a.budget)
            print(f"  rdflib {q.key} {variant}: {out['cells'][f'{q.key}|{variant}']}", file=sys.stderr)
    return out


ENGINES = {"pyoxigraph": bench_oxigraph, "rdflib": bench_rdflib}
BASE = "https://pod.example/"


def child(a: argparse.Namespace) -> None:
    docs = pod_documents(BASE, a.seed)
    gc.collect()
    result = ENGINES[a.engine](docs, BASE, a.seed, a)
    Path(a.child_out).write_text(json.dumps(result))


def _ms(v: float) -> str:
    return f"{v:,.2f}" if v < 100 else f"{v:,.0f}"


def table(results: dict[str, dict[str, Any]], docs: list[Document], a: argparse.Namespace) -> str:
    empty: dict[str, Any] = {"cells": {}}
    ox, rl = results.get("pyoxigraph", empty), results.get("rdflib", empty)

    def fig(r: dict[str, Any], key: str, fmt: str) -> str:
        return format(r[key], fmt) if key in r else "-"

    def ratio(key: str) -> str:
        return f"{rl[key] / ox[key]:.1f}x" if key in ox and key in rl else ""

    lines = [
        f"Dataset: {len(docs):,} documents (named graphs), {sum(d.triples for d in docs):,} triples, "
        f"seed {a.seed}; {ox.get('predicates', '?')} distinct predicates, {ox.get('classes', '?')} classes.",
        f"Latency: p50 / p99 ms over up to {a.runs} runs; [n] = runs, when the {a.budget:g} s budget "
        "per cell cut it short.",
        "",
        "| | pyoxigraph | rdflib | rdflib / pyoxigraph |",
        "|---|---|---|---|",
        f"| load 1,000 Turtle documents, s | {fig(ox, 'load_s', '.2f')} | {fig(rl, 'load_s', '.2f')} "
        f"| {ratio('load_s')} |",
        f"| memory (RSS delta), MB | {fig(ox, 'rss_mb', '.0f')} | {fig(rl, 'rss_mb', '.0f')} "
        f"| {ratio('rss_mb')} |",
        f"| quads loaded | {fig(ox, 'quads', ',')} | {fig(rl, 'quads', ',')} | |",
        f"| copy 900 graphs into a Store of their own, s | {fig(ox, 'copy_900_s', '.2f')} | | |",
        "",
        "| query | dataset | rows | pyoxigraph | rdflib | rdflib / pyoxigraph (p50) |",
        "|---|---|---|---|---|---|",
    ]

    def cell(c: dict[str, Any] | None) -> str:
        if c is None:
            return "-"
        runs = "" if c["runs"] >= a.runs else f" [{c['runs']}]"
        return f"{_ms(c['p50_ms'])} / {_ms(c['p99_ms'])}{runs}"

    for q in queries(BASE):
        for ox_variant, rl_variant, label in (
            ("all (union)", "all (union)", "all 1,000 (union)"),
            ("all (1,000 listed)", None, "all 1,000, listed"),
            ("900 of 1,000", "900 of 1,000", "900 of 1,000"),
            (None, "900 of 1,000 (FROM/FROM NAMED)", "900 via FROM / FROM NAMED"),
            ("900 copied", None, "900, copied into a Store of their own"),
        ):
            oc = ox["cells"].get(f"{q.key}|{ox_variant}") if ox_variant else None
            rc = rl["cells"].get(f"{q.key}|{rl_variant}") if rl_variant else None
            if oc is None and rc is None:
                continue
            rows = (oc or rc or {}).get("rows", "-")
            if oc and rc and oc["rows"] != rc["rows"]:
                rows = f"{oc['rows']} vs {rc['rows']} (!)"
            times = f"{rc['p50_ms'] / oc['p50_ms']:,.0f}x" if oc and rc else ""
            lines.append(f"| {q.label} | {label} | {rows} | {cell(oc)} | {cell(rc)} | {times} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200, help="timed runs per query and dataset (200)")
    ap.add_argument("--budget", type=float, default=30.0, help="seconds per cell before stopping early (30)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--engines", default="pyoxigraph,rdflib")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--engine", help=argparse.SUPPRESS)  # child process: one engine
    ap.add_argument("--child-out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.engine:
        child(a)
        return
    t0 = time.perf_counter()
    docs = pod_documents(BASE, a.seed)
    results: dict[str, dict[str, Any]] = {}
    for engine in a.engines.split(","):
        with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
            print(f"[{time.strftime('%H:%M:%S')}] {engine} ...", file=sys.stderr, flush=True)
            cmd = [sys.executable, __file__, "--engine", engine, "--child-out", tmp.name]
            cmd += ["--runs", str(a.runs), "--budget", str(a.budget), "--seed", str(a.seed)]
            subprocess.run(cmd, check=True, env=dict(os.environ, PYTHONHASHSEED="0"))
            results[engine] = json.loads(Path(tmp.name).read_text())
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    print(table(results, docs, a))
    print(f"\n({time.perf_counter() - t0:.0f} s; {os.cpu_count()} CPUs; python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
