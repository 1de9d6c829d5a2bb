"""Expiring certificates remind the person and their managers once, and invite to a renewal."""

import datetime

import pytest
from django.utils import timezone

from yizhan.notify.models import Message
from yizhan.training import jobs, services
from yizhan.training.models import Certificate, Enrolment
from yizhan.training.tests.conftest import at

pytestmark = pytest.mark.django_db


def test_an_expiring_certificate_reminds_person_and_manager_once_and_invites_to_the_renewal(
    users, unit, course, cq_people
):
    from yizhan.orgs.models import Membership

    today = timezone.localdate()
    person = cq_people[0]
    person.user = users["sm_manager"]  # any login: the person's own inbox
    person.save()
    Certificate.objects.create(
        entry=person, unit=person.unit, course=course, name="应急第一响应人证书", first_responder=True,
        issued_on=today - datetime.timedelta(days=1000), expires_on=today + datetime.timedelta(days=10),
    )  # fmt: skip
    later = Certificate.objects.create(
        entry=cq_people[1], unit=person.unit, course=course, name="证书", first_responder=True,
        issued_on=today, expires_on=today + datetime.timedelta(days=200),
    )  # fmt: skip
    renewal = services.create_session(
        actor=users["cq_admin"], course=course, unit=unit("CQ"), venue_kind="external", venue="礼堂",
        starts_at=at(today + datetime.timedelta(days=14)), ends_at=at(today + datetime.timedelta(days=14), 12), capacity=10,
    )  # fmt: skip
    manager = Membership.objects.get(unit=unit("CQ-SXGC"), role="manager").user
    jobs.remind_expiring(today)
    sent = Message.objects.filter(template__key="certificate-expiring")
    assert {m.user_id for m in sent} == {manager.pk, users["sm_manager"].pk}
    assert all("应急第一响应人证书" in m.text for m in sent)
    assert Enrolment.objects.filter(session=renewal, entry=person, status="invited").exists()
    assert not Enrolment.objects.filter(session=renewal, entry=later.entry).exists()
    jobs.remind_expiring(today)
    jobs.remind_expiring(today + datetime.timedelta(days=1))
    assert Message.objects.filter(template__key="certificate-expiring").count() == sent.count() == 2


def test_the_schedule_is_declared():
    from yizhan.jobs.schedules import declared

    assert "training.remind_expiring" in {s.name for s in declared()}
