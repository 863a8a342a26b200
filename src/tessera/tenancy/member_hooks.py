"""Observers of members joining and moving, filled at start-up by higher layers.

`tessera.tenancy` sits below the apps that react to these moments (the joiner/mover templates of
`tessera.lifecycle`), so it calls this registry instead of importing them. Each observer runs
inside the transaction of the change that caused it, so a failure rolls the change back.

- joined(membership, by, actor): a membership was created (API, bulk import, CLI).
- moved(membership, before, after, actor) -> dict | None: department, job title or manager
  changed (`before`/`after` hold the changed fields); an observer may return what it did, which
  `member_update` records in its one audit event (then of type MEMBER_MOVED).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tessera.audit.services import Actor
from tessera.tenancy.models import Membership

JoinObserver = Callable[[Membership, Membership | None, Actor | None], None]
MoveObserver = Callable[
    [Membership, Mapping[str, Any], Mapping[str, Any], Actor | None], dict[str, Any] | None
]
MOVE_FIELDS = frozenset({"department", "job_title", "manager_id"})

_joined: list[JoinObserver] = []
_moved: list[MoveObserver] = []


def member_join_observer_register(observer: JoinObserver) -> None:
    if observer not in _joined:
        _joined.append(observer)


def member_move_observer_register(observer: MoveObserver) -> None:
    if observer not in _moved:
        _moved.append(observer)


def member_joined(*, membership: Membership, by: Membership | None, actor: Actor | None) -> None:
    for observer in _joined:
        observer(membership, by, actor)


def member_moved(
    *,
    membership: Membership,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    actor: Actor | None,
) -> dict[str, Any]:
    """Run the move observers when a move field changed; what they report, merged."""
    if not MOVE_FIELDS & set(after):
        return {}
    report: dict[str, Any] = {}
    for observer in _moved:
        report.update(observer(membership, before, after, actor) or {})
    return report
