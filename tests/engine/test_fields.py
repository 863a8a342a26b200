"""`field_access`: readable fields come from `<type>:read` rules, writable from `<type>:update`."""

from __future__ import annotations

import pytest

from tessera.engine import FieldSets, PolicyError, Subject, decide, field_access
from tests.engine.world import allow, context, deny, doc, grant, member, policy, subject


def fields_of(compiled, resource=None, who=None, ctx=None, resource_type="doc"):
    return field_access(
        compiled, who or subject(), resource_type, ctx or context(), resource=resource
    )


def test_an_allow_rule_without_a_field_map_grants_every_field():
    sets = fields_of(member(allow("doc:*")))
    assert sets == FieldSets(frozenset({"*"}), frozenset({"*"}))
    assert sets.can_read("anything") and sets.can_write("anything")


def test_read_rules_give_readable_fields_and_update_rules_writable_ones():
    compiled = member(
        allow("doc:read", fields={"title": (True, True), "body": (True, False)}),
        allow("doc:update", fields={"title": (False, True)}),
    )
    sets = fields_of(compiled)
    assert sets.readable == {"title", "body"}
    assert sets.writable == {"title"}
    assert not sets.can_read("salary") and not sets.can_write("body")


def test_read_false_entries_remove_fields_even_from_every_field():
    compiled = member(
        allow("doc:*"),
        allow("doc:read", fields={"*": (True, False), "salary": (False, False)}),
    )
    sets = fields_of(compiled)
    assert sets.readable == {"*"} and sets.unreadable == {"salary"}
    assert not sets.can_read("salary") and sets.can_read("name")
    assert sets.writable == {"*"} and sets.can_write("salary")


def test_a_deny_rule_with_a_field_map_only_hides_fields():
    compiled = member(
        allow("doc:*"), deny("doc:*", fields={"salary": (False, False), "name": (True, False)})
    )
    sets = fields_of(compiled)
    assert sets.to_json() == {
        "readable": ["*"],
        "writable": ["*"],
        "unreadable": ["salary"],
        "unwritable": ["name", "salary"],
    }
    assert decide(compiled, subject(), "doc:read", doc(), context()).allowed


def test_a_field_level_deny_counts_only_when_it_applies():
    compiled = member(
        allow("doc:read"),
        deny("doc:read", condition={"mfa_verified": True}, fields={"salary": (False, False)}),
    )
    assert fields_of(compiled).unreadable == frozenset()
    assert fields_of(compiled, ctx=context(mfa_verified=True)).unreadable == {"salary"}


def test_a_deny_of_the_whole_action_leaves_no_fields():
    sets = fields_of(member(allow("doc:*"), deny("doc:update")))
    assert sets.readable == {"*"} and sets.writable == frozenset()


def test_without_an_allow_no_field_is_readable():
    sets = fields_of(member(deny("doc:read", fields={"salary": (False, False)})))
    assert sets.readable == frozenset() and sets.unreadable == {"salary"}
    assert fields_of(policy()) == FieldSets(frozenset(), frozenset())


def test_removing_every_field_leaves_nothing_readable():
    sets = fields_of(member(allow("doc:read"), deny("doc:read", fields={"*": (False, True)})))
    assert sets.readable == frozenset() and not sets.can_read("title")


def test_scoped_and_conditional_field_rules_need_the_resource_and_context():
    compiled = member(
        allow("doc:read", fields={"title": (True, False)}),
        allow("doc:read", scope="own", fields={"notes": (True, False)}),
        allow("doc:read", condition={"mfa_verified": True}, fields={"secret": (True, False)}),
    )
    assert fields_of(compiled).readable == {"title"}
    assert fields_of(compiled, doc(owner_id="alice")).readable == {"title", "notes"}
    assert fields_of(compiled, ctx=context(mfa_verified=True)).readable == {"title", "secret"}


def test_a_grant_on_the_resource_grants_every_field():
    compiled = policy(grants=[grant("g1", "doc:read", "doc", "42", not_after=None)])
    assert fields_of(compiled, doc("42")).readable == {"*"}
    assert fields_of(compiled, doc("43")).readable == frozenset()
    expired = policy(grants=[grant("g1", "doc:read", "doc", "42", not_after=context().now)])
    assert fields_of(expired, doc("42")).readable == frozenset()


def test_another_member_gets_no_fields():
    stranger = Subject("bob", "m2", "t1")
    assert fields_of(member(allow("*:*")), who=stranger) == FieldSets(frozenset(), frozenset())


def test_a_bad_resource_type_is_refused():
    with pytest.raises(PolicyError, match="bad action"):
        fields_of(member(allow("*:*")), resource_type="Doc Type")
