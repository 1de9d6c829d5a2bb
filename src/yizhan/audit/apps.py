from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "yizhan.audit"
    verbose_name = _("Audit")

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        # Each app declares the labels of the actions it records in its audit_actions.py.
        autodiscover_modules("audit_actions")
