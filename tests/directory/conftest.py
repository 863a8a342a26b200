"""A fake DNS for domain verification: `dns_records["name"] = ["value", ...]`."""

from __future__ import annotations

import pytest

from tessera.directory.dns import TxtLookupFailed

RECORDS: dict[str, list[str] | Exception] = {}


def fake_txt_records(name: str) -> list[str]:
    found = RECORDS.get(name, [])
    if isinstance(found, Exception):
        raise found
    return list(found)


@pytest.fixture
def dns_records(settings):
    settings.DIRECTORY_TXT_RESOLVER = "tests.directory.conftest.fake_txt_records"
    RECORDS.clear()
    yield RECORDS
    RECORDS.clear()


@pytest.fixture
def dns_down(dns_records):
    def down(name: str) -> None:
        dns_records[name] = TxtLookupFailed("timeout")

    return down
