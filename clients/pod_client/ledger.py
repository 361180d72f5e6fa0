"""The ledger service: turn a community's acknowledged contributions into credit (model §8).

A community's ``{c}ledger/`` holds acknowledgements (server-written, append-only); the
contributions themselves stay in their authors' pods. A credit report for a period is computed
from what is there *now*:

1. **Corrections**: an entry is superseded when a later entry ``vf:corrects`` it; superseded
   entries are ignored.
2. **Latest verdict**: per contribution, the latest remaining entry (by ``as:published``, then IRI)
   decides; only an ``as:Accept`` counts (a rejection is listed as skipped).
3. **Unchanged**: the contribution is fetched (with the access the session has: run this as the
   community's agent or an admin the authors shared with) and its content digest must still
   equal the acknowledged ``cbpp:objectDigest``; a changed or unreadable one is skipped and listed.
4. **Period**: its ``vf:hasPointInTime`` (else ``vf:hasEnd``) falls in [start, end).
5. **Value rule**: the community's current ``cbpp:valueRule``; a claim is ``hours x weight x
   rate``, where ``weight`` is the highest weight among the contribution's kinds (unnamed kinds
   weigh 1.0) and ``rate`` is ``cbpp:creditPerHour``. Without an adopted rule there is no report
   (:class:`NoValueRule`, 422).
6. **Cap**: per person, ``amount = min(uncappedAmount, cbpp:capPerPeriod)``.

Every figure is traceable (PROV-O): each claim ``prov:wasDerivedFrom`` its contribution and
ledger entry, each total its claims, the report ``prov:wasGeneratedBy`` a run that
``prov:used`` the rule and the entries, ``prov:wasAssociatedWith`` whoever ran it. Skipped
contributions are listed on the report with ``rdfs:comment``. The report carries the rule's cap
(``cbpp:capPerPeriod``), so :data:`RECOMPUTE_QUERY` recomputes every total from the report alone.

The computation (:func:`compute`) is a pure function of already-fetched data; :func:`compute_credit`
fetches, :func:`write_report` writes ``{c}credit/{label}``. Arithmetic is exact (``Decimal``,
written as ``xsd:decimal``), so a recomputation in SPARQL gives the same numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urldefrag

from rdflib import Graph, Literal, URIRef
from rdflib.term import Node

from pod_client.community import community_root, effort_hours, now
from pod_client.digest import graph_digest
from pod_client.errors import PodClientError, raise_for_status
from pod_client.pod import Pod, essence, parse_rdf
from pod_client.session import Session
from pod_client.vocab import AS, CBPP, DCTERMS, KIND, PROV, RDF, RDFS, VF, XSD

ONE = Decimal(1)


class NoValueRule(PodClientError):
    """422: the community has adopted no value rule (``cbpp:valueRule`` on its profile), so credit
    cannot be computed. Adopt one first: propose a motion with an adopt-value-rule effect."""

    status = 422


# -- the inputs ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    """An acknowledgement in ``{c}ledger/`` (model §6): ``iri`` the entry node (``...#entry``)."""

    iri: str
    contribution: str
    accepted: bool
    published: datetime | None = None
    digest: str | None = None
    contributor: str | None = None
    reviewer: str | None = None
    corrects: str | None = None
    summary: str | None = None
    """The reviewer's note (``as:summary``)."""

    @classmethod
    def from_graph(cls, graph: Graph, node: Node) -> LedgerEntry | None:
        """The entry ``node`` in ``graph``; ``None`` when it names no contribution."""
        target = graph.value(node, AS.object)
        if target is None:
            return None

        def text(predicate: URIRef) -> str | None:
            value = graph.value(node, predicate)
            return str(value) if value is not None else None

        types = set(graph.objects(node, RDF.type))
        published = graph.value(node, AS.published)
        return cls(
            iri=str(node),
            contribution=str(target),
            accepted=AS.Accept in types and AS.Reject not in types,
            published=_moment(published),
            digest=text(CBPP.objectDigest),
            contributor=text(CBPP.contributor),
            reviewer=text(PROV.wasAssociatedWith),
            corrects=text(VF.corrects),
            summary=text(AS.summary),
        )


@dataclass(frozen=True)
class ContributionRecord:
    """A contribution as the ledger service fetched it: its current ``digest`` (``None``, with
    ``problem`` saying why, when it could not be read), author, kinds, hours and time."""

    iri: str
    digest: str | None
    provider: str | None = None
    kinds: tuple[str, ...] = ()
    hours: Decimal | None = None
    when: datetime | None = None
    problem: str | None = None

    @classmethod
    def from_graph(cls, graph: Graph, iri: str, digest: str) -> ContributionRecord:
        node = URIRef(iri)
        provider = graph.value(node, VF.provider)
        when = graph.value(node, VF.hasPointInTime) or graph.value(node, VF.hasEnd)
        return cls(
            iri=iri,
            digest=digest,
            provider=str(provider) if provider is not None else None,
            kinds=tuple(sorted(str(k) for k in graph.objects(node, VF.resourceClassifiedAs))),
            hours=effort_hours(graph, node),
            when=_moment(when),
        )


@dataclass(frozen=True)
class ValueRule:
    """A value rule (model §7): credit per hour, weights by kind IRI (others weigh 1.0), an
    optional cap per person per period. ``unit`` is the credit's unit (``{rule document}#credit``)."""

    iri: str
    credit_per_hour: Decimal
    kind_weights: Mapping[str, Decimal] = field(default_factory=dict)
    cap_per_period: Decimal | None = None
    period: str | None = None
    unit: str = ""

    def weight(self, kinds: Iterable[str]) -> tuple[str | None, Decimal]:
        """The kind that weighs most among ``kinds`` and its weight (1.0 for unnamed kinds; ties go
        to the smallest IRI, so the choice is the same every run)."""
        best: tuple[str | None, Decimal] = (None, ONE)
        for kind in sorted(kinds):
            weight = self.kind_weights.get(kind, ONE)
            if best[0] is None or weight > best[1]:
                best = (kind, weight)
        return best

    @classmethod
    def from_graph(cls, graph: Graph, iri: str) -> ValueRule:
        """The rule ``iri`` in ``graph`` (or the one ``cbpp:ValueRule`` there when ``iri`` is its
        document). :class:`PodClientError` (422) when it has no ``cbpp:creditPerHour``."""
        node: Node = URIRef(iri)
        if graph.value(node, CBPP.creditPerHour) is None:
            rules = [r for r in graph.subjects(RDF.type, CBPP.ValueRule) if str(r).startswith(iri)]
            node = rules[0] if len(rules) == 1 else node
        rate = _decimal(graph.value(node, CBPP.creditPerHour))
        if rate is None:
            raise PodClientError(f"the value rule {iri} has no cbpp:creditPerHour", url=iri, status=422)
        weights: dict[str, Decimal] = {}
        for entry in graph.objects(node, CBPP.kindWeight):
            kind, weight = graph.value(entry, CBPP.kind), _decimal(graph.value(entry, CBPP.weight))
            if kind is not None and weight is not None:
                weights[str(kind)] = weight
        period = graph.value(node, CBPP.period)
        return cls(
            iri=str(node),
            credit_per_hour=rate,
            kind_weights=weights,
            cap_per_period=_decimal(graph.value(node, CBPP.capPerPeriod)),
            period=str(period) if period is not None else None,
            unit=urldefrag(str(node))[0] + "#credit",
        )


# -- the outputs --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One acknowledged contribution's credit: ``hours * weight * rate`` = ``amount``."""

    receiver: str
    contribution: str
    entry: str
    hours: Decimal
    kind: str | None
    weight: Decimal
    rate: Decimal

    @property
    def amount(self) -> Decimal:
        return self.hours * self.weight * self.rate


@dataclass(frozen=True)
class Total:
    """A person's credit for the period: the sum of their claims, and that sum capped."""

    receiver: str
    uncapped: Decimal
    amount: Decimal
    claims: tuple[int, ...]
    """Indexes into :attr:`CreditReport.claims`."""


@dataclass(frozen=True)
class Skipped:
    """An acknowledged contribution that does not count, and why."""

    contribution: str
    entry: str | None
    reason: str


@dataclass(frozen=True)
class CreditReport:
    """The credit of one period (model §8). ``entries`` are the ledger entries the run used
    (every entry read, superseded ones included: they were considered)."""

    community: str
    period_start: datetime
    period_end: datetime
    rule: ValueRule
    claims: tuple[Claim, ...]
    totals: tuple[Total, ...]
    skipped: tuple[Skipped, ...]
    entries: tuple[str, ...]
    agent: str | None
    created: datetime

    def total_for(self, webid: str) -> Total | None:
        return next((t for t in self.totals if t.receiver == webid), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "community": self.community,
            "period_start": _lexical(self.period_start),
            "period_end": _lexical(self.period_end),
            "value_rule": self.rule.iri,
            "totals": [
                {
                    "receiver": t.receiver,
                    "uncapped_amount": str(t.uncapped),
                    "amount": str(t.amount),
                    "claims": len(t.claims),
                }
                for t in self.totals
            ],
            "claims": [
                {
                    "receiver": c.receiver,
                    "contribution": c.contribution,
                    "entry": c.entry,
                    "hours": str(c.hours),
                    "kind": c.kind,
                    "weight": str(c.weight),
                    "rate": str(c.rate),
                    "amount": str(c.amount),
                }
                for c in self.claims
            ],
            "skipped": [
                {"contribution": s.contribution, "entry": s.entry, "reason": s.reason} for s in self.skipped
            ],
        }

    def to_graph(self, url: str) -> Graph:
        """The report as RDF, to be stored at ``url`` (``{c}credit/{label}``, node ``#report``)."""
        graph = Graph()
        for prefix, namespace in (
            ("cbpp", CBPP._NS),
            ("vf", VF._NS),
            ("kind", KIND._NS),
            ("prov", PROV),
            ("dct", DCTERMS),
            ("as", AS._NS),
        ):
            graph.bind(prefix, namespace, override=True)
        doc = urldefrag(url)[0]
        report, run, rule = URIRef(doc + "#report"), URIRef(doc + "#run"), URIRef(self.rule.iri)
        graph.add((report, RDF.type, CBPP.CreditReport))
        graph.add((report, RDF.type, PROV.Entity))
        graph.add((report, CBPP.periodStart, Literal(_lexical(self.period_start), datatype=XSD.dateTime)))
        graph.add((report, CBPP.periodEnd, Literal(_lexical(self.period_end), datatype=XSD.dateTime)))
        graph.add((report, DCTERMS.conformsTo, rule))
        graph.add((report, PROV.wasGeneratedBy, run))
        graph.add((report, DCTERMS.created, Literal(_lexical(self.created), datatype=XSD.dateTime)))
        if self.rule.cap_per_period is not None:
            graph.add((report, CBPP.capPerPeriod, _number(self.rule.cap_per_period)))
        for skipped in self.skipped:
            entry = f" (ledger entry <{skipped.entry}>)" if skipped.entry else ""
            comment = f"skipped <{skipped.contribution}>{entry}: {skipped.reason}"
            graph.add((report, RDFS.comment, Literal(comment)))
        graph.add((run, RDF.type, PROV.Activity))
        graph.add((run, PROV.used, rule))
        for entry_iri in self.entries:
            graph.add((run, PROV.used, URIRef(entry_iri)))
        if self.agent is not None:
            graph.add((run, PROV.wasAssociatedWith, URIRef(self.agent)))
        graph.add((run, PROV.endedAtTime, Literal(_lexical(self.created), datatype=XSD.dateTime)))
        unit = URIRef(self.rule.unit or urldefrag(self.rule.iri)[0] + "#credit")
        community = URIRef(self.community)
        for n, claim in enumerate(self.claims, 1):
            node = URIRef(f"{doc}#claim-{n}")
            contribution = URIRef(claim.contribution)
            graph.add((node, RDF.type, VF.Claim))
            graph.add((node, VF.action, VF.transfer))
            graph.add((node, VF.provider, community))
            graph.add((node, VF.receiver, URIRef(claim.receiver)))
            graph.add((node, VF.triggeredBy, contribution))
            graph.add((node, PROV.wasDerivedFrom, contribution))
            graph.add((node, PROV.wasDerivedFrom, URIRef(claim.entry)))
            graph.add((node, CBPP.hours, _number(claim.hours)))
            if claim.kind is not None:
                graph.add((node, CBPP.kind, URIRef(claim.kind)))
            graph.add((node, CBPP.weight, _number(claim.weight)))
            graph.add((node, CBPP.rate, _number(claim.rate)))
            measure = URIRef(f"{doc}#claim-{n}-quantity")
            graph.add((node, VF.resourceQuantity, measure))
            graph.add((measure, RDF.type, VF.Measure))
            graph.add((measure, VF.hasNumericalValue, _number(claim.amount)))
            graph.add((measure, VF.hasUnit, unit))
            graph.add((node, DCTERMS.conformsTo, rule))
        for n, total in enumerate(self.totals, 1):
            node = URIRef(f"{doc}#total-{n}")
            graph.add((node, RDF.type, CBPP.CreditTotal))
            graph.add((node, VF.receiver, URIRef(total.receiver)))
            graph.add((node, CBPP.uncappedAmount, _number(total.uncapped)))
            graph.add((node, CBPP.amount, _number(total.amount)))
            for index in total.claims:
                graph.add((node, PROV.wasDerivedFrom, URIRef(f"{doc}#claim-{index + 1}")))
        return graph


RECOMPUTE_QUERY = """\
PREFIX cbpp: <https://w3id.org/pod-server/cbpp#>
PREFIX vf: <https://w3id.org/valueflows/ont/vf#>
PREFIX prov: <http://www.w3.org/ns/prov#>

# Every credit total of a report, next to the same figures recomputed from its claims:
# uncapped = SUM(hours * weight * rate) over the claims it derives from; amount = that, capped.
SELECT ?receiver ?uncappedAmount ?amount ?recomputedUncapped ?recomputedAmount ?claims
WHERE {
  {
    SELECT ?total (SUM(?hours * ?weight * ?rate) AS ?recomputedUncapped) (COUNT(?claim) AS ?claims)
    WHERE {
      ?total a cbpp:CreditTotal ; vf:receiver ?receiver ; prov:wasDerivedFrom ?claim .
      ?claim a vf:Claim ; vf:receiver ?receiver ;
        cbpp:hours ?hours ; cbpp:weight ?weight ; cbpp:rate ?rate .
    }
    GROUP BY ?total
  }
  ?total vf:receiver ?receiver ; cbpp:uncappedAmount ?uncappedAmount ; cbpp:amount ?amount .
  OPTIONAL { ?report a cbpp:CreditReport ; cbpp:capPerPeriod ?cap }
  BIND (IF(BOUND(?cap) && ?recomputedUncapped > ?cap, ?cap, ?recomputedUncapped) AS ?recomputedAmount)
}
ORDER BY ?receiver
"""
"""SPARQL over a written credit report: each ``cbpp:CreditTotal`` with its stated
``uncappedAmount``/``amount`` and the same recomputed from its claims (model §8: "recomputable").
They must be equal in every row (numerically: ``xsd:decimal``)."""


# -- the computation (pure) ------------------------------------------------------------------------------


def compute(
    entries: Sequence[LedgerEntry],
    contributions: Mapping[str, ContributionRecord],
    rule: ValueRule,
    period_start: datetime,
    period_end: datetime,
    *,
    community: str,
    agent: str | None = None,
    created: datetime | None = None,
) -> CreditReport:
    """The credit report of [``period_start``, ``period_end``) from the ledger ``entries`` and the
    fetched ``contributions`` (by contribution IRI; missing = could not be read), under ``rule``.
    The rules are the module's (corrections, latest verdict, unchanged digest, period, weights,
    cap); ``community`` is the community's WebID (the provider of every claim)."""
    if period_end <= period_start:
        raise ValueError("the period ends before it starts")
    latest = current_entries(entries)
    claims: list[Claim] = []
    skipped: list[Skipped] = []
    for contribution_iri in sorted(latest):
        entry = latest[contribution_iri]
        if not entry.accepted:
            skipped.append(Skipped(contribution_iri, entry.iri, "rejected by its latest acknowledgement"))
            continue
        record = contributions.get(contribution_iri)
        if record is None or record.digest is None:
            problem = record.problem if record is not None and record.problem else "not fetched"
            skipped.append(Skipped(contribution_iri, entry.iri, f"could not be read: {problem}"))
            continue
        if record.digest != entry.digest:
            skipped.append(
                Skipped(
                    contribution_iri,
                    entry.iri,
                    f"changed since it was acknowledged (now {record.digest}, was {entry.digest})",
                )
            )
            continue
        if record.when is None:
            skipped.append(Skipped(contribution_iri, entry.iri, "it says no time (vf:hasPointInTime)"))
            continue
        if not period_start <= record.when < period_end:
            continue  # another period's
        receiver = record.provider
        if receiver is None or (entry.contributor is not None and entry.contributor != receiver):
            skipped.append(
                Skipped(contribution_iri, entry.iri, "its provider is not the acknowledged contributor")
            )
            continue
        if record.hours is None:
            skipped.append(Skipped(contribution_iri, entry.iri, "no effort in hours (vf:effortQuantity)"))
            continue
        kind, weight = rule.weight(record.kinds)
        claims.append(
            Claim(receiver, contribution_iri, entry.iri, record.hours, kind, weight, rule.credit_per_hour)
        )
    claims.sort(key=lambda c: (c.receiver, c.contribution))
    totals: list[Total] = []
    for receiver in sorted({c.receiver for c in claims}):
        mine = tuple(i for i, c in enumerate(claims) if c.receiver == receiver)
        uncapped = sum((claims[i].amount for i in mine), Decimal(0))
        cap = rule.cap_per_period
        totals.append(Total(receiver, uncapped, min(uncapped, cap) if cap is not None else uncapped, mine))
    return CreditReport(
        community=community,
        period_start=period_start,
        period_end=period_end,
        rule=rule,
        claims=tuple(claims),
        totals=tuple(totals),
        skipped=tuple(skipped),
        entries=tuple(sorted(e.iri for e in entries)),
        agent=agent,
        created=created or now(),
    )


def current_entries(entries: Iterable[LedgerEntry]) -> dict[str, LedgerEntry]:
    """Contribution IRI -> the entry that decides it: the latest (by ``as:published``, then IRI)
    that no other entry ``vf:corrects`` (model §6: corrections are new entries)."""
    listed = list(entries)
    superseded = {e.corrects for e in listed if e.corrects}
    latest: dict[str, LedgerEntry] = {}
    for entry in listed:
        if entry.iri in superseded:
            continue
        held = latest.get(entry.contribution)
        if held is None or _order(entry) > _order(held):
            latest[entry.contribution] = entry
    return latest


def _order(entry: LedgerEntry) -> tuple[datetime, str]:
    return (entry.published or datetime.min.replace(tzinfo=UTC), entry.iri)


# -- periods ----------------------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")


def period_bounds(label: str) -> tuple[datetime, datetime]:
    """[start, end) in UTC of a period label: ``2026-11`` (a month) or ``2026`` (a year).
    ``ValueError`` for anything else."""
    if match := _MONTH.match(label):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(f"{label}: no such month")
        start = datetime(year, month, 1, tzinfo=UTC)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=UTC)
        return start, end
    if match := _YEAR.match(label):
        year = int(match[1])
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    raise ValueError(f"{label!r} is not a period: write a month (2026-11) or a year (2026)")


