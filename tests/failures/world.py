"""What the failure tests do over HTTP: sign in, make members, ask for decisions — and a load of
such requests on threads, each recorded with when it was sent and answered."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from tests.failures.processes import PASSWORD

TENANT = "acme"
ADMIN = "admin@example.test"
# a permission the `manager` role gives and `member` does not: the one the tests revoke
GUARDED = "audit_log:read"
TIMEOUT = 30


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def login(base: str, email: str, *, password: str = PASSWORD) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/auth/login",
        json={"email": email, "password": password, "tenant": TENANT},
        timeout=TIMEOUT,
    )


def tokens(base: str, email: str) -> dict:
    answer = login(base, email)
    assert answer.status_code == 200, answer.text
    return answer.json()


def make_member(base: str, admin_token: str, *, roles=("member", "manager")) -> tuple[str, str]:
    """A new active member with a password: (user id, email)."""
    email = f"m-{uuid.uuid4().hex[:10]}@example.test"
    created = httpx.post(
        f"{base}/api/v1/users",
        json={
            "email": email,
            "password": PASSWORD,
            "must_change_password": False,
            "roles": list(roles),
        },
        headers=bearer(admin_token),
        timeout=TIMEOUT,
    )
    assert created.status_code == 201, created.text
    return created.json()["id"], email


def check(base: str, token: str, action: str = GUARDED) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/authz/check",
        json={"action": action},
        headers=bearer(token),
        timeout=TIMEOUT,
    )


def allowed(base: str, token: str, action: str = GUARDED) -> bool:
    answer = check(base, token, action)
    assert answer.status_code == 200, answer.text
    return bool(answer.json()["allowed"])


@dataclass(frozen=True)
class Sample:
    kind: str
    sent: float
    answered: float
    status: int  # 0: no HTTP answer (the error is in `error`)
    allowed: bool | None = None
    error: str = ""
    problem_code: str = ""
    retry_after: str | None = None
    ident: str = ""  # the `id` of what a 2xx answer created


def sample(kind: str, call: Callable[[], httpx.Response], *, decision: bool = False) -> Sample:
    sent = time.monotonic()
    try:
        answer = call()
    except httpx.HTTPError as exc:
        return Sample(kind, sent, time.monotonic(), 0, error=f"{type(exc).__name__}: {exc}")
    answered = time.monotonic()
    body = {}
    if answer.content and "json" in answer.headers.get("content-type", ""):
        found = answer.json()
        body = found if isinstance(found, dict) else {}
    return Sample(
        kind,
        sent,
        answered,
        answer.status_code,
        allowed=body.get("allowed") if decision and answer.status_code == 200 else None,
        problem_code=body.get("code", "") if answer.status_code >= 400 else "",
        retry_after=answer.headers.get("Retry-After"),
        ident=str(body.get("id", "")) if 200 <= answer.status_code < 300 else "",
    )


@dataclass
class Load:
    """Threads repeating their step until `stop()`; every step's samples kept in order."""

    samples: list[Sample] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, found: Sample) -> Sample:
        with self._lock:
            self.samples.append(found)
        return found

    def run(self, step: Callable[[Load], None], *, pause: float = 0.0) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                step(self)
                if pause:
                    self._stop.wait(pause)

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stopping(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> list[Sample]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        with self._lock:
            return list(self.samples)


@dataclass
class RoleToggle:
    """Takes the guarded role away and gives it back, again and again, recording the windows in
    which it is surely gone: from a removal's 2xx to the moment the next assignment is sent
    (whatever that assignment's answer, so an ambiguous one never counts as "gone")."""

    base: str
    admin_token: str
    user_id: str
    windows: list[tuple[float, float]] = field(default_factory=list)

    def step(self, load: Load) -> None:
        removed = load.record(
            sample(
                "role-remove",
                lambda: httpx.delete(
                    f"{self.base}/api/v1/users/{self.user_id}/roles/manager",
                    headers=bearer(self.admin_token),
                    timeout=TIMEOUT,
                ),
            )
        )
        time.sleep(0.1)
        if 200 <= removed.status < 300:
            self.windows.append((removed.answered, time.monotonic()))
        load.record(
            sample(
                "role-assign",
                lambda: httpx.post(
                    f"{self.base}/api/v1/users/{self.user_id}/roles",
                    json={"roles": ["manager"]},
                    headers=bearer(self.admin_token),
                    timeout=TIMEOUT,
                ),
            )
        )
        time.sleep(0.1)

    def wrong_allows(self, samples: list[Sample]) -> list[Sample]:
        """Checks sent after a removal's 2xx, answered before the role came back, that allowed."""
        return [
            s
            for s in samples
            if s.kind == "check"
            and s.allowed
            and any(start <= s.sent and s.answered <= end for start, end in self.windows)
        ]


def checker(base: str, token: str) -> Callable[[Load], None]:
    def step(load: Load) -> None:
        load.record(sample("check", lambda: check(base, token), decision=True))

    return step


def brief(samples: list[Sample]) -> list[tuple]:
    """What an assertion message shows of samples: kind, status, problem code or error."""
    return [(s.kind, s.status, s.problem_code or s.error[:80]) for s in samples]


def server_errors(samples: list[Sample]) -> list[Sample]:
    """Answers a user must never see: 5xx other than a 503 problem, and dropped requests."""
    return [
        s
        for s in samples
        if s.status == 0
        or (s.status >= 500 and not (s.status == 503 and s.problem_code == "service_unavailable"))
    ]
