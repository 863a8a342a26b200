# The trigram indexes of the member search (0002) without GIN's pending list, on PostgreSQL only.
#
# With `fastupdate` on (PostgreSQL's default) new entries wait in an unsorted pending list until a
# VACUUM or 4 MB of them; every search reads that whole list. After a bulk import of members a
# search for a rare term took 70 ms instead of under 1 ms until autovacuum came by (decision 0022).
# Off, each new identity writes its trigrams straight into the index: a slightly slower insert
# (people are added far less often than searched), and a search that costs the same at any time.

from django.db import migrations

INDEXES = (
    "tenancy_search_user_email_trgm",
    "tenancy_search_user_first_name_trgm",
    "tenancy_search_user_last_name_trgm",
)


def _no_pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} SET (fastupdate = off)")
        # what already waits in the list moves into the index now
        schema_editor.execute("SELECT gin_clean_pending_list(%s::regclass)", [index])


def _pending_list(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in INDEXES:
        schema_editor.execute(f"ALTER INDEX {index} RESET (fastupdate)")


class Migration(migrations.Migration):
    dependencies = [("tenancy", "0003_invitation")]

    operations = [migrations.RunPython(_no_pending_list, _pending_list, elidable=False)]
