"""Where the engine's subject gets its qualification records: a port the governance layer fills.

`tessera.access` sits below the app that stores qualification records
(`tessera.qualifications`), so it never imports it: that app registers its reader at start-up
(`AppConfig.ready`) and `subject_for` calls it. With nothing registered a member holds no
qualification, so `has_qualification` is false (default deny).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from tessera.engine import Qualification
from tessera.tenancy.models import Membership

QualificationReader = Callable[[Membership, datetime], tuple[Qualification, ...]]

_readers: list[QualificationReader] = []


def qualification_reader_register(reader: QualificationReader) -> None:
    """Install the reader of a member's non-revoked records (called once, at start-up)."""
    if reader not in _readers:
        _readers.append(reader)


def qualifications_of(membership: Membership, *, now: datetime) -> tuple[Qualification, ...]:
    """The member's non-revoked qualification records not yet expired at `now`."""
    found: list[Qualification] = []
    for reader in _readers:
        found.extend(reader(membership, now))
    return tuple(found)
