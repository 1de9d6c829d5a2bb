import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.orgs.scoping import scoped
from yizhan.training.models import Certificate


def training_panel(request):
    """Certificates of the user's subtree expiring in the next 30 days, on the home page."""
    today = timezone.localdate()
    soon = (
        scoped(request.user, Certificate)
        .filter(
            withdrawn_at__isnull=True,
            expires_on__gte=today,
            expires_on__lte=today + datetime.timedelta(days=30),
        )
        .count()
    )
    if not soon:
        return None
    url = reverse("training:expiring")
    return {
        "title": _("Training and drills"),
        "rows": [
            {"label": _("Certificates expiring within 30 days"), "value": soon, "url": url, "alert": True}
        ],
    }
