"""One world of the differential test: tenants, members, sessions, tokens and API keys, built
twice (suffix `a` and `b`) so that each path answers a world of its own with the same history.

A world names everything it holds by a symbol (`member`, `key_ip`, …); `normalise` turns its
concrete ids, emails and slugs back into those symbols, so the answers of two worlds compare.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.utils import timezone

from tessera.authn.api_keys import api_key_create, api_key_revoke
from tessera.authn.sessions import session_create, session_revoke, session_tokens_issue
from tessera.scim.models import ScimGroup, ScimGroupMember, ScimUser
from tessera.scim.tokens import scim_token_create, scim_token_revoke
from tessera.tenancy.models import MembershipStatus
from tessera.tenancy.services import membership_set_status
from tests.factories import make_member, make_tenant

MISSING_USER_ID = "00000000-0000-4000-8000-00000000dead"
# a sane X-Request-ID some requests send: echoed back by both paths
FIXED_REQUEST_ID = "fixed-request-id-0001"


def _forged(token: str) -> str:
    head, _, signature = token.rpartition(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return f"{head}.{flipped}"


@dataclass
class World:
    suffix: str
    client_ip: str
    headers: dict[str, dict[str, str]] = field(default_factory=dict)  # credential → headers
    refresh: dict[str, str] = field(default_factory=dict)  # symbol → raw refresh token
    subjects: dict[str, str] = field(default_factory=dict)  # symbol → user id
    tenants: dict[str, str] = field(default_factory=dict)  # symbol → slug
    symbols: dict[str, str] = field(default_factory=dict)  # concrete text → symbol
    sessions: dict[str, object] = field(default_factory=dict)
    keys: dict[str, object] = field(default_factory=dict)
    memberships: dict[str, object] = field(default_factory=dict)
    scim_tokens: dict[str, object] = field(default_factory=dict)

    def name(self, symbol: str, concrete) -> None:
        self.symbols[str(concrete)] = f"<{symbol}>"

    def normalise(self, text: str) -> str:
        for concrete in sorted(self.symbols, key=len, reverse=True):
            text = text.replace(concrete, self.symbols[concrete])
        return text

    # --- changes between requests ---------------------------------------------------------------

    def revoke_session(self, symbol: str) -> None:
        session_revoke(session=self.sessions[symbol], reason="logout")

    def revoke_key(self, symbol: str) -> None:
        api_key_revoke(key=self.keys[symbol])

    def revoke_scim_token(self, symbol: str) -> None:
        scim_token_revoke(token=self.scim_tokens[symbol])

    def suspend(self, symbol: str) -> None:
        membership_set_status(
            membership=self.memberships[symbol], status=MembershipStatus.SUSPENDED
        )


def _member(world: World, symbol: str, tenant, roles=("member",)):
    membership = make_member(
        tenant, f"{symbol}@{tenant.slug}.test", roles=list(roles), password=None
    )
    world.memberships[symbol] = membership
    world.subjects[symbol] = str(membership.user_id)
    world.name(f"{symbol}.user", membership.user_id)
    world.name(f"{symbol}.membership", membership.pk)
    world.name(f"{symbol}.email", membership.user.email)
    return membership


def _session(world: World, symbol: str, membership, **kwargs) -> str:
    """A session of `membership`; its access token is the credential `symbol`."""
    now = kwargs.pop("now", None) or timezone.now()
    session = session_create(
        user=membership.user,
        tenant=membership.tenant,
        membership=membership,
        ip="127.0.0.1",
        now=now,
        **kwargs,
    )
    tokens = session_tokens_issue(session=session, now=now)
    world.sessions[symbol] = session
    world.name(f"{symbol}.session", session.pk)
    world.headers[symbol] = {"Authorization": f"Bearer {tokens.access_token}"}
    world.refresh[symbol] = tokens.refresh_token
    return tokens.access_token


def _key(world: World, symbol: str, membership, **kwargs) -> None:
    created = api_key_create(
        owner=membership, by=membership, name=symbol, scopes=["user:read"], **kwargs
    )
    world.keys[symbol] = created.key
    world.name(f"{symbol}.id", created.key.pk)
    world.headers[symbol] = {"X-API-Key": created.raw}


def _scim_token(world: World, symbol: str, tenant) -> None:
    created = scim_token_create(tenant=tenant, name=symbol, by=None)
    world.scim_tokens[symbol] = created.token
    world.headers[symbol] = {"Authorization": f"Bearer {created.raw}"}


def _directory(world: World, tenant, member) -> None:
    """What a directory wrote: the member's SCIM row (externalId, document) and a group."""
    ScimUser.objects.create(
        membership=member,
        tenant=tenant,
        external_id="00u-member",
        display_name="Member",
        document={"name": {"givenName": "Mem", "familyName": "Ber"}, "active": True},
    )
    group = ScimGroup.objects.create(tenant=tenant, display_name="Engineering")
    ScimGroupMember.objects.create(group=group, membership=member)
    world.name("engineering.group", group.pk)
    for symbol in ("scim", "scim_later_revoked"):
        _scim_token(world, symbol, tenant)


