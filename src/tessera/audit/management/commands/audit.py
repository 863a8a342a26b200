"""`tessera audit verify | archive | verify-archive | partitions`: the audit trail's tools.

- `verify [--tenant SLUG]`: detect altered or removed audit events (walks every hash chain).
- `archive --before DATE [--out DIR] [--gzip]`: move whole months before DATE into JSON Lines
  files (plus a manifest), then drop them from the database — unless a tenant's retention or
  legal hold still needs them (tessera.privacy.audit_retention).
- `verify-archive DIR`: check an archive's files and hash chains against its manifest.
- `partitions [--ensure] [--months-ahead N]`: list (or create) the monthly partitions.
"""

from datetime import date
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tessera.audit.archive import MANIFEST, ArchiveRefused
from tessera.audit.archive_verify import audit_archive_verify
from tessera.audit.models import AuditChain
from tessera.audit.partitions import audit_is_partitioned, audit_partitions, audit_partitions_ensure
from tessera.audit.selectors import audit_chain_verify
from tessera.privacy.audit_retention import audit_archive_run
from tessera.tenancy.models import Tenant


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--before: {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = "Audit trail tools: verify, archive, verify-archive, partitions."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        verify = sub.add_parser("verify", help="verify the hash chains")
        verify.add_argument("--tenant", help="only this tenant's chain (slug)")
        archive = sub.add_parser("archive", help="archive and drop whole months before a date")
        archive.add_argument("--before", required=True, help="YYYY-MM-DD (rounded to its month)")
        archive.add_argument("--out", default="audit-archive", help="directory for the files")
        archive.add_argument("--gzip", action="store_true", help="compress the files")
        check = sub.add_parser("verify-archive", help="verify an archive directory")
        check.add_argument("directory")
        partitions = sub.add_parser("partitions", help="list the monthly partitions")
        partitions.add_argument("--ensure", action="store_true", help="create the next months")
        partitions.add_argument("--months-ahead", type=int, default=3)

    def handle(self, *args, action, **options):
        if action == "verify":
            self._verify(options.get("tenant"))
        elif action == "archive":
            self._archive(_date(options["before"]), Path(options["out"]), options["gzip"])
        elif action == "verify-archive":
            self._verify_archive(Path(options["directory"]))
        else:
            self._partitions(options["ensure"], options["months_ahead"])

    def _verify(self, tenant):
        if tenant:
            found = Tenant.objects.filter(slug=tenant).first()
            if found is None:
                raise CommandError(f"unknown tenant {tenant!r}")
            keys = [str(found.pk)]
        else:
            keys = list(AuditChain.objects.order_by("key").values_list("key", flat=True))
        broken = 0
        for key in keys:
            report = audit_chain_verify(key=key)
            if report.valid:
                self.stdout.write(f"ok      {key}: {report.checked} events")
            else:
                broken += 1
                self.stdout.write(
                    f"BROKEN  {key}: at event {report.first_broken} ({report.reason}), "
                    f"{report.checked} checked"
                )
        if broken:
            raise CommandError(f"{broken} chain(s) broken")

    def _archive(self, before: date, out: Path, compress: bool):
        try:
            result = audit_archive_run(before=before, out_dir=out, compress=compress)
        except ArchiveRefused as exc:
            raise CommandError(f"archive refused: {exc}") from None
        for archived in result.files:
            self.stdout.write(f"{archived.name}: {archived.count} events")
        self.stdout.write(
            f"archived {result.total} events of {len(result.chains)} chain(s) before "
            f"{result.cutoff:%Y-%m-%d} to {out}"
        )

    def _verify_archive(self, directory: Path):
        if not (directory / MANIFEST).is_file():
            raise CommandError(f"no {MANIFEST} in {directory}: not an audit archive")
        checked, problems = audit_archive_verify(directory)
        for problem in problems:
            self.stdout.write(f"BROKEN  {problem}")
        if problems:
            raise CommandError(f"{len(problems)} problem(s) in {directory}")
        self.stdout.write(f"ok      {directory}: {checked} events")

    def _partitions(self, ensure: bool, months_ahead: int):
        if not audit_is_partitioned():
            self.stdout.write("the audit table is not partitioned (SQLite)")
            return
        if months_ahead < 0:
            raise CommandError("--months-ahead must not be negative")
        if ensure:
            for name in audit_partitions_ensure(months_ahead=months_ahead):
                self.stdout.write(f"created {name}")
        for partition in audit_partitions():
            self.stdout.write(
                f"{partition.name}: {partition.start:%Y-%m-%d} to {partition.end:%Y-%m-%d}"
            )
