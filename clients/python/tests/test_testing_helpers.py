"""tessera_client.testing.FakeTessera: what an application's tests rely on."""

from __future__ import annotations

import pytest

from tessera_client import Check, Resource, TesseraUnauthenticated, TesseraUnavailable
from tessera_client.testing import DEFAULT_TENANT_ID, FakeTessera


def test_minted_tokens_verify_and_carry_what_was_asked(tessera_fake: FakeTessera):
    with tessera_fake.client() as client:
        principal = client.verify_token(tessera_fake.mint("alice", roles=["editor"]))
        assert principal.user_id == "alice" and principal.tenant_id == DEFAULT_TENANT_ID
        assert principal.roles == ("editor",) and principal.session_id
        with pytest.raises(TesseraUnauthenticated, match="another tenant"):
            client.verify_token(tessera_fake.mint("mallory", tenant_id="elsewhere"))
        with pytest.raises(TesseraUnauthenticated):
            client.verify_token(tessera_fake.mint("alice", aud="another-app"))
        with pytest.raises(TesseraUnauthenticated):
            client.verify_token(FakeTessera().mint("alice"))  # another key pair: forged


def test_decisions_follow_grants_wildcards_and_logout(tessera_fake: FakeTessera):
    with tessera_fake.client() as client:
        who = client.verify_token(tessera_fake.mint("bob", permissions=["document:read"]))
        assert client.check("document:read", Resource("document", id="1"), principal=who)
        assert not client.check("document:delete", "document", principal=who)
        tessera_fake.grant("bob", "invoice:*")
        answers = client.check_batch(
            [Check("invoice:approve"), Check("report:read")], principal=who
        )
        assert [a.allowed for a in answers] == [True, False]
        assert client.explain("invoice:approve", principal=who).allowed
        assert client.fields("document", principal=who).can_read("title")
        assert not client.fields("document", principal=who).can_write("title")
        tessera_fake.revoke("bob", "document:read")
        assert not client.check("document:read", principal=who)
        tessera_fake.set_roles("bob", ["auditor"])
        assert client.me(principal=who).roles == ("auditor",)
        tessera_fake.logout(who.token)
        with pytest.raises(TesseraUnauthenticated):
            client.check("invoice:approve", principal=who)


def test_down_means_unavailable_and_reset_forgets(tessera_fake: FakeTessera):
    with tessera_fake.client() as client:
        who = client.verify_token(tessera_fake.mint("carol", permissions=["*:*"]))
        assert client.check("anything:at_all", principal=who)
        tessera_fake.down = True
        with pytest.raises(TesseraUnavailable):
            client.check("anything:at_all", principal=who)
        tessera_fake.reset()
        assert not tessera_fake.down and tessera_fake.requests == []
        assert not client.check("anything:at_all", principal=who)


def test_a_principal_without_a_client(tessera_fake: FakeTessera):
    principal = tessera_fake.principal("dan", roles=["admin"], tenant_id="t-9")
    assert principal.tenant_id == "t-9" and principal.has_role("admin")
