"""Nothing in the demo lies after the moment it was built: no check-in later today, no future
feedback, tally, remittance step or audit event (a future check-in made today the tallest bar
and filled the evening hours of the hour-of-day chart)."""

import datetime

import pytest
from django.apps import apps
from django.db import models
from django.db.models import Max
from django.utils import timezone

from yizhan.visits.models import CheckIn, DailyRollup, MonthlyRollup

pytestmark = pytest.mark.django_db

# Moments that are meant to lie ahead: a batch's deadline, a promised call back.
FUTURE_BY_DESIGN = {
    ("remittance.batch", "deadline"),
    ("remittance.callback", "call_back_at"),
    ("events.occurrence", "starts_at"),  # upcoming events, open for sign-up
    ("events.occurrence", "ends_at"),
    ("training.session", "starts_at"),  # the refresher ahead, where expiring certificates are renewed
    ("training.session", "ends_at"),
}


def test_no_demo_timestamp_is_later_than_the_build(demo_built_at):
    late = {}
    for model in apps.get_models():
        if not model.__module__.startswith("yizhan."):
            continue
        for field in model._meta.concrete_fields:
            if not isinstance(field, models.DateTimeField):
                continue
            if (model._meta.label_lower, field.name) in FUTURE_BY_DESIGN:
                continue
            latest = model._default_manager.aggregate(m=Max(field.name))["m"]
            if latest is not None and latest > demo_built_at:
                late[f"{model._meta.label_lower}.{field.name}"] = latest
    assert late == {}


def test_no_check_in_day_or_hour_is_ahead_of_the_build(demo_built_at):
    built = timezone.localtime(demo_built_at)
    assert CheckIn.objects.filter(day__gt=built.date()).count() == 0
    assert CheckIn.objects.filter(day=built.date(), hour__gt=built.hour).count() == 0
    assert DailyRollup.objects.filter(day__gt=built.date()).count() == 0
    assert MonthlyRollup.objects.filter(month__gt=built.date().replace(day=1)).count() == 0


def test_the_demo_covers_last_year_for_the_year_on_year_chart(demo_built_at):
    first = CheckIn.objects.order_by("day").values_list("day", flat=True).first()
    assert first == datetime.date(timezone.localtime(demo_built_at).year - 1, 1, 1)
