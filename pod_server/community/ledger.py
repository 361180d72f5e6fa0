"""The community ledger (model §6): acknowledgements of members' contributions.

``POST {c}.well-known/community/acknowledge`` (model §5) lets a reviewer whom the policy grants
``cbpp:acknowledge`` record that the community accepts (or rejects) a contribution *as the
reviewer read it*. The server:

1. reads the contribution as the community agent ``C`` (members grant ``C`` Read, §6);
2. checks it conforms to the bundled contribution shape, is a ``cbpp:Contribution`` whose
   ``vf:receiver`` is ``C``, and was not provided by the reviewer (nobody acknowledges their own
   work: 403);
3. compares the reviewer's digest with the digest of what it read now (409 when it changed:
   the reviewer must look again);
4. appends a new entry ``{c}ledger/{uuid}#entry``. Entries are never changed: a correction is a new
   entry with ``vf:corrects <earlier entry>``, and an entry is *superseded* once a later one
   corrects it.

A refused request writes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag

from rdflib import Graph, Literal, URIRef

from pod_server.community import fields
from pod_server.community.digest import DIGEST_PATTERN, graph_digest, read_document
from pod_server.community.layout import new_graph
from pod_server.errors import BadRequest, Conflict, Forbidden, NotFound, UnprocessableContent
from pod_server.vocab import AS, CBPP, PROV, RDF, VF, XSD

if TYPE_CHECKING:
    from pod_server.access.credentials import Credentials
    from pod_server.community.model import Community
    from pod_server.community.service import CommunityService

LEDGER = "ledger/"
ENTRY_FRAGMENT = "#entry"
MAX_NOTE = 2000
VERDICTS: Mapping[str, URIRef] = {"accept": AS.Accept, "reject": AS.Reject}
"""Body ``verdict`` -> the activity type of the entry (ActivityStreams 2.0 Vocabulary §3.1)."""
FIELDS = frozenset({"contribution", "digest", "verdict", "corrects", "note"})


@dataclass(frozen=True)
class Acknowledging:
    """A checked ``acknowledge`` body. Invariants: ``contribution`` is an absolute http(s) IRI;
    ``digest`` matches :data:`DIGEST_PATTERN`; ``corrects``, when set, is an entry node IRI
    ``{c}ledger/{name}#entry``."""

    contribution: str
    digest: str
    verdict: str = "accept"
    corrects: str | None = None
    note: str | None = None

    @classmethod
    def from_json(cls, c: Community, body: object) -> Acknowledging:
        """Check the JSON body field by field; 400 naming the first bad field."""
        if not isinstance(body, dict):
            raise BadRequest('send a JSON object: {"contribution": IRI, "digest": "sha256-..."}')
        fields.only(body, set(FIELDS))
        contribution = fields.iri(body, "contribution", required=True) or ""
        digest = body.get("digest")
        if not isinstance(digest, str) or not DIGEST_PATTERN.match(digest):
            raise BadRequest(
                'the field "digest" must be the contribution\'s content digest: "sha256-" and 44 base64 '
                "characters (the sha256 of its RDFC-1.0 canonical N-Quads)"
            )
        verdict = body.get("verdict", "accept")
        if verdict not in VERDICTS:
            raise BadRequest('the field "verdict" must be "accept" or "reject"')
        corrects = fields.iri(body, "corrects")
        if corrects is not None:
            name = corrects.removeprefix(c.at(LEDGER)).removesuffix(ENTRY_FRAGMENT)
            if (
                not corrects.startswith(c.at(LEDGER))
                or not corrects.endswith(ENTRY_FRAGMENT)
                or not name
                or "/" in name
            ):
                raise BadRequest(
                    'the field "corrects" must name a ledger entry of this community, '
                    f"{c.at(LEDGER)}{{name}}#entry"
                )
        note = fields.text(body, "note", max_length=MAX_NOTE)
        return cls(contribution, digest, verdict, corrects, note)


