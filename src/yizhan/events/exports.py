"""An event's participants as xlsx (formula-safe, phones masked)."""

from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.core.tabular import write_xlsx
from yizhan.events.models import Registration, State, group_label


def event_xlsx(event) -> bytes:
    headers = [_("station"), _("starts at"), _("confirmation code"), _("name or nickname"), _("phone"),
               _("people"), _("state"), _("source"), _("group"), _("organisation"), _("hours"), _("attended at")]  # fmt: skip
    regs = (
        Registration.objects.filter(occurrence__event=event)
        .select_related("occurrence__station")
        .order_by("occurrence__starts_at", "pk")
    )

    def rows():
        for r in regs.iterator():
            yield [
                r.occurrence.station.name,
                timezone.localtime(r.occurrence.starts_at).strftime("%Y-%m-%d %H:%M"),
                r.code, r.name, r.masked_phone, r.party, State(r.state).label, r.get_source_display(),
                group_label(r.group) if r.group else "", r.affiliation, float(r.hours) if r.hours is not None else "",
                timezone.localtime(r.attended_at).strftime("%Y-%m-%d %H:%M") if r.attended_at else "",
            ]  # fmt: skip

    return write_xlsx({_("participants"): (headers, rows())})


def summary_xlsx(unit, rows: list[dict]) -> bytes:
    """Per unit directly below `unit`: events, occurrences, signed up, attended, volunteer hours."""
    keys = ["events", "occurrences", "signed_up", "attended", "hours"]
    headers = [_("unit code"), _("unit"), _("events"), _("occurrences"), _("signed up"), _("attended"),
               _("volunteer hours")]  # fmt: skip

    def lines():
        for row in rows:
            yield [
                row["unit"].code,
                row["unit"].display_name,
                *[float(row[k]) if k == "hours" else row[k] for k in keys],
            ]
        yield [
            "",
            _("Total"),
            *[float(sum(r[k] for r in rows)) if k == "hours" else sum(r[k] for r in rows) for k in keys],
        ]

    return write_xlsx({unit.display_name: (headers, lines())})
