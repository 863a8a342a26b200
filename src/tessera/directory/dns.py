"""DNS TXT look-ups for domain verification, behind a port tests replace.

`settings.DIRECTORY_TXT_RESOLVER` names a callable `(name: str) -> list[str]` (dotted path);
the default asks the system's DNS through dnspython. A resolver answers the TXT strings found
at `name`, `[]` when there are none, and raises `TxtLookupFailed` when DNS cannot answer.
"""

from __future__ import annotations

from collections.abc import Callable

import dns.exception
import dns.resolver
from django.conf import settings
from django.utils.module_loading import import_string

TxtResolver = Callable[[str], list[str]]
DEFAULT_RESOLVER = "tessera.directory.dns.dns_txt_records"
LOOKUP_SECONDS = 5.0


class TxtLookupFailed(RuntimeError):
    """DNS did not answer (timeout, no server): not the same as "no such record"."""


def dns_txt_records(name: str) -> list[str]:
    """The TXT strings at `name` from the system's resolver (each record's strings joined)."""
    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=LOOKUP_SECONDS)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
        return []
    except dns.exception.DNSException as exc:
        raise TxtLookupFailed(str(exc)) from None
    records = []
    for rdata in answer:
        strings = getattr(rdata, "strings", ())
        records.append(b"".join(strings).decode("utf-8", "replace"))
    return records


def txt_resolver() -> TxtResolver:
    """The configured resolver."""
    return import_string(getattr(settings, "DIRECTORY_TXT_RESOLVER", DEFAULT_RESOLVER))
