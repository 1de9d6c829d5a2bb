from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VisitsConfig(AppConfig):
    name = "yizhan.visits"
    verbose_name = _("Visits and feedback")

    def ready(self):
        from yizhan.core.nav import NavItem, register

        register(NavItem("visits", _("Visits"), "visits:statistics", order=40))
        register(NavItem("feedback", _("Feedback"), "visits:feedback_queue", order=41))
        register(NavItem("posters", _("QR posters"), "visits:posters", order=42))

        from yizhan.core.nav import register_panel
        from yizhan.visits.panels import feedback_panel

        register_panel("feedback", feedback_panel, order=40)
