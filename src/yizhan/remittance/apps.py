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

        from yizhan.core.nav import register_panel
        from yizhan.remittance.panels import green_channel_panel

        register_panel("remittance", green_channel_panel, order=60)

        from yizhan.jobs.services import register_kind

        register_kind("remittance_import", _("Remittance import"))
