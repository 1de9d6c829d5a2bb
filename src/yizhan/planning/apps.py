from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlanningConfig(AppConfig):
    name = "yizhan.planning"
    verbose_name = _("Planning")

    def ready(self):
        from yizhan.core.nav import NavItem, register
        from yizhan.locator.signals import searched
        from yizhan.planning.services import note_search

        searched.connect(note_search, dispatch_uid="planning.note_search")
        register(
            NavItem("planning", _("Coverage gaps and next outlets"), "planning:index", order=29, perm="admin")
        )
