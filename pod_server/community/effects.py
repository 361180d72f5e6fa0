"""What a motion does if it passes (model §7): its effect, from JSON to RDF to the change.

A motion's effect is one of::

    {"type": "remove-member", "member": W}                         -> <#effect> a cbpp:RemoveMember
    {"type": "admit-member", "member": W, "role": name}            -> <#effect> a cbpp:AdmitMember
    {"type": "adopt-value-rule", "rule": {...}}                    -> <#effect> a cbpp:AdoptValueRule
    {"type": "adopt-decision-rule", "rule": {...}}                 -> <#effect> a cbpp:AdoptDecisionRule

:func:`parse_effect` checks the JSON strictly (unknown keys, wrong types and out-of-range numbers
are 400); :meth:`Effect.add_to` writes it into the motion document; :func:`apply_effect` carries
out the effect that a *stored* motion describes, once its decision passed. Everything an effect
writes says ``prov:wasGeneratedBy <{c}decisions/{id}#event>``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

from pod_server.community import fields
from pod_server.community.edits import edit_graph
from pod_server.community.layout import new_graph
from pod_server.community.tally import parse_period
from pod_server.errors import BadRequest, Conflict, UnprocessableContent
from pod_server.vocab import AS, CBPP, DCTERMS, KIND, PROV, RDF, XSD

if TYPE_CHECKING:
    from pod_server.community.model import Community
    from pod_server.community.service import CommunityService

EFFECT_FRAGMENT = "#effect"
RULE_FRAGMENT = "#rule"
MAX_TITLE = 200
MAX_CREDIT_PER_HOUR = Decimal(1_000_000)
MAX_KIND_WEIGHT = Decimal(1_000)
MAX_CAP = Decimal(1_000_000_000)
KINDS = frozenset(name for name in KIND.__annotations__ if name != "scheme")
"""Local names of the ``kind:`` SKOS concepts a value rule may weigh (vocab/cbpp.ttl)."""
WEIGHTING_NAMES: Mapping[str, URIRef] = {
    "one-member-one-vote": CBPP.OneMemberOneVote,
    "credit-weighted": CBPP.CreditWeighted,
}


def _decimal_literal(value: Decimal) -> Literal:
    return Literal(
        format(value.normalize(), "f") if value == value.to_integral() else str(value), datatype=XSD.decimal
    )


@dataclass(frozen=True)
class RemoveMember:
    member: str

    def add_to(self, graph: Graph, base: str) -> URIRef:
        effect = URIRef(base + EFFECT_FRAGMENT)
        graph.add((effect, RDF.type, CBPP.RemoveMember))
        graph.add((effect, CBPP.member, URIRef(self.member)))
        return effect


@dataclass(frozen=True)
class AdmitMember:
    member: str
    role: str
    """The role IRI ``{c}roles#name``."""

    def add_to(self, graph: Graph, base: str) -> URIRef:
        effect = URIRef(base + EFFECT_FRAGMENT)
        graph.add((effect, RDF.type, CBPP.AdmitMember))
        graph.add((effect, CBPP.member, URIRef(self.member)))
        graph.add((effect, CBPP.role, URIRef(self.role)))
        return effect


@dataclass(frozen=True)
class AdoptValueRule:
    """Invariants: ``kind_weights`` maps kind IRIs to weights in [0, 1000]; ``credit_per_hour``
    in [0, 10^6]; ``cap_per_period`` in (0, 10^9] when set; ``period`` a valid period when set."""

    title: str
    credit_per_hour: Decimal
    kind_weights: tuple[tuple[str, Decimal], ...] = ()
    cap_per_period: Decimal | None = None
    period: str | None = None

    def add_to(self, graph: Graph, base: str) -> URIRef:
        effect, rule = URIRef(base + EFFECT_FRAGMENT), URIRef(base + RULE_FRAGMENT)
        graph.add((effect, RDF.type, CBPP.AdoptValueRule))
        graph.add((effect, CBPP.rule, rule))
        graph.add((rule, RDF.type, CBPP.ValueRule))
        graph.add((rule, DCTERMS.title, Literal(self.title)))
        graph.add((rule, CBPP.creditPerHour, _decimal_literal(self.credit_per_hour)))
        for kind, weight in self.kind_weights:
            node = BNode()
            graph.add((rule, CBPP.kindWeight, node))
            graph.add((node, RDF.type, CBPP.KindWeight))
            graph.add((node, CBPP.kind, URIRef(kind)))
            graph.add((node, CBPP.weight, _decimal_literal(weight)))
        if self.cap_per_period is not None:
            graph.add((rule, CBPP.capPerPeriod, _decimal_literal(self.cap_per_period)))
        if self.period is not None:
            graph.add((rule, CBPP.period, Literal(self.period, datatype=XSD.duration)))
        return effect


