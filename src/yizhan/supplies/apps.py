from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SuppliesConfig(AppConfig):
    name = "yizhan.supplies"
    verbose_name = _("Supplies")

    def ready(self):
        from yizhan.core.nav import NavItem, register

        register(NavItem("supplies", _("Supplies"), "supplies:balances", order=55))
