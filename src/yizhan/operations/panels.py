"""The home page's operations panel: what waits today in the user's subtree (for an outlet
manager, at their outlet), each row one tap from its page."""

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.operations.models import HealthDay, OperatingStatus, Rectification
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import scoped


def operations_panel(request):
    scope = request.scope
    now, today = timezone.now(), timezone.localdate()
    unit = Unit.objects.filter(pk=scope.unit_id).first()
    if unit is None:
        return None
    rows = []
    if unit.is_outlet:
        from yizhan.locator.services import operating_label
        from yizhan.stations.hours import StatusWindow

        current = OperatingStatus.objects.in_force(now).filter(unit=unit).first()
        label = _("Open as usual")
        if current is not None and current.state != "open":
            label = operating_label(
                StatusWindow(
                    0, None, False, current.state, current.counter_windows, current.self_service_24h, ""
                )
            )
        rows.append(
            {
                "label": _("Operating status"),
                "value": label,
                "url": reverse("operations:outlet_status", args=[unit.code]),
                "alert": current is not None and current.is_closed,
            }
        )
    else:
        closed = scoped(scope, OperatingStatus).in_force(now).exclude(state="open").count()
        if closed:
            rows.append(
                {
                    "label": _("Outlets closed or limited now"),
                    "value": closed,
                    "url": reverse("operations:status_list"),
                    "alert": False,
                }
            )
    day = HealthDay.objects.filter(unit=unit, day=today).aggregate(
        e=Sum("expected"), o=Sum("on_time"), late=Sum("late")
    )
    if day["e"]:
        missing = max(day["e"] - (day["o"] or 0) - (day["late"] or 0), 0)
        rows.append(
            {
                "label": _("Daily health reports missing today"),
                "value": f"{missing} / {day['e']}",
                "url": reverse("operations:health_units") + f"?unit={unit.code}",
                "alert": missing > 0,
            }
        )
    pending = scoped(scope, Rectification).pending()
    overdue = pending.overdue(today).count()
    open_count = pending.count()
    if open_count:
        rows.append(
            {
                "label": _("Rectifications not closed (overdue)"),
                "value": f"{open_count} ({overdue})",
                "url": reverse("operations:rectifications"),
                "alert": overdue > 0,
            }
        )
    return {"title": _("Outlet operations"), "rows": rows} if rows else None