@dataclass(frozen=True)
class Contribution:
    """What the ledger needs of a contribution document read as ``C``."""

    iri: str
    provider: str
    digest: str


def read_contribution(svc: CommunityService, c: Community, iri: str) -> Contribution:
    """Read the contribution ``iri`` as ``C`` and check it (model §6): 422 when unreadable, not
    RDF, not conforming to the contribution shape, not a ``cbpp:Contribution`` with exactly one
    provider, or not received by ``C``."""
    document = urldefrag(iri)[0]
    fetched = svc.agent.get(c.webid, document)
    if fetched.status != 200:
        raise UnprocessableContent(
            f"{document} could not be read as {c.webid} (status {fetched.status}); the contributor must "
            f"give {c.webid} Read access to it (model §6: visibility CommunityOnly or Public)"
        )
    graph = read_document(fetched.body, document, fetched.content_type or "text/turtle")
    validation = svc.shapes.validate(graph, "contribution")
    if not validation.conforms:
        raise UnprocessableContent(
            f"{document} does not conform to the contribution shape:\n{validation.text}"
        )
    node = URIRef(iri)
    if (node, RDF.type, CBPP.Contribution) not in graph:
        raise UnprocessableContent(
            f"{document} has no cbpp:Contribution {iri}; name the contribution node itself"
        )
    providers = [p for p in graph.objects(node, VF.provider) if isinstance(p, URIRef)]
    if len(providers) != 1:
        raise UnprocessableContent(f"the contribution {iri} must name exactly one vf:provider")
    if (node, VF.receiver, URIRef(c.webid)) not in graph:
        raise UnprocessableContent(
            f"the contribution {iri} is not offered to this community: its vf:receiver is not {c.webid}"
        )
    return Contribution(iri, str(providers[0]), graph_digest(graph))


@dataclass(frozen=True)
class Entry:
    """One ledger entry as stored. ``verdict`` is ``accept`` or ``reject``."""

    iri: str
    contribution: str
    contributor: str
    reviewer: str
    digest: str
    verdict: str
    published: str
    corrects: str | None
    note: str | None


def entry_graph(
    c: Community, url: str, ack: Acknowledging, contribution: Contribution, reviewer: str, now: Literal
) -> Graph:
    """The entry document ``url`` (model §6)."""
    graph = new_graph()
    entry = URIRef(url + ENTRY_FRAGMENT)
    graph.add((entry, RDF.type, CBPP.Acknowledgement))
    graph.add((entry, RDF.type, VERDICTS[ack.verdict]))
    graph.add((entry, AS.actor, URIRef(c.webid)))
    graph.add((entry, AS.object, URIRef(contribution.iri)))
    graph.add((entry, CBPP.contributor, URIRef(contribution.provider)))
    graph.add((entry, PROV.wasAssociatedWith, URIRef(reviewer)))
    graph.add((entry, CBPP.objectDigest, Literal(contribution.digest)))
    graph.add((entry, AS.published, now))
    if ack.note:
        graph.add((entry, AS.summary, Literal(ack.note)))
    if ack.corrects:
        graph.add((entry, VF.corrects, URIRef(ack.corrects)))
    return graph


def read_entry(svc: CommunityService, c: Community, iri: str) -> Entry:
    """The stored entry ``iri`` (``{c}ledger/{name}#entry``); 404 when there is none."""
    document = urldefrag(iri)[0]
    graph = svc.read_graph(c, document.removeprefix(c.url))
    entry = _entry_from(graph, URIRef(iri))
    if entry is None:
        raise NotFound(f"there is no ledger entry {iri}")
    return entry


def _entry_from(graph: Graph, node: URIRef) -> Entry | None:
    if (node, RDF.type, CBPP.Acknowledgement) not in graph:
        return None

    def text(predicate: URIRef) -> str | None:
        value = graph.value(node, predicate)
        return None if value is None else str(value)

    verdict = "reject" if (node, RDF.type, AS.Reject) in graph else "accept"
    return Entry(
        str(node),
        text(AS.object) or "",
        text(CBPP.contributor) or "",
        text(PROV.wasAssociatedWith) or "",
        text(CBPP.objectDigest) or "",
        verdict,
        text(AS.published) or "",
        text(VF.corrects),
        text(AS.summary),
    )


