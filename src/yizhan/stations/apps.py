from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _seed(sender, **kwargs):
    from yizhan.stations.seeding import seed_all

    seed_all()


class StationsConfig(AppConfig):
    name = "yizhan.stations"
    verbose_name = _("Stations")

    def ready(self):
        from yizhan.core.nav import NavItem, register

        post_migrate.connect(_seed, sender=self, dispatch_uid="yizhan.stations.seed")
        from yizhan.jobs.services import register_kind

        register_kind("station_import", _("Station import"))
        register_kind("holiday_import", _("Holiday calendar import"))
        register(NavItem("stations", _("Stations"), "stations:list", order=20))
        register(NavItem("station_reports", _("Coverage and compliance"), "stations:report", order=25))
