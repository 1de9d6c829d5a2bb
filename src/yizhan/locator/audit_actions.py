"""Labels for the audit events of the gazetteer (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register
from yizhan.locator.models import PlaceKind

register(
    {
        "place.created": _("Place added to the gazetteer"),
        "place.updated": _("Gazetteer place changed"),
        "place.deleted": _("Place removed from the gazetteer"),
    },
    values={"kind": {k.value: k.label for k in PlaceKind}},
)
register(
    {
        "station.marked_full": _("Station marked full for an hour"),
        "station.full_cleared": _("Station's full mark taken off"),
    },
    fields={"full_until": _("full until")},
)
