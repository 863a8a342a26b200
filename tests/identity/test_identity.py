import threading

import pytest
from django.db import connection

from tessera.errors import Conflict, ValidationFailed
from tessera.identity.emails import normalize_email
from tessera.identity.models import User
from tessera.identity.services import user_create


def test_email_is_normalized_to_one_spelling():
    assert normalize_email("  Alice.Smith@Example.COM ") == "alice.smith@example.com"


@pytest.mark.parametrize("bad", ["", "no-at-sign", "a@b", "two@@example.com", "x" * 250 + "@e.com"])
def test_invalid_emails_are_refused(bad):
    with pytest.raises(ValidationFailed):
        normalize_email(bad)


def test_email_is_unique_case_insensitively(db):
    user_create(email="Bob@Example.test", password="x" * 20)
    with pytest.raises(Conflict):
        user_create(email="bob@EXAMPLE.test")
    assert User.objects.get().email == "bob@example.test"


def test_user_has_no_tenant_field_and_a_uuid_key(db):
    names = {f.name for f in User._meta.get_fields()}
    assert "tenant" not in names
    user = user_create(email="c@example.test")
    assert len(str(user.pk)) == 36
    assert not user.has_usable_password()


def test_only_platform_administrators_are_staff(db):
    plain = user_create(email="p@example.test")
    boss = user_create(email="b@example.test", is_platform_admin=True)
    assert not plain.is_staff and boss.is_staff


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_creates_of_one_email_give_one_user_and_one_conflict():
    results: list[str] = []
    barrier = threading.Barrier(2)

    def create():
        barrier.wait()
        try:
            user_create(email="race@example.test", password="p" * 20)
            results.append("created")
        except Conflict:
            results.append("conflict")
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["conflict", "created"]
    assert User.objects.filter(email="race@example.test").count() == 1