@dataclass(frozen=True)
class AdoptDecisionRule:
    """Invariants as :class:`~pod_server.community.tally.DecisionRule`: quorum and threshold in
    [0, 1], ``period`` valid, ``electorate`` a role IRI of the community."""

    quorum: Decimal
    threshold: Decimal
    period: str
    electorate: str
    weighting: URIRef = CBPP.OneMemberOneVote

    def add_to(self, graph: Graph, base: str) -> URIRef:
        effect, rule = URIRef(base + EFFECT_FRAGMENT), URIRef(base + RULE_FRAGMENT)
        graph.add((effect, RDF.type, CBPP.AdoptDecisionRule))
        graph.add((effect, CBPP.rule, rule))
        graph.add((rule, RDF.type, CBPP.DecisionRule))
        graph.add((rule, CBPP.electorate, URIRef(self.electorate)))
        graph.add((rule, CBPP.quorum, _decimal_literal(self.quorum)))
        graph.add((rule, CBPP.threshold, _decimal_literal(self.threshold)))
        graph.add((rule, CBPP.period, Literal(self.period, datatype=XSD.duration)))
        graph.add((rule, CBPP.weighting, self.weighting))
        return effect


Effect = RemoveMember | AdmitMember | AdoptValueRule | AdoptDecisionRule


