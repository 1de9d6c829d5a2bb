"""Labels for the audit events of the station registry (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register


def _facility_names() -> dict:
    # Diffs of a station's facilities are keyed "<facility code>.<field>".
    from yizhan.stations.models import Facility

    return {f.code: f.display_name for f in Facility.objects.all()}


def _windows(value) -> str:
    # The whole list is in the event; the display names how many windows the station now follows.
    return str(len(value)) if isinstance(value, list) else str(value)


def _hours(value) -> str:
    from yizhan.stations.hours import describe_hours

    return describe_hours(value) if isinstance(value, dict) else str(value)


register(
    {
        "station.created": _("Station registered"),
        "station.updated": _("Station changed"),
        "station.verified": _("Station checked"),
        "station.operating_status": _("Outlet operating status passed to the station"),
        "standard.created": _("Standard created"),
        "standard.updated": _("Standard changed"),
        "wave.created": _("Roll-out wave created"),
        "wave.updated": _("Roll-out wave changed"),
        "holiday.set": _("Holiday calendar day set"),
        "holiday.removed": _("Holiday calendar day removed"),
        "holiday.year_imported": _("Holiday calendar year imported"),
    },
    fields={
        "outlets": _("outlets"),
        "off": _("public holidays"),
        "work": _("make-up workdays"),
        "source": _("source"),
    },
    formatters={"opening_hours": _hours, "operating_windows": _windows},
    values={"source": {"manual": _("entered by hand"), "import": _("imported file")}},
    terms=_facility_names,
)
register({"station.facility_set": _("Facility state set")}, model="stations.stationfacility")
