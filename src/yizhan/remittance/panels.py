from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.orgs.scoping import scoped
from yizhan.remittance.models import Batch, Instruction, State


def green_channel_panel(request):
    """Instructions still open in the user's subtree, per batch whose deadline has not long passed."""
    rows = []
    recent = timezone.now() - timezone.timedelta(days=30)
    for batch in scoped(request.user, Batch).filter(deadline__gte=recent).order_by("deadline")[:5]:
        still_open = scoped(request.user, Instruction).filter(batch=batch).exclude(state=State.DECIDED)
        flagged = still_open.filter(flagged=True).count()
        if not flagged:
            continue
        rows.append(
            {
                "label": _("%(batch)s: still to look at (deadline %(deadline)s)")
                % {
                    "batch": batch.name,
                    "deadline": timezone.localtime(batch.deadline).strftime("%Y-%m-%d %H:%M"),
                },
                "value": flagged,
                "url": reverse("remittance:worklist", args=[batch.pk]),
                "alert": batch.is_overdue,
            }
        )
    return {"title": _("Remittance green channel"), "rows": rows} if rows else None
