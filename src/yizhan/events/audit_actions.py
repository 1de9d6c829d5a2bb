"""Labels for the audit events of events, sign-ups, campaigns and offers (yizhan.audit.registry)."""

from django.utils.translation import gettext_lazy as _

from yizhan.audit.registry import register


def _states() -> dict:
    from yizhan.events.models import TARGET_GROUPS, Kind, Source, State, Topic

    # Topics first: "anti_fraud" is also an event kind, whose label wins.
    return {**dict(Topic.choices), **dict(State.choices), **dict(Kind.choices), **dict(Source.choices),
            **dict(TARGET_GROUPS)}  # fmt: skip


register(
    {
        "events.event_created": _("Event created"),
        "events.event_updated": _("Event changed"),
        "events.event_reported": _("Event report written"),
        "events.occurrence_added": _("Event occurrence added"),
        "events.occurrence_updated": _("Event occurrence changed"),
        "events.signed_up": _("Signed up for an event"),
        "events.offered": _("Waiting-list place offered"),
        "events.offer_accepted": _("Waiting-list place accepted"),
        "events.offer_expired": _("Waiting-list offer expired"),
        "events.cancelled": _("Event sign-up cancelled"),
        "events.scanned": _("Ticket scanned"),
        "events.attendance_marked": _("Attendance marked"),
        "events.walk_in": _("Walk-in recorded"),
        "events.messaged": _("Participants messaged"),
        "events.campaign_created": _("Campaign created"),
        "events.campaign_updated": _("Campaign changed"),
        "events.offer_created": _("Group offer created"),
        "events.offer_updated": _("Group offer changed"),
        "events.ambassador_enrolled": _("Consumer-protection ambassador enrolled"),
        "events.outreach_recorded": _("What an ambassador passed on recorded"),
        "events.photo_added": _("Event photo added"),
        "events.photo_removed": _("Event photo removed"),
    },
    fields={
        "party": _("people"),
        "attendance": _("attendance"),
        "recipients": _("recipients"),
        "states": _("states"),
        "units": _("participating units"),
        "station": _("station"),
        "source": _("source"),
        "photo": _("photo"),
        "topic": _("topic"),
        "people": _("people reached"),
        "day": _("day"),
        "name": _("name"),
        "affiliation": _("organisation"),
        "campaign": _("campaign"),
    },
    terms=_states,
)
