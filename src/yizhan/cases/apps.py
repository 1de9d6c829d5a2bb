from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "yizhan.cases"
    verbose_name = _("Service cases")

    def ready(self):
        from yizhan.cases.panels import cases_panel, unit_cases_panel
        from yizhan.core.nav import NavItem, register, register_panel, register_unit_panel

        register(NavItem("cases", _("Service cases"), "cases:case_list", order=65))
        register_panel("cases", cases_panel, order=65)
        register_unit_panel("cases", unit_cases_panel, order=65)
