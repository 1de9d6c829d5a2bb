from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OperationsConfig(AppConfig):
    name = "yizhan.operations"
    verbose_name = _("Outlet operations")

    def ready(self):
        from yizhan.core.nav import NavItem, register, register_panel
        from yizhan.operations.panels import operations_panel

        register(NavItem("operations_status", _("Operating status"), "operations:status_list", order=40))
        register(NavItem("operations_health", _("Daily health report"), "operations:health_report", order=41))
        register(
            NavItem("operations_health_units", _("Report completeness"), "operations:health_units", order=42)
        )
        register(
            NavItem("operations_rectifications", _("Rectifications"), "operations:rectifications", order=43)
        )
        register(NavItem("operations_plans", _("Contingency plans"), "operations:plans", order=44))
        register(NavItem("operations_dashboard", _("Operations dashboard"), "operations:dashboard", order=45))
        register_panel("operations", operations_panel, order=40)