# -- fetching (thin) ---------------------------------------------------------------------------------------


def read_value_rule(pod: Pod, community: str) -> ValueRule:
    """The community's current value rule (its profile's ``cbpp:valueRule``); :class:`NoValueRule`
    when it has adopted none."""
    c = community_root(community)
    card = pod.get_graph(c + "profile/card").graph
    iri = card.value(URIRef(c + "profile/card#me"), CBPP.valueRule)
    if iri is None:
        raise NoValueRule(
            f"{c} has adopted no value rule yet, so there is no credit to compute: adopt one first "
            "(pod community propose ... --value-rule credit_per_hour=10,...) and pass the vote",
            url=c + "profile/card",
        )
    return ValueRule.from_graph(pod.get_graph(urldefrag(str(iri))[0]).graph, str(iri))


def read_ledger(pod: Pod, community: str) -> list[LedgerEntry]:
    """Every acknowledgement in ``{c}ledger/`` (public Read)."""
    found: list[LedgerEntry] = []
    for child in pod.list(community_root(community) + "ledger/"):
        if child.is_container or child.url.endswith((".acl", ".meta")):
            continue
        graph = pod.get_graph(child.url).graph
        for node in set(graph.subjects(RDF.type, CBPP.Acknowledgement)):
            entry = LedgerEntry.from_graph(graph, node)
            if entry is not None:
                found.append(entry)
    return found


