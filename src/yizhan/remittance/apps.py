from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RemittanceConfig(AppConfig):
    name = "yizhan.remittance"
    verbose_name = _("Remittance green channel")

    def ready(self):
        from yizhan.core.nav import NavItem, register

        register(NavItem("remittance", _("Green channel"), "remittance:batch_list", order=60))
        register(
            NavItem("remittance_rules", _("Screening rules"), "remittance:rules", order=61, perm="hq_admin")
        )
