"""A separate server-like process for the cross-process cache test.

Reads lines `MEMBERSHIP_ID ACTION` on stdin and answers `allowed` or `denied` using the normal
decision path (versions from the shared state, compiled policies cached in this process and in
the shared cache). Run with TESSERA_DATABASE_URL / TESSERA_REDIS_URL of the parent's test run.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tessera.settings")
    import django

    django.setup()
    from django.utils import timezone

    from tessera.access.bridge import decisions
    from tessera.engine import Context
    from tessera.tenancy.models import Membership

    print("ready", flush=True)
    for line in sys.stdin:
        membership_id, action = line.split()
        membership = Membership.objects.select_related("tenant").get(pk=membership_id)
        decision = decisions.check(
            membership=membership, action=action, context=Context(now=timezone.now())
        )
        print("allowed" if decision.allowed else "denied", flush=True)


if __name__ == "__main__":
    main()
