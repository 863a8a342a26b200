"""scim2-tester's every check against a real `tessera serve` process (SQLite, as `make run`).

The tenant, its administrator and the SCIM credential are made as an operator would: `tessera
init`, then `POST /api/v1/scim-tokens` with the administrator's access token. The checker
discovers the service (ServiceProviderConfig, ResourceTypes, Schemas), then creates, reads,
replaces, patches and deletes Users and Groups with every attribute their schemas publish.
"""

from __future__ import annotations

import uuid
from typing import Annotated

import httpx
import httpx2
import pytest
from pydantic import Field
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import Group, ResourceType, ScimProvider, User
from scim2_models.annotations import Required, Uniqueness
from scim2_tester import Status, check_server

from tessera.scim.resources import EnterpriseUser
from tests.e2e.harness import tessera_serve

ADMIN = "admin@example.com"
PASSWORD = "a long admin passphrase 42"

pytestmark = [pytest.mark.e2e]


class _FreshAddresses(list):
    """The values scim2-tester draws a userName from (`random.choice` of a field's examples):
    a new address at every draw. Tessera's userName is an email address, which nothing in a
    SCIM schema can say; the tester's own default (a UUID) would be refused as invalidValue."""

    def __len__(self) -> int:
        return 1_000_000

    def __getitem__(self, index):  # type: ignore[override]
        return f"u{index}-{uuid.uuid4().hex[:8]}@example.com"


class EmailUser(User):
    user_name: Annotated[str | None, Uniqueness.server, Required.true] = Field(
        None, examples=_FreshAddresses()
    )


# what the client knows of the server beyond its discovery documents: userName is an address
CLIENT_PROVIDER = ScimProvider(
    models=[EmailUser, EnterpriseUser, Group],
    resource_types=[
        ResourceType.from_resource(EmailUser[EnterpriseUser]),
        ResourceType.from_resource(Group),
    ],
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    init = ["init", "--tenant", "acme", "--admin-email", ADMIN, "--admin-password", PASSWORD]
    with tessera_serve(
        tmp_path_factory.mktemp("var"),
        # the checker sends ~1,000 requests a run
        extra_env={"TESSERA_RATE_LIMIT_API": "100000/minute"},
    ) as running:
        running.command(*init)
        yield running.base


@pytest.fixture(scope="module")
def scim_token(server):
    login = httpx.post(
        f"{server}/api/v1/auth/login",
        json={"email": ADMIN, "password": PASSWORD, "tenant": "acme"},
        timeout=30,
    )
    assert login.status_code == 200, login.text
    created = httpx.post(
        f"{server}/api/v1/scim-tokens",
        json={"name": "conformance"},
        headers={"Authorization": f"Bearer {login.json()['access_token']}"},
        timeout=30,
    )
    assert created.status_code == 201, created.text
    return created.json()["token"]


def test_scim2_tester_passes_every_check(server, scim_token):
    http = httpx2.Client(
        base_url=f"{server}/scim/v2",
        headers={"Authorization": f"Bearer {scim_token}"},
        timeout=30,
    )
    with http:
        results = check_server(SyncSCIMClient(http, provider=CLIENT_PROVIDER))
    assert len(results) > 100  # discovery, then CRUD, search and PATCH of Users and Groups
    passing = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}
    failed = [f"{r.title}: {r.status.name} {r.reason}" for r in results if r.status not in passing]
    assert failed == []


def test_a_refused_credential_gets_scim_errors(server):
    answer = httpx.get(
        f"{server}/scim/v2/Users", headers={"Authorization": "Bearer tscim_nope_nope"}, timeout=30
    )
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/scim+json"
    assert answer.json()["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"]
