"""Scheduled work of training: certificates about to expire remind their holder and managers.

Each certificate is reminded once (the notify key names it), however often the job runs; the
reminder names the next session of a course that renews it, and invites the person to it.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

TEMPLATE = "certificate-expiring"


def remind_days() -> int:
    return int(getattr(settings, "YIZHAN_TRAINING_REMIND_DAYS", 30))


def remind_expiring(today: datetime.date | None = None) -> int:
    """Tell the holder (when they have a login) and the managers and admins of their unit about
    each valid certificate expiring within `remind_days()`; returns messages queued."""
    from yizhan.audit.services import audit_via, record
    from yizhan.notify.services import Recipient, notify
    from yizhan.orgs.models import Membership, Role
    from yizhan.training.models import Certificate, Enrolment, Status

    today = today or timezone.localdate()
    last = today + datetime.timedelta(days=remind_days())
    certs = (
        Certificate.objects.filter(withdrawn_at__isnull=True, expires_on__gte=today, expires_on__lte=last)
        .select_related("entry__user", "unit")
        .order_by("expires_on", "pk")
    )
    managers: dict[int, list] = {}
    sent = 0
    for cert in certs.iterator():
        if cert.unit_id not in managers:
            managers[cert.unit_id] = [
                m.user
                for m in Membership.objects.filter(
                    unit_id=cert.unit_id, role__in=[Role.MANAGER, Role.ADMIN], user__is_active=True
                ).select_related("user")
            ]
        users = list(managers[cert.unit_id])
        if cert.entry.user is not None and cert.entry.user.is_active and cert.entry.user not in users:
            users.append(cert.entry.user)
        from yizhan.training.services import next_renewal_session

        session = next_renewal_session(cert, cert.unit, timezone.now())
        with audit_via("system"), transaction.atomic():
            summary = notify(
                [Recipient(unit_id=cert.unit_id, user=u) for u in users],
                TEMPLATE,
                {
                    "person": cert.entry.name,
                    "certificate": cert.name,
                    "expires_on": cert.expires_on.isoformat(),
                    "next_session": (
                        f"{session.course.title} {timezone.localtime(session.starts_at):%Y-%m-%d %H:%M}"
                        if session
                        else "—"
                    ),
                },
                key=f"cert-{cert.pk}-expiring",
            )
            fresh = summary.queued + summary.held
            invited = False
            if session is not None and fresh:
                taken = session.enrolments.count()
                if taken < session.capacity:
                    _e, invited = Enrolment.objects.get_or_create(
                        session=session,
                        entry=cert.entry,
                        defaults={"unit_id": cert.unit_id, "status": Status.INVITED},
                    )
            if fresh or invited:
                record(
                    "training.certificate.reminded",
                    cert,
                    actor=None,
                    unit=cert.unit,
                    changes={"notified": [None, len(users)], "invited": [None, bool(invited)]},
                )
        sent += fresh
    return sent


SCHEDULES = [
    Every(
        "training.remind_expiring",
        "yizhan.training.jobs.remind_expiring",
        _("Remind holders and managers of certificates about to expire"),
        at="08:30",
    ),
]
