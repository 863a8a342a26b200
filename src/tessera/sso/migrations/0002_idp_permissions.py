from django.db import migrations


def seed(apps, schema_editor):
    from tessera.access.catalog import SYSTEM_PERMISSIONS

    Permission = apps.get_model("access", "Permission")
    for key, description in SYSTEM_PERMISSIONS.items():
        Permission.objects.update_or_create(
            tenant=None, permission=key, defaults={"description": description, "is_system": True}
        )


class Migration(migrations.Migration):
    dependencies = [("sso", "0001_initial"), ("access", "0003_user_export_permission")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
