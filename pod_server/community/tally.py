"""Decision rules and the arithmetic of a vote (model §7), as pure values and functions.

A decision rule (``cbpp:DecisionRule``) names an electorate (a role), a quorum and a threshold
(decimals in [0, 1]), a voting period (``xsd:duration``) and a weighting. A motion passes when

    turnout  = voters / electorate  >= quorum          (abstentions count as voters)
    approval = yes / (yes + no)     >  threshold       (weighted; abstentions don't count here)

An empty electorate, or no yes/no weight at all, never passes. ``threshold = 1`` can never pass
(nothing is more than everything); ``quorum = 0`` and ``threshold = 0`` pass on a single yes.
Arithmetic is exact (``Decimal`` and integer cross-multiplication), so 0.5 of 4 is exactly 2.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from rdflib import Graph, Literal, URIRef
from rdflib.xsd_datetime import Duration, parse_xsd_duration

from pod_server.errors import UnprocessableContent
from pod_server.vocab import CBPP, RDF

YES, NO, ABSTAIN = "yes", "no", "abstain"
OPTIONS = (YES, NO, ABSTAIN)
"""The values of ``schema:option`` a ballot may carry (model §7)."""

WEIGHTINGS = (CBPP.OneMemberOneVote, CBPP.CreditWeighted)

_DURATION = re.compile(
    r"P(?=[0-9T])(?:[0-9]+Y)?(?:[0-9]+M)?(?:[0-9]+D)?"
    r"(?:T(?=[0-9])(?:[0-9]+H)?(?:[0-9]+M)?(?:[0-9]+(?:\.[0-9]+)?S)?)?\Z"
)
"""XML Schema 1.1 Part 2 §3.3.6 ``duration`` lexical space, without the minus sign: a voting
period is never negative."""

LONGEST_PERIOD = timedelta(days=366)
"""A voting period (and a value rule's period) is at most a year, and more than zero."""


def parse_period(text: str) -> timedelta | Duration:
    """An ``xsd:duration`` lexical form as something a ``datetime`` can be added to.

    Raises ValueError naming the problem: not a duration, zero, or longer than a year (from any
    start: ``P12M`` is fine, ``P13M`` is not).
    """
    if not _DURATION.match(text):
        raise ValueError(f"{text!r} is not an xsd:duration such as P7D, PT12H or P1M")
    period = parse_xsd_duration(text)
    reference = datetime(2000, 1, 1)  # a leap year: P1Y is 366 days from here, the longest it gets
    span = (reference + period) - reference
    if span <= timedelta(0):
        raise ValueError(f"the period {text} is empty; give a positive duration")
    if span > LONGEST_PERIOD:
        raise ValueError(f"the period {text} is longer than a year")
    return period


def closes(start: datetime, period: str) -> datetime:
    """When a vote that opens at ``start`` closes under ``period`` (calendar-aware: P1M from
    31 January ends on the last day of February)."""
    end: datetime = start + parse_period(period)
    return end


@dataclass(frozen=True)
class DecisionRule:
    """A ``cbpp:DecisionRule``. Invariants: ``0 <= quorum, threshold <= 1``; ``period`` parses
    with :func:`parse_period`; ``weighting`` is one of :data:`WEIGHTINGS`."""

    iri: str
    electorate: str
    quorum: Decimal
    threshold: Decimal
    period: str
    weighting: URIRef = CBPP.OneMemberOneVote

    @classmethod
    def from_graph(cls, graph: Graph, iri: str) -> DecisionRule:
        """Read the rule ``iri`` from ``graph``; 422 naming what is missing or wrong."""
        node = URIRef(iri)
        if (node, RDF.type, CBPP.DecisionRule) not in graph:
            raise UnprocessableContent(f"{iri} is not a cbpp:DecisionRule")

        def one(predicate: URIRef) -> object:
            values = list(graph.objects(node, predicate))
            if len(values) != 1:
                raise UnprocessableContent(f"the decision rule {iri} needs exactly one {predicate}")
            return values[0]

        electorate, weighting = one(CBPP.electorate), one(CBPP.weighting)
        quorum, threshold, period = one(CBPP.quorum), one(CBPP.threshold), one(CBPP.period)
        if not isinstance(electorate, URIRef) or weighting not in WEIGHTINGS:
            raise UnprocessableContent(f"the decision rule {iri} has an unusable electorate or weighting")
        rule = cls(
            iri,
            str(electorate),
            _fraction(quorum, iri, "quorum"),
            _fraction(threshold, iri, "threshold"),
            str(period),
            URIRef(str(weighting)),
        )
        try:
            parse_period(rule.period)
        except ValueError as e:
            raise UnprocessableContent(f"the decision rule {iri}: {e}") from None
        return rule


def _fraction(value: object, iri: str, name: str) -> Decimal:
    try:
        number = Decimal(str(value)) if isinstance(value, Literal) else Decimal("nan")
    except InvalidOperation:
        number = Decimal("nan")
    if not number.is_finite() or not 0 <= number <= 1:
        raise UnprocessableContent(f"the {name} of the decision rule {iri} must be a decimal in [0, 1]")
    return number


@dataclass(frozen=True)
class Ballot:
    """One counted vote: who, which option, and its weight (1 unless credit-weighted)."""

    voter: str
    option: str
    weight: Decimal = Decimal(1)


@dataclass(frozen=True)
class Outcome:
    """The result of :func:`decide`. ``counts`` has every option of :data:`OPTIONS` (weights summed)."""

    passed: bool
    counts: dict[str, Decimal]
    voters: int
    electorate: int
    reason: str
    quorum_met: bool = field(default=False)

    @property
    def result(self) -> str:
        return "pass" if self.passed else "fail"


def decide(rule: DecisionRule, electorate: int, ballots: Iterable[Ballot]) -> Outcome:
    """Count ``ballots`` (at most one per voter: later ones for the same voter are ignored) of an
    electorate of ``electorate`` people under ``rule``. Raises ValueError on an unknown option or a
    weight below zero, which callers must have filtered out."""
    counts = dict.fromkeys(OPTIONS, Decimal(0))
    seen: set[str] = set()
    for ballot in ballots:
        if ballot.option not in counts:
            raise ValueError(f"unknown option {ballot.option!r}")
        if ballot.weight < 0:
            raise ValueError("a ballot's weight cannot be negative")
        if ballot.voter in seen:
            continue
        seen.add(ballot.voter)
        counts[ballot.option] += ballot.weight
    voters = len(seen)
    if electorate <= 0:
        return Outcome(False, counts, voters, electorate, "nobody holds the electorate role")
    quorum_met = voters >= rule.quorum * electorate
    if not quorum_met:
        reason = f"turnout {voters}/{electorate} is below the quorum of {rule.quorum}"
        return Outcome(False, counts, voters, electorate, reason)
    yes, no = counts[YES], counts[NO]
    if yes + no == 0:
        return Outcome(False, counts, voters, electorate, "nobody voted yes or no", quorum_met)
    if yes > rule.threshold * (yes + no):
        return Outcome(True, counts, voters, electorate, "quorum met and approval above the threshold", True)
    reason = f"approval {yes}/{yes + no} is not above the threshold of {rule.threshold}"
    return Outcome(False, counts, voters, electorate, reason, True)


__all__ = [
    "ABSTAIN",
    "LONGEST_PERIOD",
    "NO",
    "OPTIONS",
    "WEIGHTINGS",
    "YES",
    "Ballot",
    "DecisionRule",
    "Outcome",
    "closes",
    "decide",
    "parse_period",
]
