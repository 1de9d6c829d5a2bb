from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "yizhan.events"
    verbose_name = _("Events and campaigns")

    def ready(self):
        from yizhan.core.nav import NavItem, register
        from yizhan.events.views import checkin_section, station_section
        from yizhan.locator import sections
        from yizhan.visits import sections as checkin_sections

        register(NavItem("events", _("Events"), "events:manage_list", order=50))
        register(NavItem("campaigns", _("Campaigns"), "events:campaigns", order=51))
        register(NavItem("offers", _("Group offers"), "events:offers", order=52))
        sections.register("events", "events/_station_section.html", station_section)
        checkin_sections.register("events", "events/_checkin_offers.html", checkin_section)
