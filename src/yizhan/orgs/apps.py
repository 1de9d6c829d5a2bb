from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "yizhan.orgs"
    verbose_name = _("Organisation")

    def ready(self):
        from yizhan.core.nav import NavItem, register

        register(NavItem("home", _("Home"), "orgs:home", order=0))
        register(NavItem("units", _("Units"), "orgs:unit_list", order=10))
        register(NavItem("staff", _("Staff"), "orgs:staff_list", order=80, perm="admin"))
        register(NavItem("audit", _("Audit log"), "audit:list", order=90))
        register(NavItem("tokens", _("API tokens"), "orgs:token_list", order=95))
