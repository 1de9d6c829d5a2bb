"""Scheduled work of the green channel."""

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every
from yizhan.remittance.models import CLAIM_TTL, Instruction


def release_lapsed_claims() -> int:
    """A claim lapses after CLAIM_TTL on its own (`claim_active`); this only clears the stale marks
    so lists stop showing a name. Nothing anyone decided changes, so no audit event."""
    lapsed = timezone.now() - CLAIM_TTL
    return Instruction.objects.filter(claimed_at__lt=lapsed).update(claimed_by=None, claimed_at=None)


SCHEDULES = [
    Every(
        "remittance.release_lapsed_claims",
        "yizhan.remittance.jobs.release_lapsed_claims",
        _("Clear green-channel claims that lapsed"),
        minutes=10,
    ),
]
