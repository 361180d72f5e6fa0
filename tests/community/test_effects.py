"""Effects of motions (model §7): the propose body's JSON, checked strictly, and adopted
rules checked against their own shapes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from rdflib import Graph, URIRef

from pod_server.community.effects import (
    AdmitMember,
    AdoptDecisionRule,
    AdoptValueRule,
    RemoveMember,
    copy_description,
    parse_effect,
)
from pod_server.community.governance import motion_graph
from pod_server.community.model import Community
from pod_server.community.tally import DecisionRule
from pod_server.errors import BadRequest
from pod_server.shapes import ShapeLibrary
from pod_server.vocab import CBPP, KIND, PROV

C = Community.of("/commons/", "https://pods.example/commons/")
ROLES = {"member": C.role("member"), "maintainer": C.role("maintainer"), "admin": C.role("admin")}
W = "https://alice.example/profile/card#me"
SHAPES = ShapeLibrary.bundled()
OPENS = datetime(2026, 11, 3, 9, 0, tzinfo=UTC)
MOTION_URL = C.at("proposals/abc")
RULE = DecisionRule(C.at("governance/rules#default"), C.role("member"), Decimal("0.5"), Decimal("0.5"), "P7D")


# -- effect JSON ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data,expected",
    [
        ({"type": "remove-member", "member": W}, RemoveMember(W)),
        ({"type": "admit-member", "member": W}, AdmitMember(W, C.role("member"))),
        ({"type": "admit-member", "member": W, "role": "maintainer"}, AdmitMember(W, C.role("maintainer"))),
        (
            {
                "type": "adopt-value-rule",
                "rule": {
                    "title": "Care counts",
                    "credit_per_hour": 10,
                    "kind_weights": {"care": 1.5, "code": 1},
                },
            },
            AdoptValueRule(
                "Care counts",
                Decimal(10),
                ((str(KIND.care), Decimal("1.5")), (str(KIND.code), Decimal(1))),
            ),
        ),
        (
            {
                "type": "adopt-value-rule",
                "rule": {"title": "Capped", "credit_per_hour": 2.5, "cap_per_period": 40, "period": "P1M"},
            },
            AdoptValueRule("Capped", Decimal("2.5"), (), Decimal(40), "P1M"),
        ),
        (
            {"type": "adopt-decision-rule", "rule": {"quorum": 0.25, "threshold": 0.5, "period": "P3D"}},
            AdoptDecisionRule(Decimal("0.25"), Decimal("0.5"), "P3D", C.role("member")),
        ),
        (
            {
                "type": "adopt-decision-rule",
                "rule": {
                    "quorum": 1,
                    "threshold": 0,
                    "period": "PT12H",
                    "electorate": "maintainer",
                    "weighting": "credit-weighted",
                },
            },
            AdoptDecisionRule(Decimal(1), Decimal(0), "PT12H", C.role("maintainer"), CBPP.CreditWeighted),
        ),
    ],
)
def test_effects_parse(data: dict[str, Any], expected: object) -> None:
    assert parse_effect(data, ROLES) == expected


VALUE_RULE = {"title": "t", "credit_per_hour": 10}
DECISION_RULE = {"quorum": 0.5, "threshold": 0.5, "period": "P7D"}


@pytest.mark.parametrize(
    "data,problem",
    [
        ("remove-member", "must be an object"),
        ({"type": "dissolve"}, "type is one of"),
        ({"member": W}, "type is one of"),
        ({"type": "remove-member"}, "needs the field 'member'"),
        ({"type": "remove-member", "member": "alice"}, "effect.member"),
        ({"type": "remove-member", "member": 7}, "WebID"),
        ({"type": "remove-member", "member": W, "role": "member"}, "unknown field 'role'"),
        ({"type": "admit-member", "member": W, "role": "king"}, "role of this community"),
        ({"type": "admit-member", "member": W, "role": 1}, "role of this community"),
        ({"type": "adopt-value-rule", "rule": []}, "must be a JSON object"),
        ({"type": "adopt-value-rule", "rule": {"title": "t"}}, "needs the field 'credit_per_hour'"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "credit_per_hour": -1}}, "in \\[0"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "credit_per_hour": True}}, "must be a number"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "credit_per_hour": "10"}}, "must be a number"),
        (
            {"type": "adopt-value-rule", "rule": {**VALUE_RULE, "credit_per_hour": float("inf")}},
            "must be a number",
        ),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "title": ""}}, "title"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "title": "x" * 201}}, "title"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "kind_weights": {"poetry": 1}}}, "not a kind"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "kind_weights": {"scheme": 1}}}, "not a kind"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "kind_weights": {"care": 1001}}}, "care"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "kind_weights": [1]}}, "kind_weights"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "cap_per_period": 0}}, "cap_per_period"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "period": "monthly"}}, "period"),
        ({"type": "adopt-value-rule", "rule": {**VALUE_RULE, "rate": 1}}, "unknown field 'rate'"),
        (
            {"type": "adopt-decision-rule", "rule": {"quorum": 0.5, "threshold": 0.5}},
            "needs the field 'period'",
        ),
        ({"type": "adopt-decision-rule", "rule": {**DECISION_RULE, "quorum": 1.01}}, "quorum"),
        ({"type": "adopt-decision-rule", "rule": {**DECISION_RULE, "threshold": -0.1}}, "threshold"),
        ({"type": "adopt-decision-rule", "rule": {**DECISION_RULE, "period": "P2Y"}}, "longer than a year"),
        (
            {"type": "adopt-decision-rule", "rule": {**DECISION_RULE, "weighting": "one-per-coin"}},
            "weighting",
        ),
        ({"type": "adopt-decision-rule", "rule": {**DECISION_RULE, "electorate": "everyone"}}, "role"),
    ],
)
def test_bad_effects_are_400(data: object, problem: str) -> None:
    with pytest.raises(BadRequest, match=problem):
        parse_effect(data, ROLES)


def test_adopted_rules_conform_to_their_own_shapes() -> None:
    effect = AdoptValueRule("Care", Decimal(10), ((str(KIND.care), Decimal("1.5")),), Decimal(40), "P1M")
    graph = motion_graph(
        C, MOTION_URL, title="t", description=None, creator=W, rule=RULE, effect=effect, opens=OPENS
    )
    adopted, node = Graph(), URIRef(C.at("rules/value-1#rule"))
    copy_description(graph, URIRef(MOTION_URL + "#rule"), adopted, node)
    adopted.add((node, PROV.wasGeneratedBy, URIRef(C.at("decisions/abc#event"))))
    validation = SHAPES.validate(adopted, "value-rule")
    assert validation.conforms and validation.focus_count >= 2, validation.text  # the rule and its weight