def world_build(suffix: str, client_ip: str) -> World:
    world = World(suffix=suffix, client_ip=client_ip)
    acme = make_tenant(f"acme-{suffix}")
    slow = make_tenant(f"slow-{suffix}", rate_limits={"api_per_minute": 2})
    globex = make_tenant(f"globex-{suffix}")
    for symbol, tenant in (("acme", acme), ("slow", slow), ("globex", globex)):
        world.tenants[symbol] = tenant.slug
        world.name(f"{symbol}.tenant", tenant.pk)
        world.name(f"{symbol}.slug", tenant.slug)
        world.name(f"{symbol}.name", tenant.name)
    admin = _member(world, "admin", acme, roles=["admin"])
    member = _member(world, "member", acme)
    victim = _member(world, "victim", acme)
    pwchange = _member(world, "pwchange", acme)
    throttled = _member(world, "throttled", slow)
    outsider = _member(world, "outsider", globex, roles=["admin"])

    _session(world, "admin", admin)
    token = _session(world, "member", member)
    world.headers["forged"] = {"Authorization": f"Bearer {_forged(token)}"}
    world.headers["both"] = {"Authorization": f"Bearer {token}", "X-API-Key": "tsk_x"}
    _session(world, "member_later_revoked", member)
    _session(world, "refresh_later_revoked", member)
    _session(world, "refresh_a", member)
    _session(world, "refresh_b", admin)
    _session(world, "victim", victim)
    _session(world, "pwchange", pwchange, password_change_required=True)
    _session(world, "throttled", throttled)
    _session(world, "outsider", outsider)
    _session(world, "expired", member, now=timezone.now() - timedelta(hours=2))
    _session(
        world, "impersonation", member, impersonator=admin.user, lifetime=timedelta(minutes=30)
    )
    _key(world, "key", member)
    _key(world, "key_ip_outside", member, allowed_ips=["10.9.9.9"])
    _key(world, "key_ip_inside", member, allowed_ips=[client_ip])
    _key(world, "key_later_revoked", member)
    _directory(world, acme, member)
    _scim_token(world, "scim_slow", slow)
    _scim_token(world, "scim_outsider", globex)
    world.headers["scim_unknown"] = {"Authorization": "Bearer tscim_abcdefgh_" + "x" * 43}
    world.headers["key_unknown"] = {"X-API-Key": "tsk_" + "x" * 40}
    world.headers["bearer_key_unknown"] = {"Authorization": "Bearer tsk_" + "y" * 40}
    world.headers["garbage"] = {"Authorization": "Bearer not-a-token"}
    world.headers["basic"] = {"Authorization": "Basic YWxpY2U6c2VjcmV0"}
    world.headers["none"] = {}
    world.subjects["missing"] = MISSING_USER_ID
    world.subjects["not_a_uuid"] = "not-a-uuid"
    world.refresh["unknown"] = "r_" + "z" * 40
    return world
