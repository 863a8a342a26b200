"""The admin app's configuration: Django's admin with Tessera's site (`tessera.admin_site`).

Apart from the site because INSTALLED_APPS imports this module before the models are loaded,
while the site (which imports the login flow and its models) is built in `ready()`.
"""

from django.contrib.admin.apps import AdminConfig


class TesseraAdminConfig(AdminConfig):
    default_site = "tessera.admin_site.TesseraAdminSite"
