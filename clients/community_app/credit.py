"""Credit reports (docs/community-model.md §8): the latest report in ``{c}credit/``, per member the
amount and the claims behind it."""

from __future__ import annotations

from dataclasses import dataclass, field

from pod_client.vocab import CBPP, DCTERMS, RDFS, VF
from rdflib import Graph

from community_app.community import Profile
from community_app.fetch import Reader, ReadError
from community_app.rdf import children, instant, iri, local_name, number, one, text, typed

MAX_REPORTS = 24
"""Reports read to find the latest (the last ones by name; labels such as ``2026-11`` sort)."""


@dataclass(frozen=True)
class Claim:
    iri: str
    receiver: str
    contribution: str | None
    hours: float | None
    kind: str | None
    weight: float | None
    rate: float | None
    amount: float | None


@dataclass(frozen=True)
class Total:
    receiver: str
    amount: float
    uncapped: float | None
    claims: tuple[Claim, ...]

    @property
    def capped(self) -> bool:
        return self.uncapped is not None and self.uncapped > self.amount


@dataclass(frozen=True)
class Report:
    url: str
    label: str
    period_start: str | None
    period_end: str | None
    created: str | None
    rule: str | None
    totals: tuple[Total, ...]
    skipped: tuple[str, ...] = ()


@dataclass
class CreditView:
    report: Report | None = None
    others: list[str] = field(default_factory=list)
    """Earlier reports (URLs)."""
    problems: list[str] = field(default_factory=list)


def _claims(graph: Graph) -> list[Claim]:
    claims = []
    for node in typed(graph, VF.Claim):
        receiver = iri(graph, node, VF.receiver)
        if receiver is None:
            continue
        quantity = one(graph, node, VF.resourceQuantity)
        kind = iri(graph, node, CBPP.kind)
        claims.append(
            Claim(
                iri=str(node),
                receiver=receiver,
                contribution=iri(graph, node, VF.triggeredBy),
                hours=number(one(graph, node, CBPP.hours)),
                kind=local_name(kind) if kind else None,
                weight=number(one(graph, node, CBPP.weight)),
                rate=number(one(graph, node, CBPP.rate)),
                amount=number(one(graph, quantity, VF.hasNumericalValue)) if quantity is not None else None,
            )
        )
    return claims


def parse_report(url: str, graph: Graph) -> Report | None:
    """The report in ``graph`` (node typed ``cbpp:CreditReport``), or ``None``. Totals without a
    ``cbpp:CreditTotal`` node are summed from the claims."""
    nodes = typed(graph, CBPP.CreditReport)
    if not nodes:
        return None
    node = nodes[0]
    claims = _claims(graph)
    by_receiver: dict[str, list[Claim]] = {}
    for claim in claims:
        by_receiver.setdefault(claim.receiver, []).append(claim)
    totals: dict[str, Total] = {}
    for total in typed(graph, CBPP.CreditTotal):
        receiver = iri(graph, total, VF.receiver)
        amount = number(one(graph, total, CBPP.amount))
        if receiver is None or amount is None:
            continue
        uncapped = number(one(graph, total, CBPP.uncappedAmount))
        totals[receiver] = Total(receiver, amount, uncapped, tuple(by_receiver.get(receiver, ())))
    for receiver, owned in by_receiver.items():
        if receiver not in totals:
            amount = sum(c.amount or 0.0 for c in owned)
            totals[receiver] = Total(receiver, amount, amount, tuple(owned))
    return Report(
        url=url,
        label=local_name(url),
        period_start=text(graph, node, CBPP.periodStart),
        period_end=text(graph, node, CBPP.periodEnd),
        created=text(graph, node, DCTERMS.created),
        rule=iri(graph, node, DCTERMS.conformsTo),
        totals=tuple(sorted(totals.values(), key=lambda t: (-t.amount, t.receiver))),
        skipped=tuple(sorted(str(c) for c in graph.objects(node, RDFS.comment))),
    )


def read_credit(reader: Reader, profile: Profile) -> CreditView:
    """The latest report by ``cbpp:periodEnd`` (then ``dct:created``, then name)."""
    view = CreditView()
    try:
        urls = children(reader, profile.credit, MAX_REPORTS)
    except ReadError as exc:
        view.problems.append(f"The credit reports could not be read: {exc.message}")
        return view
    reports: list[Report] = []
    for url in urls:
        try:
            report = parse_report(url, reader.graph(url))
        except ReadError as exc:
            view.problems.append(exc.message)
            continue
        if report is None:
            view.problems.append(f"{url} holds no credit report")
        else:
            reports.append(report)
    if not reports:
        return view

    def newest(r: Report) -> tuple[float, float, str]:
        end, made = instant(r.period_end), instant(r.created)
        return (end.timestamp() if end else 0.0, made.timestamp() if made else 0.0, r.url)

    reports.sort(key=newest)
    view.report = reports[-1]
    view.others = [r.url for r in reversed(reports[:-1])]
    return view


__all__ = ["Claim", "CreditView", "Report", "Total", "parse_report", "read_credit"]
