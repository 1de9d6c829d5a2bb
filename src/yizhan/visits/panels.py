from django.urls import reverse
from django.utils.translation import gettext as _

from yizhan.orgs.scoping import scoped
from yizhan.visits.models import Feedback


def feedback_panel(request):
    """Open and overdue feedback in the user's subtree, on the back-office home page."""
    feedback = scoped(request.user, Feedback)
    open_count = feedback.open().count()
    if not open_count:
        return None
    overdue = feedback.overdue().count()
    url = reverse("visits:feedback_queue")
    rows = [{"label": _("Open feedback"), "value": open_count, "url": url, "alert": False}]
    if overdue:
        rows.append({"label": _("Overdue"), "value": overdue, "url": f"{url}?status=overdue", "alert": True})
    return {"title": _("Feedback queue"), "rows": rows}