def entries(svc: CommunityService, c: Community) -> list[Entry]:
    """Every entry of ``{c}ledger/``, oldest first (by ``as:published``, then IRI)."""
    found: list[Entry] = []
    view = svc.store.read_container(c.path_of(LEDGER))
    for child in view.children:
        if child.is_container:
            continue
        relative = child.path.removeprefix(c.path)
        entry = _entry_from(svc.read_graph(c, relative), URIRef(c.at(relative) + ENTRY_FRAGMENT))
        if entry is not None:
            found.append(entry)
    return sorted(found, key=lambda e: (e.published, e.iri))


def superseded(all_entries: Iterable[Entry]) -> dict[str, str]:
    """Entry IRI -> the IRI of an entry that corrects it (model §6: corrections are new
    entries; an entry is superseded when a later one ``vf:corrects`` it)."""
    return {e.corrects: e.iri for e in all_entries if e.corrects is not None}


def current(all_entries: Iterable[Entry]) -> dict[str, Entry]:
    """Contribution IRI -> its latest entry that nothing supersedes (an accept or a reject)."""
    listed = list(all_entries)
    replaced = superseded(listed)
    latest: dict[str, Entry] = {}
    for entry in listed:  # oldest first, so later entries win
        if entry.iri not in replaced:
            latest[entry.contribution] = entry
    return latest


def acknowledge(
    svc: CommunityService, c: Community, credentials: Credentials, body: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """``POST {c}.well-known/community/acknowledge`` (model §5): 201 ``{"entry": IRI,
    "digest": ..., "verdict": ...}``. 400 bad field; 401/403 not permitted (policy
    ``cbpp:acknowledge``); 403 self-acknowledgement; 409 the contribution changed since the
    reviewer's digest; 422 unreadable, non-conforming or not offered to this community, or
    ``corrects`` names no entry about this contribution."""
    reviewer = svc.require(c, credentials, CBPP.acknowledge)
    ack = Acknowledging.from_json(c, body)
    if ack.corrects is not None:
        try:
            earlier = read_entry(svc, c, ack.corrects)
        except NotFound:
            raise UnprocessableContent(
                f"corrects names {ack.corrects}, which is not a ledger entry"
            ) from None
        if earlier.contribution != ack.contribution:
            raise UnprocessableContent(
                f"{ack.corrects} acknowledges {earlier.contribution}, not {ack.contribution}; "
                "a correction is about the same contribution"
            )
    contribution = read_contribution(svc, c, ack.contribution)
    if contribution.provider == reviewer.webid:
        raise Forbidden("you cannot acknowledge your own contribution; ask another maintainer")
    if contribution.digest != ack.digest:
        raise Conflict(
            f"the contribution changed since you reviewed it (its digest is now {contribution.digest}); "
            "read it again and send the new digest"
        )
    # Microseconds, so entries of one second still sort in the order they were written.
    now = Literal(svc.clock().astimezone(UTC).isoformat().replace("+00:00", "Z"), datatype=XSD.dateTime)
    url = svc.post_graph(
        c,
        LEDGER,
        lambda url: entry_graph(c, url, ack, contribution, reviewer.webid, now),
        slug=uuid.uuid4().hex,
    )
    return 201, {"entry": url + ENTRY_FRAGMENT, "digest": contribution.digest, "verdict": ack.verdict}


__all__ = [
    "ENTRY_FRAGMENT",
    "LEDGER",
    "MAX_NOTE",
    "VERDICTS",
    "Acknowledging",
    "Contribution",
    "Entry",
    "acknowledge",
    "current",
    "entries",
    "entry_graph",
    "read_contribution",
    "read_entry",
    "superseded",
]
