import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.cases.models import Case
from yizhan.orgs.scoping import scoped


def cases_panel(request):
    """Open and overdue service cases in the user's subtree, on the back-office home page."""
    cases = scoped(request.user, Case)
    open_count = cases.open().count()
    if not open_count:
        return None
    url = reverse("cases:case_list")
    rows = [{"label": _("Open"), "value": open_count, "url": url, "alert": False}]
    overdue = cases.overdue().count()
    if overdue:
        rows.append({"label": _("Overdue"), "value": overdue, "url": f"{url}?status=overdue", "alert": True})
    return {"title": _("Service cases"), "rows": rows}


def unit_cases_panel(request, unit):
    """ "我为群众办实事" this year in the unit's subtree: cases by type, amounts protected."""
    from yizhan.cases.services import figures

    since = timezone.localdate() - datetime.timedelta(days=365)
    data = figures(request.user, unit, since=since)
    if not data["opened"]:
        return None
    url = reverse("cases:case_list") + f"?unit={unit.code}"
    rows = [
        {
            "label": _("%(type)s (closed / opened)") % {"type": row["label"]},
            "value": f"{row['closed']} / {row['opened']}",
            "url": f"{url}&case_type={row['case_type']}&status=all",
            "alert": False,
        }
        for row in data["by_type"]
        if row["opened"]
    ]
    rows.append(
        {
            "label": _("Amount protected (CNY)"),
            "value": f"{data['amount_protected']:,.2f}",
            "url": None,
            "alert": False,
        }
    )
    if data["overdue"]:
        rows.append(
            {"label": _("Overdue"), "value": data["overdue"], "url": f"{url}&status=overdue", "alert": True}
        )
    return {
        "title": _("Doing practical things for the people: the last 12 months"),
        "rows": rows,
    }
