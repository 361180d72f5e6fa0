"""Decision rules and the arithmetic of a vote (model §7), without a server."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rdflib import Literal, URIRef

from pod_server.community.layout import rules_graph
from pod_server.community.model import Community
from pod_server.community.tally import Ballot, DecisionRule, closes, decide, parse_period
from pod_server.errors import UnprocessableContent
from pod_server.vocab import CBPP, XSD

C = Community.of("/commons/", "https://pods.example/commons/")
W = "https://alice.example/profile/card#me"


def rule(
    quorum: str = "0.5", threshold: str = "0.5", weighting: URIRef = CBPP.OneMemberOneVote
) -> DecisionRule:
    return DecisionRule(
        C.at("governance/rules#default"),
        C.role("member"),
        Decimal(quorum),
        Decimal(threshold),
        "P7D",
        weighting,
    )


def ballots(*options: str) -> list[Ballot]:
    return [Ballot(f"https://p{i}.example/#me", option) for i, option in enumerate(options)]


# -- tally arithmetic ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "quorum,threshold,electorate,options,passed",
    [
        ("0.5", "0.5", 4, ["yes", "yes", "no"], True),  # 3/4 turnout, 2/3 approval
        ("0.5", "0.5", 4, ["yes", "no"], False),  # 2/4 turnout meets 0.5, but 1/2 is not > 0.5
        ("0.5", "0.5", 4, ["yes", "yes"], True),  # exactly the quorum: >=
        ("0.5", "0.5", 4, ["yes"], False),  # 1/4 below the quorum
        ("0.5", "0.5", 4, ["yes", "abstain"], True),  # abstain counts for the quorum only
        ("0.5", "0.5", 4, ["abstain", "abstain", "abstain"], False),  # quorum, but nobody said yes or no
        ("0", "0", 3, [], False),  # nobody voted: no approval at all
        ("0", "0", 3, ["yes"], True),  # quorum 0, threshold 0: one yes is enough
        ("0", "0", 3, ["no"], False),
        ("1", "0.5", 3, ["yes", "yes", "no"], True),  # everyone voted
        ("1", "0.5", 3, ["yes", "yes"], False),  # quorum 1 needs everyone
        ("0.5", "1", 2, ["yes", "yes"], False),  # threshold 1 never passes
        ("0.5", "0.66", 3, ["yes", "yes", "no"], True),  # 2/3 = 0.666... > 0.66
        ("0.5", "0.67", 3, ["yes", "yes", "no"], False),
        ("0.5", "0.5", 0, ["yes"], False),  # empty electorate
    ],
)
def test_decide(quorum: str, threshold: str, electorate: int, options: list[str], passed: bool) -> None:
    outcome = decide(rule(quorum, threshold), electorate, ballots(*options))
    assert outcome.passed is passed, outcome.reason
    assert outcome.result == ("pass" if passed else "fail")
    assert sum(outcome.counts.values()) == len(options)


def test_one_ballot_per_voter_the_first_counts() -> None:
    outcome = decide(rule(), 2, [Ballot(W, "no"), Ballot(W, "yes"), Ballot("https://b.example/#me", "no")])
    assert outcome.voters == 2
    assert outcome.counts == {"yes": 0, "no": 2, "abstain": 0}


def test_weights_count_for_approval_but_not_for_turnout() -> None:
    weighted = rule(weighting=CBPP.CreditWeighted)
    heavy_no = [Ballot("https://a.example/#me", "yes"), Ballot("https://b.example/#me", "no", Decimal(40))]
    outcome = decide(weighted, 4, heavy_no)
    assert outcome.voters == 2 and outcome.counts["no"] == 40
    assert not outcome.passed


@pytest.mark.parametrize("bad", [Ballot(W, "maybe"), Ballot(W, "yes", Decimal(-1))])
def test_decide_refuses_unfiltered_ballots(bad: Ballot) -> None:
    with pytest.raises(ValueError):
        decide(rule(), 1, [bad])


# -- periods -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text,start,end",
    [
        ("P7D", datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 10, tzinfo=UTC)),
        ("PT36H", datetime(2026, 11, 3, tzinfo=UTC), datetime(2026, 11, 4, 12, tzinfo=UTC)),
        ("P1M", datetime(2026, 1, 31, tzinfo=UTC), datetime(2026, 2, 28, tzinfo=UTC)),
        ("P1Y", datetime(2027, 3, 1, tzinfo=UTC), datetime(2028, 3, 1, tzinfo=UTC)),
        ("PT0.5S", datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
    ],
)
def test_closes(text: str, start: datetime, end: datetime) -> None:
    assert closes(start, text) == end


@pytest.mark.parametrize(
    "text,problem",
    [
        ("", "not an xsd:duration"),
        ("7D", "not an xsd:duration"),
        ("P", "not an xsd:duration"),
        ("PT", "not an xsd:duration"),
        ("P1DT", "not an xsd:duration"),
        ("-P1D", "not an xsd:duration"),
        ("P1.5D", "not an xsd:duration"),
        ("P0D", "empty"),
        ("PT0S", "empty"),
        ("P367D", "longer than a year"),
        ("P13M", "longer than a year"),
        ("P1Y1D", "longer than a year"),
    ],
)
def test_bad_periods(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_period(text)


def test_the_default_rule_reads_back() -> None:
    read = DecisionRule.from_graph(rules_graph(C), C.at("governance/rules#default"))
    assert read == DecisionRule(
        C.at("governance/rules#default"),
        C.role("member"),
        Decimal("0.5"),
        Decimal("0.5"),
        "P7D",
        CBPP.OneMemberOneVote,
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda g, r: g.set((r, CBPP.quorum, Literal("1.5", datatype=XSD.decimal))),
        lambda g, r: g.set((r, CBPP.period, Literal("P0D", datatype=XSD.duration))),
        lambda g, r: g.remove((r, CBPP.threshold, None)),
        lambda g, r: g.set((r, CBPP.weighting, CBPP.Founding)),
    ],
    ids=["quorum-above-1", "empty-period", "no-threshold", "unknown-weighting"],
)
def test_a_broken_rule_is_unprocessable(change: Any) -> None:
    graph, iri = rules_graph(C), C.at("governance/rules#default")
    change(graph, URIRef(iri))
    with pytest.raises(UnprocessableContent):
        DecisionRule.from_graph(graph, iri)
