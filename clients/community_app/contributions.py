"""Contributions and their acknowledgements (docs/community-model.md §6).

A contribution lives in its author's pod, readable by whom its ACL says; the community learns of it
from an announcement in ``{c}contributions/`` (members only) and acknowledges it with an entry in
``{c}ledger/`` (public). The page lists the union of both, each contribution fetched with the
visitor's own session: what the visitor may not read is listed as "not visible to you".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from pod_client.ledger import LedgerEntry, current_entries
from pod_client.vocab import AS, CBPP, DCTERMS, OM, RDF, VF
from rdflib import URIRef

from community_app.community import Profile
from community_app.fetch import Reader, ReadError
from community_app.rdf import children, instant, iri, iris, local_name, number, one, text, typed

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Contribution:
    iri: str
    visible: bool
    reason: str | None = None
    """Why it is not shown (not visible to you, missing, not a contribution...)."""
    provider: str | None = None
    action: str | None = None
    kinds: tuple[str, ...] = ()
    hours: float | None = None
    when: str | None = None
    note: str | None = None
    evidence: tuple[str, ...] = ()
    visibility: str | None = None
    announced_by: str | None = None
    acknowledgement: LedgerEntry | None = None


@dataclass
class Ledger:
    entries: list[LedgerEntry] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def current(self) -> dict[str, LedgerEntry]:
        """Per contribution, the entry that decides it (pod_client.ledger's rule, model §6)."""
        return current_entries(self.entries)


def read_ledger(reader: Reader, profile: Profile, limit: int = 200) -> Ledger:
    ledger = Ledger()
    try:
        urls = children(reader, profile.ledger, limit)
    except ReadError as exc:
        ledger.problems.append(f"The ledger could not be read: {exc.message}")
        return ledger
    for url in urls:
        try:
            graph = reader.graph(url)
        except ReadError as exc:
            ledger.problems.append(exc.message)
            continue
        nodes = (
            set(typed(graph, CBPP.Acknowledgement))
            | set(typed(graph, AS.Accept))
            | set(typed(graph, AS.Reject))
        )
        for node in sorted(nodes, key=str):
            entry = LedgerEntry.from_graph(graph, node)
            if entry is not None:
                ledger.entries.append(entry)
    return ledger


def _announcements(reader: Reader, profile: Profile, limit: int, problems: list[str]) -> dict[str, str]:
    """Contribution IRI -> who announced it, from ``{c}contributions/``."""
    try:
        urls = children(reader, profile.contributions, limit)
    except ReadError as exc:
        problems.append(
            "The list of announced contributions is visible to members only; log in as a member to see it."
            if exc.hidden
            else f"The announced contributions could not be read: {exc.message}"
        )
        return {}
    found: dict[str, str] = {}
    for url in urls:
        try:
            graph = reader.graph(url)
        except ReadError as exc:
            problems.append(exc.message)
            continue
        for node in sorted(set(graph.subjects(RDF.type, AS.Announce)), key=str):
            actor = iri(graph, node, AS.actor) or ""
            for target in iris(graph, node, AS.object):
                found.setdefault(target, actor)
    return found


def read_contribution(reader: Reader, contribution: str) -> Contribution:
    """One contribution, read as the visitor; never raises."""
    try:
        graph = reader.graph(contribution)
    except ReadError as exc:
        reason = "not visible to you" if exc.hidden else exc.message
        if exc.status == 404:
            reason = "no longer exists"
        return Contribution(contribution, False, reason)
    node = URIRef(contribution)
    if (node, RDF.type, CBPP.Contribution) not in graph and (node, RDF.type, VF.EconomicEvent) not in graph:
        return Contribution(contribution, False, "is not a contribution")
    hours = None
    measure = one(graph, node, VF.effortQuantity)
    if measure is not None:
        hours = number(one(graph, measure, VF.hasNumericalValue))
        if hours is not None and (measure, VF.hasUnit, OM.minute) in graph:
            hours = hours / 60
    when = text(graph, node, VF.hasPointInTime)
    if when is None:
        begin, end = text(graph, node, VF.hasBeginning), text(graph, node, VF.hasEnd)
        when = f"{begin} to {end}" if begin and end else begin or end
    visibility = iri(graph, node, CBPP.visibility)
    action = iri(graph, node, VF.action)
    return Contribution(
        iri=contribution,
        visible=True,
        provider=iri(graph, node, VF.provider),
        action=local_name(action) if action else None,
        kinds=tuple(local_name(k) for k in iris(graph, node, VF.resourceClassifiedAs)),
        hours=hours,
        when=when,
        note=text(graph, node, VF.note),
        evidence=tuple(
            u for u in iris(graph, node, DCTERMS.references) if u.startswith(("https://", "http://"))
        ),
        visibility=local_name(visibility) if visibility else None,
    )


def read_contributions(
    reader: Reader, profile: Profile, ledger: Ledger, limit: int = 200
) -> tuple[list[Contribution], list[str]]:
    """Announced and acknowledged contributions, newest first (unknown times last)."""
    problems: list[str] = []
    announced = _announcements(reader, profile, limit, problems)
    current = ledger.current()
    order: list[str] = list(announced)
    order += [c for c in sorted(current) if c not in announced]
    found: list[Contribution] = []
    for contribution in _unique(order)[:limit]:
        read = read_contribution(reader, contribution)
        found.append(
            replace(
                read,
                announced_by=announced.get(contribution) or None,
                acknowledgement=current.get(contribution),
            )
        )
    found.sort(key=lambda c: instant((c.when or "").split(" to ")[0]) or _EPOCH, reverse=True)
    return found, problems


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


__all__ = ["Contribution", "Ledger", "read_contribution", "read_contributions", "read_ledger"]
