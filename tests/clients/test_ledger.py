"""pod_client.ledger: the credit computation as a table (weights, caps, corrections, changed or
unreadable contributions, period edges), the report as RDF recomputed by its own SPARQL query, and
value rules and periods read from their written forms."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pod_client import Forbidden
from pod_client.community import Community, parse_value_rule
from pod_client.ledger import (
    RECOMPUTE_QUERY,
    ContributionRecord,
    CreditReport,
    LedgerEntry,
    NoValueRule,
    ValueRule,
    compute,
    compute_credit,
    period_bounds,
    report_url,
    write_report,
)
from pod_client.pod import Pod
from pod_client.vocab import CBPP, KIND, PROV, RDF, RDFS, VF
from rdflib import Graph, Literal, URIRef

from tests.access.helpers import PUBLIC, Person, make_person
from tests.clients.people import session_for
from tests.conftest import LiveServer, _serve

C = "https://host.example/commons/"
COMMUNITY = C + "profile/card#me"
ALICE = "https://alice.example/profile/card#me"
BOB = "https://bob.example/profile/card#me"
START, END = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
MID = datetime(2026, 11, 3, 16, tzinfo=UTC)
RULE = ValueRule(
    iri=C + "rules/value-1#rule",
    credit_per_hour=Decimal(10),
    kind_weights={str(KIND.care): Decimal("1.5"), str(KIND.outreach): Decimal("0.5")},
    cap_per_period=Decimal(40),
    period="P1M",
    unit=C + "rules/value-1#credit",
)
NO_CAP = ValueRule(iri=RULE.iri, credit_per_hour=Decimal(10), unit=RULE.unit)


def work(n: int, who: str = ALICE) -> str:
    pod = who.split("profile/")[0]
    return f"{pod}contributions/{n}#it"


def entry(
    n: int,
    contribution: str,
    *,
    accepted: bool = True,
    minute: int = 0,
    digest: str = "sha256-A",
    corrects: int | None = None,
    contributor: str = ALICE,
) -> LedgerEntry:
    return LedgerEntry(
        iri=f"{C}ledger/{n}#entry",
        contribution=contribution,
        accepted=accepted,
        published=datetime(2026, 11, 20, tzinfo=UTC) + timedelta(minutes=minute or n),
        digest=digest,
        contributor=contributor,
        reviewer=BOB,
        corrects=f"{C}ledger/{corrects}#entry" if corrects is not None else None,
    )


def record(
    contribution: str,
    *,
    hours: str | None = "3.5",
    kinds: tuple[str, ...] = (str(KIND.documentation),),
    when: datetime | None = MID,
    digest: str | None = "sha256-A",
    provider: str = ALICE,
) -> ContributionRecord:
    return ContributionRecord(
        iri=contribution,
        digest=digest,
        provider=provider,
        kinds=kinds,
        hours=Decimal(hours) if hours is not None else None,
        when=when,
        problem=None if digest is not None else "403: not allowed",
    )


@dataclass
class Case:
    name: str
    entries: list[LedgerEntry]
    records: list[ContributionRecord]
    totals: dict[str, tuple[str, str]]  # receiver -> (uncapped, amount)
    skipped: dict[str, str]  # contribution -> a word of the reason
    rule: ValueRule = RULE


CASES = [
    Case("one accepted contribution", [entry(1, work(1))], [record(work(1))], {ALICE: ("35", "35")}, {}),
    Case(
        "a kind's weight",
        [entry(1, work(1))],
        [record(work(1), hours="2", kinds=(str(KIND.care),))],
        {ALICE: ("30", "30")},
        {},
    ),
    Case(
        "several kinds: the weightiest counts",
        [entry(1, work(1))],
        [record(work(1), hours="2", kinds=(str(KIND.outreach), str(KIND.care), str(KIND.code)))],
        {ALICE: ("30", "30")},
        {},
    ),
    Case(
        "a light kind",
        [entry(1, work(1))],
        [record(work(1), hours="2", kinds=(str(KIND.outreach),))],
        {ALICE: ("10", "10")},
        {},
    ),
    Case(
        "the cap per person",
        [entry(1, work(1)), entry(2, work(2)), entry(3, work(1, BOB), contributor=BOB)],
        [record(work(1), hours="3"), record(work(2), hours="2.5"), record(work(1, BOB), provider=BOB)],
        {ALICE: ("55", "40"), BOB: ("35", "35")},
        {},
    ),
    Case(
        "no cap in the rule",
        [entry(1, work(1)), entry(2, work(2))],
        [record(work(1), hours="3"), record(work(2), hours="2.5")],
        {ALICE: ("55", "55")},
        {},
        NO_CAP,
    ),
    Case(
        "a rejection corrects an acceptance",
        [entry(1, work(1)), entry(2, work(1), accepted=False, corrects=1)],
        [record(work(1))],
        {},
        {work(1): "rejected"},
    ),
    Case(
        "a correction of the correction counts again",
        [
            entry(1, work(1)),
            entry(2, work(1), accepted=False, corrects=1),
            entry(3, work(1), corrects=2, digest="sha256-B"),
        ],
        [record(work(1), digest="sha256-B")],
        {ALICE: ("35", "35")},
        {},
    ),
    Case(
        "a superseded entry does not count even when it is the latest",
        [entry(2, work(1), minute=90), entry(1, work(1), accepted=False, minute=10, corrects=2)],
        [record(work(1))],
        {},
        {work(1): "rejected"},
    ),
    Case(
        "without corrections the latest verdict decides",
        [entry(1, work(1), accepted=False), entry(2, work(1))],
        [record(work(1))],
        {ALICE: ("35", "35")},
        {},
    ),
    Case(
        "changed since acknowledged",
        [entry(1, work(1))],
        [record(work(1), digest="sha256-CHANGED")],
        {},
        {work(1): "changed"},
    ),
    Case(
        "unreadable",
        [entry(1, work(1)), entry(2, work(2))],
        [record(work(1), digest=None), record(work(2))],
        {ALICE: ("35", "35")},
        {work(1): "could not be read"},
    ),
    Case("not fetched at all", [entry(1, work(1))], [], {}, {work(1): "could not be read"}),
    Case(
        "the period's first instant is in it",
        [entry(1, work(1))],
        [record(work(1), when=START)],
        {ALICE: ("35", "35")},
        {},
    ),
    Case(
        "the period's end is not",
        [entry(1, work(1)), entry(2, work(2))],
        [record(work(1), when=END), record(work(2), when=END - timedelta(microseconds=1))],
        {ALICE: ("35", "35")},
        {},
    ),
    Case(
        "before the period", [entry(1, work(1))], [record(work(1), when=START - timedelta(seconds=1))], {}, {}
    ),
    Case("no time", [entry(1, work(1))], [record(work(1), when=None)], {}, {work(1): "no time"}),
    Case("no hours", [entry(1, work(1))], [record(work(1), hours=None)], {}, {work(1): "hours"}),
    Case(
        "the provider is not the acknowledged contributor",
        [entry(1, work(1), contributor=BOB)],
        [record(work(1))],
        {},
        {work(1): "provider"},
    ),
    Case("nothing in the ledger", [], [], {}, {}),
]


def run(case: Case) -> CreditReport:
    return compute(
        case.entries,
        {r.iri: r for r in case.records},
        case.rule,
        START,
        END,
        community=COMMUNITY,
        agent=BOB,
        created=datetime(2026, 12, 1, 9, tzinfo=UTC),
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_credit(case: Case) -> None:
    report = run(case)
    got = {t.receiver: (t.uncapped, t.amount) for t in report.totals}
    assert got == {w: (Decimal(u), Decimal(a)) for w, (u, a) in case.totals.items()}
    assert {s.contribution for s in report.skipped} == set(case.skipped)
    for skipped in report.skipped:
        assert case.skipped[skipped.contribution] in skipped.reason
    for total in report.totals:
        assert total.uncapped == sum(report.claims[i].amount for i in total.claims)
        assert all(report.claims[i].receiver == total.receiver for i in total.claims)
    assert report.entries == tuple(sorted(e.iri for e in case.entries))


@pytest.mark.parametrize("case", [c for c in CASES if c.totals or c.skipped], ids=lambda c: c.name)
def test_the_report_recomputes_with_its_own_query(case: Case) -> None:
    report = run(case)
    url = C + "credit/2026-11"
    graph = Graph().parse(data=report.to_graph(url).serialize(format="turtle"), format="turtle", publicID=url)
    rows = list(graph.query(RECOMPUTE_QUERY))
    assert len(rows) == len(case.totals)
    for row in rows:
        receiver, uncapped, amount, re_uncapped, re_amount, claims = row  # type: ignore[misc]
        assert uncapped.toPython() == re_uncapped.toPython() == Decimal(case.totals[str(receiver)][0])
        assert amount.toPython() == re_amount.toPython() == Decimal(case.totals[str(receiver)][1])
        assert int(claims) == len(report.total_for(str(receiver)).claims)  # type: ignore[union-attr]
    # Every figure is traceable (model §8): claims to contributions and entries, the run to the rule.
    report_node, run_node = URIRef(url + "#report"), URIRef(url + "#run")
    assert (report_node, RDF.type, CBPP.CreditReport) in graph
    assert (report_node, PROV.wasGeneratedBy, run_node) in graph
    assert (run_node, PROV.used, URIRef(RULE.iri)) in graph
    assert (run_node, PROV.wasAssociatedWith, URIRef(BOB)) in graph
    for entry_ in case.entries:
        assert (run_node, PROV.used, URIRef(entry_.iri)) in graph
    for claim in report.claims:
        node = next(graph.subjects(VF.triggeredBy, URIRef(claim.contribution)))
        assert (node, PROV.wasDerivedFrom, URIRef(claim.entry)) in graph
        assert (node, VF.provider, URIRef(COMMUNITY)) in graph
    comments = [str(c) for c in graph.objects(report_node, RDFS.comment)]
    assert len(comments) == len(case.skipped)
    for contribution in case.skipped:
        assert any(contribution in c for c in comments)


def test_the_query_catches_a_wrong_total() -> None:
    case = CASES[4]  # the cap case
    url = C + "credit/2026-11"
    graph = run(case).to_graph(url)
    total = next(
        t for t in graph.subjects(RDF.type, CBPP.CreditTotal) if (t, VF.receiver, URIRef(BOB)) in graph
    )
    graph.set((total, CBPP.uncappedAmount, graph.value(total, CBPP.uncappedAmount) + 1))  # type: ignore[operator]
    rows = {str(r[0]): r for r in graph.query(RECOMPUTE_QUERY)}  # type: ignore[index]
    assert rows[BOB][1].toPython() == Decimal(36) != rows[BOB][3].toPython()  # type: ignore[index]
    assert rows[ALICE][1].toPython() == rows[ALICE][3].toPython()  # type: ignore[index]


def test_value_rule_from_its_adopted_form() -> None:
    doc = C + "rules/value-1"
    text = f"""
        @prefix cbpp: <{CBPP._NS}> . @prefix kind: <{KIND._NS}> . @prefix dct: <http://purl.org/dc/terms/> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <#rule> a cbpp:ValueRule ; dct:title "Hours" ; cbpp:creditPerHour 10.0 ;
          cbpp:kindWeight [ a cbpp:KindWeight ; cbpp:kind kind:care ; cbpp:weight 1.5 ] ,
                          [ a cbpp:KindWeight ; cbpp:kind kind:outreach ; cbpp:weight 0.5 ] ;
          cbpp:capPerPeriod 40.0 ; cbpp:period "P1M"^^xsd:duration .
    """
    graph = Graph().parse(data=text, format="turtle", publicID=doc)
    for iri in (doc + "#rule", doc):  # the profile may name the node or the document
        rule = ValueRule.from_graph(graph, iri)
        assert rule.iri == doc + "#rule"
        assert rule.credit_per_hour == Decimal(10)
        assert rule.kind_weights == {str(KIND.care): Decimal("1.5"), str(KIND.outreach): Decimal("0.5")}
        assert rule.cap_per_period == Decimal(40)
        assert rule.period == "P1M"
        assert rule.unit == doc + "#credit"
        assert rule.weight([str(KIND.code)]) == (str(KIND.code), Decimal(1))


def test_a_rule_without_a_rate_is_refused() -> None:
    from pod_client.errors import PodClientError

    with pytest.raises(PodClientError) as raised:
        ValueRule.from_graph(Graph(), C + "rules/value-1#rule")
    assert raised.value.status == 422


def test_ledger_entries_from_their_written_form() -> None:
    doc = C + "ledger/abc"
    text = f"""
        @prefix cbpp: <{CBPP._NS}> . @prefix as: <https://www.w3.org/ns/activitystreams#> .
        @prefix prov: <http://www.w3.org/ns/prov#> . @prefix vf: <{VF._NS}> .
        @prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
        <#entry> a cbpp:Acknowledgement, as:Reject ; as:actor <{COMMUNITY}> ; as:object <{work(1)}> ;
          cbpp:contributor <{ALICE}> ; prov:wasAssociatedWith <{BOB}> ; cbpp:objectDigest "sha256-A" ;
          as:published "2026-11-20T10:00:00Z"^^xsd:dateTime ; vf:corrects <{C}ledger/old#entry> .
    """
    graph = Graph().parse(data=text, format="turtle", publicID=doc)
    found = LedgerEntry.from_graph(graph, URIRef(doc + "#entry"))
    assert found == LedgerEntry(
        iri=doc + "#entry",
        contribution=work(1),
        accepted=False,
        published=datetime(2026, 11, 20, 10, tzinfo=UTC),
        digest="sha256-A",
        contributor=ALICE,
        reviewer=BOB,
        corrects=C + "ledger/old#entry",
    )


@pytest.mark.parametrize(
    "label,start,end",
    [
        ("2026-11", datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)),
        ("2026-12", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
        ("2026-01", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)),
        ("2026", datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ],
)
def test_period_bounds(label: str, start: datetime, end: datetime) -> None:
    assert period_bounds(label) == (start, end)


@pytest.mark.parametrize("label", ["2026-13", "2026-00", "Nov 2026", "2026-11-03", ""])
def test_bad_periods(label: str) -> None:
    with pytest.raises(ValueError):
        period_bounds(label)


def test_report_url() -> None:
    assert report_url(C, "2026-11") == C + "credit/2026-11"
    with pytest.raises(ValueError):
        report_url(C, "../x")


def test_a_period_that_ends_before_it_starts() -> None:
    with pytest.raises(ValueError):
        compute([], {}, RULE, END, START, community=COMMUNITY)


# -- live: a community adopts a value rule by vote, then the ledger service runs -------------------


@dataclass
class Live:
    server: LiveServer
    alice: Person  # admin, runs the ledger
    bob: Person
    carol: Person
    admin: Community
    bob_side: Community
    carol_side: Community


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    for server in _serve(tmp_path_factory.mktemp("client-ledger"), single_pod=False):
        alice, bob, carol = (make_person(server, n) for n in ("alice", "bob", "carol"))
        admin, _ = Community.create(
            session_for(server, alice), server.url, "c" + uuid.uuid4().hex[:8], "Ledger"
        )
        bob_side = Community(session_for(server, bob), admin.url)
        carol_side = Community(session_for(server, carol), admin.url)
        for person, side in ((bob, bob_side), (carol, carol_side)):
            admin.invite(person.webid)
            side.accept_invitation()
        yield Live(server, alice, bob, carol, admin, bob_side, carol_side)


def test_live_ledger(live: Live) -> None:
    start, end = period_bounds("2026-11")
    at = datetime(2026, 11, 3, 16, tzinfo=UTC)
    docs = live.bob_side.contribute(["documentation"], hours=Decimal("3.5"), at=at, note="the guide")
    care = live.bob_side.contribute(["care"], hours=Decimal(4), at=at)
    late = live.bob_side.contribute(["code"], hours=Decimal(1), at=END)  # next period
    changed = live.carol_side.contribute(["code"], hours=Decimal(2), at=at)
    for node in (docs, care, late, changed):
        live.admin.acknowledge(node)
    # Carol changes hers after it was acknowledged: the ledger service skips it.
    Pod(session_for(live.server, live.carol)).update_graph(
        changed.split("#")[0], lambda g: g.set((URIRef(changed), VF.note, Literal("edited later")))
    )

    with pytest.raises(NoValueRule) as raised:
        compute_credit(live.admin.session, live.admin.url, start, end)
    assert raised.value.status == 422 and "value rule" in raised.value.message

    effect = parse_value_rule("credit_per_hour=10,care=1.5,cap=40", "Hours count")
    motion = live.admin.propose("Adopt a value rule", effect=effect)["motion"]
    assert [p.motion for p in live.bob_side.open_proposals()] == [motion]
    for side in (live.admin, live.bob_side, live.carol_side):
        side.vote(motion, "yes")
    tallied = live.bob_side.tally(motion)
    assert tallied["result"] == "pass", tallied
    assert live.admin.show().value_rule is not None
    assert live.admin.open_proposals() == []

    report = compute_credit(live.admin.session, live.admin.url, start, end)
    total = report.total_for(live.bob.webid)
    assert total is not None
    assert (total.uncapped, total.amount) == (Decimal(95), Decimal(40))  # 3.5*10 + 4*1.5*10, capped
    assert report.total_for(live.carol.webid) is None
    assert [s.contribution for s in report.skipped] == [changed]
    assert "changed" in report.skipped[0].reason

    url = write_report(live.admin.session, live.admin.url, report, "2026-11")
    assert url == live.admin.url + "credit/2026-11"
    written = PUBLIC.get(url)
    assert written.status_code == 200
    graph = Graph().parse(data=written.text, format="turtle", publicID=url)
    rows = list(graph.query(RECOMPUTE_QUERY))
    assert [(str(r[0]), r[2].toPython(), r[4].toPython()) for r in rows] == [  # type: ignore[index]
        (live.bob.webid, Decimal(40), Decimal(40))
    ]
    # Only admins (and the community's agent) write credit reports.
    with pytest.raises(Forbidden):
        write_report(live.bob_side.session, live.admin.url, report, "2026-11")
