from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yizhan.orgs.scoping import scoped
from yizhan.remittance.models import UNFINISHED, Batch
from yizhan.remittance.services import count_work


def green_channel_panel(request):
    """Unfinished instructions in the user's subtree, per batch whose deadline has not long passed:
    the same figure (services.count_work) as the batch list and the worklist it links to."""
    rows = []
    recent = timezone.now() - timezone.timedelta(days=30)
    batches = list(scoped(request.user, Batch).filter(deadline__gte=recent).order_by("deadline")[:5])
    counts = count_work(request.user, [b.pk for b in batches])
    for batch in batches:
        unfinished = counts[batch.pk].unfinished if batch.pk in counts else 0
        if not unfinished:
            continue
        rows.append(
            {
                "label": _("%(batch)s: %(what)s (deadline %(deadline)s)")
                % {
                    "batch": batch.name,
                    "what": UNFINISHED,
                    "deadline": timezone.localtime(batch.deadline).strftime("%Y-%m-%d %H:%M"),
                },
                "value": unfinished,
                "url": reverse("remittance:worklist", args=[batch.pk]),
                "alert": batch.is_overdue,
            }
        )
    return {"title": _("Remittance green channel"), "rows": rows} if rows else None