# -- JSON -----------------------------------------------------------------------------------
def _object(value: object, where: str, required: set[str], optional: set[str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise BadRequest(f"{where} must be a JSON object")
    missing = sorted(required - set(value))
    if missing:
        raise BadRequest(f"{where} needs the field {missing[0]!r}")
    unknown = sorted(set(value) - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise BadRequest(f"{where} has an unknown field {unknown[0]!r}; its fields are {allowed}")
    return value


def _number(value: object, where: str, low: Decimal, high: Decimal, *, low_open: bool = False) -> Decimal:
    # bool is an int in Python, but true is not a number in JSON.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRequest(f"{where} must be a number")
    number = Decimal(str(value))
    if number < low or number > high or (low_open and number == low):
        left = "(" if low_open else "["
        raise BadRequest(f"{where} must be in {left}{low}, {high}]")
    return number


def _text(value: object, where: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise BadRequest(f"{where} must be non-empty text of at most {limit} characters")
    return value


def _webid(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f'the field "{where}" must be a WebID (an http(s) IRI)')
    return fields.check_iri(value, where)


def _period(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise BadRequest(f"{where} must be an xsd:duration such as P7D")
    try:
        parse_period(value)
    except ValueError as e:
        raise BadRequest(f"{where}: {e}") from None
    return value


def _role(value: object, where: str, roles: Mapping[str, str]) -> str:
    if not isinstance(value, str) or value not in roles:
        raise BadRequest(f"{where} must be the name of a role of this community: {', '.join(sorted(roles))}")
    return roles[value]


def _remove(data: dict[str, Any], roles: Mapping[str, str]) -> Effect:
    _object(data, "effect", {"type", "member"}, set())
    return RemoveMember(_webid(data["member"], "effect.member"))


def _admit(data: dict[str, Any], roles: Mapping[str, str]) -> Effect:
    _object(data, "effect", {"type", "member"}, {"role"})
    return AdmitMember(
        _webid(data["member"], "effect.member"), _role(data.get("role", "member"), "effect.role", roles)
    )


def _value_rule(data: dict[str, Any], roles: Mapping[str, str]) -> Effect:
    _object(data, "effect", {"type", "rule"}, set())
    rule = _object(
        data["rule"],
        "effect.rule",
        {"title", "credit_per_hour"},
        {"kind_weights", "cap_per_period", "period"},
    )
    weights = rule.get("kind_weights", {})
    if not isinstance(weights, dict):
        raise BadRequest("effect.rule.kind_weights must be an object: {kind name: weight}")
    kind_weights = []
    for name, weight in sorted(weights.items()):
        if name not in KINDS:
            raise BadRequest(
                f"effect.rule.kind_weights: {name!r} is not a kind; the kinds are {', '.join(sorted(KINDS))}"
            )
        kind_weights.append(
            (
                str(KIND[name]),
                _number(weight, f"effect.rule.kind_weights.{name}", Decimal(0), MAX_KIND_WEIGHT),
            )
        )
    cap = rule.get("cap_per_period")
    period = rule.get("period")
    return AdoptValueRule(
        _text(rule["title"], "effect.rule.title", MAX_TITLE),
        _number(rule["credit_per_hour"], "effect.rule.credit_per_hour", Decimal(0), MAX_CREDIT_PER_HOUR),
        tuple(kind_weights),
        None
        if cap is None
        else _number(cap, "effect.rule.cap_per_period", Decimal(0), MAX_CAP, low_open=True),
        None if period is None else _period(period, "effect.rule.period"),
    )


def _decision_rule(data: dict[str, Any], roles: Mapping[str, str]) -> Effect:
    _object(data, "effect", {"type", "rule"}, set())
    rule = _object(
        data["rule"], "effect.rule", {"quorum", "threshold", "period"}, {"electorate", "weighting"}
    )
    weighting = rule.get("weighting", "one-member-one-vote")
    if weighting not in WEIGHTING_NAMES:
        raise BadRequest(f"effect.rule.weighting must be one of {', '.join(WEIGHTING_NAMES)}")
    return AdoptDecisionRule(
        _number(rule["quorum"], "effect.rule.quorum", Decimal(0), Decimal(1)),
        _number(rule["threshold"], "effect.rule.threshold", Decimal(0), Decimal(1)),
        _period(rule["period"], "effect.rule.period"),
        _role(rule.get("electorate", "member"), "effect.rule.electorate", roles),
        WEIGHTING_NAMES[weighting],
    )


PARSERS: Mapping[str, Callable[[dict[str, Any], Mapping[str, str]], Effect]] = {
    "remove-member": _remove,
    "admit-member": _admit,
    "adopt-value-rule": _value_rule,
    "adopt-decision-rule": _decision_rule,
}


def parse_effect(data: object, roles: Mapping[str, str]) -> Effect:
    """The effect of a ``propose`` body (model §7), checked strictly; 400 naming the problem.
    ``roles`` maps the community's role names to role IRIs."""
    if not isinstance(data, dict) or data.get("type") not in PARSERS:
        raise BadRequest(f"effect must be an object whose type is one of {', '.join(PARSERS)}")
    return PARSERS[data["type"]](data, roles)


# -- carrying out a stored effect ------------------------------------------------------------
def copy_description(source: Graph, node: Node, target: Graph, as_node: URIRef) -> None:
    """Copy ``node``'s triples, and those of the blank nodes it reaches, into ``target`` with
    ``node`` renamed ``as_node`` (its concise bounded description)."""
    pending: list[tuple[Node, Node]] = [(node, as_node)]
    seen: set[Node] = set()
    while pending:
        old, new = pending.pop()
        if old in seen:
            continue
        seen.add(old)
        for predicate, obj in source.predicate_objects(old):
            if isinstance(obj, BNode):
                pending.append((obj, obj))
            target.add((new, predicate, obj))


def _remove_applied(svc: CommunityService, c: Community, graph: Graph, effect: Node, event: str) -> str:
    member = graph.value(effect, CBPP.member)
    if not isinstance(member, URIRef):
        raise UnprocessableContent(f"the effect {effect} names no member")
    known = svc.member(c, str(member))
    if known is None or known.ended:
        raise Conflict(f"{member} is no longer a member; nothing to remove")
    svc.end_membership(c, str(member), generated_by=event, activity=AS.Remove)
    return known.community_half


def _admit_applied(svc: CommunityService, c: Community, graph: Graph, effect: Node, event: str) -> str:
    member, role = graph.value(effect, CBPP.member), graph.value(effect, CBPP.role)
    if not isinstance(member, URIRef) or not isinstance(role, URIRef):
        raise UnprocessableContent(f"the effect {effect} needs a member and a role")
    known = svc.member(c, str(member))
    if known is not None and known.active:
        raise Conflict(f"{member} is already a member")
    node = svc.admit(c, str(member), [str(role)], generated_by=event)
    # Like an invitation (model §7): confirmed once W links the membership from their pod.
    svc.announce(
        c, str(member), AS.Invite, URIRef(node), "the community decided to admit you; confirm to join"
    )
    return node


def _numbered(names: list[str], prefix: str) -> int:
    """1 + the largest n of the names ``{prefix}{n}``, or 1."""
    numbers = [int(n[len(prefix) :]) for n in names if n.startswith(prefix) and n[len(prefix) :].isdigit()]
    return max(numbers, default=0) + 1


def _value_rule_applied(svc: CommunityService, c: Community, graph: Graph, effect: Node, event: str) -> str:
    rule = graph.value(effect, CBPP.rule)
    if rule is None:
        raise UnprocessableContent(f"the effect {effect} names no rule")
    children = svc.store.read_container(c.path_of("rules/")).children
    n = _numbered([m.path.removeprefix(c.path_of("rules/")) for m in children], "value-")
    relative = f"rules/value-{n}"
    adopted = URIRef(c.at(relative) + RULE_FRAGMENT)
    document = new_graph()
    copy_description(graph, rule, document, adopted)
    document.add((adopted, PROV.wasGeneratedBy, URIRef(event)))
    svc.write_graph(c, relative, document)
    _repoint(svc, c, CBPP.valueRule, adopted)
    return str(adopted)


def _decision_rule_applied(
    svc: CommunityService, c: Community, graph: Graph, effect: Node, event: str
) -> str:
    rule = graph.value(effect, CBPP.rule)
    if rule is None:
        raise UnprocessableContent(f"the effect {effect} names no rule")
    base = c.at("governance/rules")
    adopted: list[URIRef] = []

    def add_rule(rules: Graph) -> None:
        names = [str(s).removeprefix(base + "#") for s in rules.subjects(RDF.type, CBPP.DecisionRule)]
        node = URIRef(f"{base}#r{_numbered(names, 'r')}")
        copy_description(graph, rule, rules, node)
        rules.add((node, PROV.wasGeneratedBy, URIRef(event)))
        adopted.append(node)

    edit_graph(svc.store, c, "governance/rules", add_rule)
    _repoint(svc, c, CBPP.decisionRule, adopted[0])
    return str(adopted[0])


def _repoint(svc: CommunityService, c: Community, predicate: URIRef, target: URIRef) -> None:
    """The community profile's ``predicate`` now names ``target`` alone (model §7)."""

    def change(profile: Graph) -> None:
        profile.remove((URIRef(c.webid), predicate, None))
        profile.add((URIRef(c.webid), predicate, target))

    edit_graph(svc.store, c, "profile/card", change)


APPLIERS: Mapping[URIRef, Callable[[CommunityService, Community, Graph, Node, str], str]] = {
    CBPP.RemoveMember: _remove_applied,
    CBPP.AdmitMember: _admit_applied,
    CBPP.AdoptValueRule: _value_rule_applied,
    CBPP.AdoptDecisionRule: _decision_rule_applied,
}


def apply_effect(svc: CommunityService, c: Community, motion: Graph, effect: Node, event: str) -> str:
    """Carry out the effect node ``effect`` of a stored motion whose decision ``event`` passed;
    returns the IRI of what it changed (a membership node, an adopted rule). 409 when the world
    moved on (the member already left, or was admitted meanwhile); 422 for an effect of no known
    type."""
    for kind in motion.objects(effect, RDF.type):
        if isinstance(kind, URIRef) and kind in APPLIERS:
            return APPLIERS[kind](svc, c, motion, effect, event)
    raise UnprocessableContent(f"the effect {effect} has no type this server can carry out")


__all__ = [
    "APPLIERS",
    "EFFECT_FRAGMENT",
    "KINDS",
    "PARSERS",
    "RULE_FRAGMENT",
    "WEIGHTING_NAMES",
    "AdmitMember",
    "AdoptDecisionRule",
    "AdoptValueRule",
    "Effect",
    "RemoveMember",
    "apply_effect",
    "copy_description",
    "parse_effect",
]
