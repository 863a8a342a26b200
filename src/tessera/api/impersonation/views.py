"""/api/v1/auth/impersonate and /impersonate/end: audited impersonation for support.

Thin transport over `tessera.authn.impersonation`. The answer of `impersonate` is the login
answer for the impersonated member in the caller's tenant (its `memberships` name that tenant
only: the person's other tenants are none of the impersonator's business); its access token
carries `act: {"sub": <impersonator's user id>}`.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from ninja import Router

from tessera.access.bridge.guard import authorize, require_member
from tessera.api.auth.outputs import session_answer
from tessera.api.impersonation.inputs import ImpersonateIn
from tessera.api.impersonation.outputs import ImpersonationEndedOut, ImpersonationOut
from tessera.api.problems import Problem
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.authn.impersonation import (
    impersonation_end,
    impersonation_ensure_enabled,
    impersonation_start,
)
from tessera.tenancy.selectors import membership_get

router = Router(tags=["auth"])


ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
NO_STORE = "no-store"


@router.post(
    "/impersonate",
    auth=principal_auth,
    response={200: ImpersonationOut, **ERRORS},
    summary="Act as another member of this tenant (support), with a reason, for a limited time",
    description=(
        "Needs `user:impersonate`, which no one holds while the tenant setting "
        "`impersonation.enabled` is false (the default; 403 `impersonation_disabled`) — with it "
        "on, `*:*` includes it — and the escalation rule: the member's permissions must lie "
        "within the caller's (403 `target_outranks_you`). `reason` is mandatory (422 "
        "`reason_required`); `minutes` at most the tenant's `impersonation.max_minutes` "
        "(default 30; 422 `duration_too_long`). The answer is the login answer for that member; "
        "its access token carries `act: {sub: <caller>}`, the session shows in the member's "
        "session list, the member is notified on their WebSocket (`impersonation.started`), and "
        "every call made with it is audited with both identities. An impersonation session "
        "cannot change credentials, MFA, API keys or sessions, nor impersonate again (403 "
        "`impersonation_forbidden`)."
    ),
)
def impersonate(request, response: HttpResponse, payload: ImpersonateIn):
    member = require_member(request)
    impersonation_ensure_enabled(request.tenant)
    authorize(request, "user:impersonate")
    started = impersonation_start(
        impersonator=member,
        target=membership_get(tenant=request.tenant, user_id=payload.user_id),
        reason=payload.reason,
        minutes=payload.minutes,
        session_id=request.principal.session_id,
        actor=actor_from_request(request),
    )
    response["Cache-Control"] = NO_STORE
    answer = session_answer(
        started.tokens,
        user=started.target.user,
        tenant=request.tenant,
        password_change_required=False,
    )
    tenant_id = str(request.tenant.pk)
    answer["memberships"] = [m for m in answer["memberships"] if m["tenant"]["id"] == tenant_id]
    return {
        **answer,
        "impersonator_id": str(member.user_id),
        "impersonation_ends_at": started.ends_at,
        "reason": started.tokens.session.impersonation_reason,
    }


@router.post(
    "/impersonate/end",
    auth=principal_auth,
    response={200: ImpersonationEndedOut, 401: Problem, 409: Problem},
    summary="End the impersonation this token belongs to",
    description=(
        "Called with the impersonation session's token: the session and its refresh tokens end "
        "at once, the member is notified (`impersonation.ended`) and the end is audited. 409 "
        "`not_impersonating` with any other credential."
    ),
)
def impersonate_end(request):
    session = impersonation_end(
        session_id=request.principal.session_id, actor=actor_from_request(request)
    )
    return {"session_id": str(session.pk), "ended_at": session.revoked_at or timezone.now()}
