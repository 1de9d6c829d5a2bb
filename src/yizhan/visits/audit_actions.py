"""Labels for the audit events of check-ins, tallies and feedback (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register


def _groups() -> dict:
    # Tally diffs are keyed "<day>.<visitor group>".
    from yizhan.visits.models import Group

    return dict(Group.choices)


register(
    {
        "visits.checkins_deleted": _("Check-ins removed"),
        "visits.tally_set": _("Tally recorded"),
        "visits.rollups_rebuilt": _("Visit rollups rebuilt"),
        "feedback.received": _("Feedback received"),
        "feedback.acknowledged": _("Feedback acknowledged"),
        "feedback.resolved": _("Feedback resolved"),
        "feedback.rejected": _("Feedback rejected"),
    },
    fields={
        "checkins": _("check-ins"),
        "days": _("days"),
        "stations": _("stations"),
        "station": _("station"),
        "photo": _("photo"),
    },
    terms=_groups,
)