def fetch_contribution(session: Session, iri: str) -> ContributionRecord:
    """The contribution ``iri`` as this session reads it now, as Turtle, with its digest; a record
    with ``digest`` ``None`` and the ``problem`` when it cannot be read."""
    doc = urldefrag(iri)[0]
    try:
        response = raise_for_status(session.request("GET", doc, headers={"Accept": "text/turtle"}))
        content_type = essence(response.headers.get("Content-Type")) or "text/turtle"
        graph = parse_rdf(response.content, content_type, doc)
    except PodClientError as error:  # unreadable, or not RDF that parses
        return ContributionRecord(iri, None, problem=str(error))
    digest = graph_digest(graph)
    return ContributionRecord.from_graph(graph, iri, digest)


def compute_credit(
    session: Session, community: str, period_start: datetime, period_end: datetime
) -> CreditReport:
    """Fetch the value rule, the ledger and every contribution it names, then :func:`compute`."""
    pod = Pod(session)
    c = community_root(community)
    rule = read_value_rule(pod, c)
    entries = read_ledger(pod, c)
    records = {iri: fetch_contribution(session, iri) for iri in sorted({e.contribution for e in entries})}
    return compute(
        entries,
        records,
        rule,
        period_start,
        period_end,
        community=c + "profile/card#me",
        agent=session.webid,
    )


