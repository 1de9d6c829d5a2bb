"""Scheduled delivery: held messages whose time came (quiet hours over, a cap's window passed),
temporary failures due for their retry, and anything a killed worker left half-sent."""

from django.utils.translation import gettext_lazy as _

from yizhan.jobs.schedules import Every

SCHEDULES = [
    Every(
        "notify.deliver_due",
        "yizhan.notify.services.deliver_due",
        _("Send the messages that are due"),
        minutes=1,
    ),
]
