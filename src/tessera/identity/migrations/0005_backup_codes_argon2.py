"""Backup codes move from HMAC-SHA256 to a salted slow hash (Argon2id).

The codes cannot be rehashed (only their HMACs are stored), and leaving the HMACs in place would
keep 60-bit secrets behind a fast hash (ASVS 5.0 6.5.2), so existing backup codes are deleted:
their owners keep their authenticator (TOTP) and see `backup_codes_remaining: 0` in
GET /api/v1/auth/mfa until they ask for new ones (POST /api/v1/auth/mfa/backup-codes/regenerate).
"""

from django.db import migrations, models


def forget_hmac_codes(apps, schema_editor):
    apps.get_model("identity", "BackupCode").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("identity", "0004_identity_ownership"),
    ]

    operations = [
        migrations.RunPython(forget_hmac_codes, migrations.RunPython.noop),
        migrations.AddField(
            model_name="backupcode",
            name="salt",
            field=models.CharField(
                default="", help_text="the batch's random salt (16 bytes), hex", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="backupcode",
            name="params",
            field=models.CharField(
                default="", help_text="Argon2id cost: t=<time>,m=<KiB>,p=<lanes>", max_length=64
            ),
            preserve_default=False,
        ),
        migrations.AlterField(
            model_name="backupcode",
            name="code_hash",
            field=models.CharField(help_text="Argon2id of the code, hex", max_length=64),
        ),
    ]