def report_url(community: str, label: str) -> str:
    """``{c}credit/{label}``."""
    if not re.fullmatch(r"[A-Za-z0-9._-]+", label):
        raise ValueError(f"{label!r}: a report label is letters, digits, '.', '_' and '-'")
    return f"{community_root(community)}credit/{label}"


def write_report(session: Session, community: str, report: CreditReport, label: str) -> str:
    """Write ``report`` to ``{c}credit/{label}`` (admins or the community's agent may); its URL.
    Writing the same label again replaces the report."""
    url = report_url(community, label)
    Pod(session).put_graph(url, report.to_graph(url))
    return url


# -- little helpers ----------------------------------------------------------------------------------------


def _decimal(value: Node | None) -> Decimal | None:
    if not isinstance(value, Literal):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _number(value: Decimal) -> Literal:
    return Literal(value, datatype=XSD.decimal)


def _moment(value: Node | None) -> datetime | None:
    if not isinstance(value, Literal):
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _lexical(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


__all__ = [
    "RECOMPUTE_QUERY",
    "Claim",
    "ContributionRecord",
    "CreditReport",
    "LedgerEntry",
    "NoValueRule",
    "Skipped",
    "Total",
    "ValueRule",
    "compute",
    "compute_credit",
    "current_entries",
    "fetch_contribution",
    "period_bounds",
    "read_ledger",
    "read_value_rule",
    "report_url",
    "write_report",
]
