from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


def _station_data_written(**_kwargs):
    from django.db import transaction

    from yizhan.locator.loading import mark_stale

    # After the commit, so that the next request reads the new version, not the old one again.
    transaction.on_commit(mark_stale)


class LocatorConfig(AppConfig):
    name = "yizhan.locator"
    verbose_name = _("Public locator")

    def ready(self):
        from django.core.signals import setting_changed
        from django.db.models.signals import m2m_changed, post_delete, post_save

        from yizhan.locator.loading import settings_changed
        from yizhan.stations.models import HolidayDate, HolidayYear, Station, StationFacility

        # This process's own writes refresh its index on the next request; other processes notice
        # the data version within YIZHAN_LOCATOR_REFRESH_MS.
        for model in (Station, StationFacility, HolidayDate, HolidayYear):
            post_save.connect(
                _station_data_written, sender=model, dispatch_uid=f"locator.stale.save.{model.__name__}"
            )
            post_delete.connect(
                _station_data_written, sender=model, dispatch_uid=f"locator.stale.delete.{model.__name__}"
            )
        m2m_changed.connect(
            _station_data_written, sender=Station.themes.through, dispatch_uid="locator.stale.themes"
        )
        setting_changed.connect(settings_changed, dispatch_uid="locator.settings_changed")
        from yizhan.core.nav import NavItem, register

        register(NavItem("places", _("Gazetteer"), "locator:places", order=27))
        register(NavItem("busy", _("Busy now"), "locator:busy", order=28))
