"""The home page's operations panel. An outlet manager's home is the workbench of their outlet
(today's status, stations, check-ins, facilities, feedback, checklist, disinfection, health
reports, rectifications — each one tap from its page); a province's, city's or sub-branch's staff
get the same figures as a table of their outlets, worst first; head office the summary."""

from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.operations import workbench
from yizhan.operations.models import HealthDay, OperatingStatus, Rectification
from yizhan.orgs.models import Unit, UnitKind
from yizhan.orgs.scoping import scoped

HOME_TABLE_ROWS = 15


def operations_panel(request):
    scope = request.scope
    now, today = timezone.now(), timezone.localdate()
    unit = Unit.objects.filter(pk=scope.unit_id).first()
    if unit is None:
        return None
    if unit.is_outlet:
        figures = workbench.figures([unit], now)[unit.pk]
        return {"title": _("Today at my outlet"), "rows": workbench.outlet_rows(figures)}
    rows = []
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
    panel = {"title": _("Outlet operations"), "rows": rows}
    if unit.kind != UnitKind.HEAD_OFFICE:
        panel["table"] = workbench.table(unit, now, limit=HOME_TABLE_ROWS)
        panel["title"] = _("Today in my outlets")
    return panel if rows or panel.get("table", {}).get("rows") else None
