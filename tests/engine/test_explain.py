"""Explanations: every candidate rule with its results, in a stable JSON shape."""

from __future__ import annotations

import json

from tessera.engine import decide
from tests.engine.world import (
    NOW,
    allow,
    context,
    deny,
    doc,
    grant,
    holding,
    policy,
    role,
    subject,
)


def explained(compiled, action, resource=None, ctx=None):
    return decide(compiled, subject(), action, resource, ctx or context(), explain=True)


def sample_policy():
    return policy(
        [
            role("member", allow("doc:read", scope="own", condition={"mfa_verified": True})),
            role(
                "manager", deny("doc:*", condition={"not": {"risk_below": 80}}), parents=["member"]
            ),
        ],
        [holding("manager", source_id="as-7", not_after=NOW.replace(year=2030))],
        overrides=[allow("doc:read", scope="department")],
        grants=[grant("g1", "doc:read", "doc", "d1", not_after=NOW)],
        version="t1.m1.v9",
    )


def test_an_explanation_has_a_stable_shape():
    decision = explained(sample_policy(), "doc:read", doc(owner_id="alice"), context(risk_score=10))
    data = decision.to_json()
    assert list(data) == ["allowed", "reason", "matched", "evaluated", "policy_version"]
    assert data["allowed"] is False and data["policy_version"] == "t1.m1.v9"
    assert data["reason"] == "no matching allow (default deny)"
    assert [list(entry) for entry in data["evaluated"]] == [
        ["rule", "in_window", "scope_admits", "condition", "applies"]
    ] * 4
    first = data["evaluated"][0]
    assert list(first["rule"]) == [
        "effect",
        "permission",
        "scope",
        "condition",
        "fields",
        "source",
        "not_before",
        "not_after",
        "resource",
    ]
    assert list(first["condition"]) == ["op", "path", "result", "args", "children", "detail"]
    assert json.loads(json.dumps(data)) == data


def test_an_explanation_lists_denies_then_allows_then_grants_with_each_result():
    data = explained(
        sample_policy(), "doc:read", doc(owner_id="alice"), context(risk_score=10)
    ).to_json()
    summary = [
        (
            e["rule"]["effect"],
            e["rule"]["source"]["kind"],
            e["in_window"],
            e["scope_admits"],
            e["applies"],
        )
        for e in data["evaluated"]
    ]
    assert summary == [
        ("deny", "role", True, True, False),
        ("allow", "override", True, False, False),
        ("allow", "role", True, True, False),
        ("allow", "grant", False, True, False),
    ]
    deny_trace = data["evaluated"][0]["condition"]
    assert deny_trace["op"] == "not" and deny_trace["result"] is False
    assert deny_trace["children"][0] == {
        "op": "risk_below",
        "path": "condition.not",
        "result": True,
        "args": 80,
        "children": [],
        "detail": None,
    }
    assert data["evaluated"][0]["rule"]["not_after"] == "2030-05-15T10:00:00+00:00"
    assert data["evaluated"][3]["rule"]["resource"] == {"type": "doc", "id": "d1"}
    assert data["evaluated"][3]["rule"]["not_after"] == "2024-05-15T10:00:00+00:00"


def test_an_explanation_names_the_deciding_rule_and_keeps_evaluating_the_others():
    decision = explained(sample_policy(), "doc:read", doc(owner_id="alice"), context(risk_score=90))
    assert decision.allowed is False
    assert decision.reason == "denied by role manager rule doc:*"
    assert [e.applies for e in decision.evaluated] == [True, False, False, False]
    assert decision.matched[0].to_json()["source"] == {
        "kind": "role",
        "path": ["manager"],
        "via": "assignment",
        "source_id": "as-7",
        "index": 0,
    }


def test_the_same_question_gives_the_same_json():
    first = explained(sample_policy(), "doc:read", doc(owner_id="alice"), context(risk_score=10))
    second = explained(sample_policy(), "doc:read", doc(owner_id="alice"), context(risk_score=10))
    assert json.dumps(first.to_json()) == json.dumps(second.to_json())


def test_an_explained_grant_decides_when_no_rule_does():
    compiled = policy(grants=[grant("g1", "doc:read", "doc", "d1")])
    decision = explained(compiled, "doc:read", doc("d1"))
    assert decision.reason == "allowed by grant g1"
    assert [(e.in_window, e.applies) for e in decision.evaluated] == [(True, True)]


def test_an_explanation_without_a_resource_lists_no_grants():
    compiled = policy(grants=[grant("g1", "doc:read", "doc", "d1")])
    assert explained(compiled, "doc:read").evaluated == ()


def test_a_plain_decision_carries_no_evaluated_rules():
    decision = decide(sample_policy(), subject(), "doc:read", doc(owner_id="alice"), context())
    assert decision.evaluated == ()
    assert decision.to_json()["evaluated"] == []


def test_mutating_an_explanation_does_not_touch_the_policy():
    compiled = sample_policy()
    ask = ("doc:read", doc(owner_id="alice"), context(risk_score=90))
    data = explained(compiled, *ask).to_json()
    data["matched"][0]["condition"]["not"]["risk_below"] = 1
    assert explained(compiled, *ask).to_json()["matched"][0]["condition"] == {
        "not": {"risk_below": 80}
    }
