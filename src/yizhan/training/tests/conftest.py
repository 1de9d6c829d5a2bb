import datetime

import pytest
from django.utils import timezone

SH = datetime.timezone(datetime.timedelta(hours=8))


def at(day, hour: int = 9) -> datetime.datetime:
    if isinstance(day, str):
        day = datetime.date.fromisoformat(day)
    return datetime.datetime.combine(day, datetime.time(hour), tzinfo=SH)


@pytest.fixture
def api(users):
    from django.test import Client

    from yizhan.orgs.services import create_api_token

    def make(username: str) -> Client:
        _token, raw = create_api_token(user=users[username], name="training")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make


@pytest.fixture
def cq_people(unit):
    """Five people on 三峡广场's roster, staff numbers CQ001…CQ005."""
    from yizhan.operations.models import RosterEntry

    outlet = unit("CQ-SXGC")
    return [
        RosterEntry.objects.create(
            unit=outlet, name=name, employee_no=f"CQ00{i}", position="柜员", on_from=datetime.date(2020, 1, 1)
        )
        for i, name in enumerate(["王伟", "李娜", "张敏", "刘洋", "陈静"], start=1)
    ]


@pytest.fixture
def course(users, unit):
    """A first-responder course of Chongqing's: pass mark 80, a certificate valid 36 months."""
    from yizhan.training import services

    return services.create_course(
        actor=users["cq_admin"], owner=unit("CQ"), code="CQ-FR", title="应急第一响应人", hours="16", pass_mark=80,
        provider_kind="external", provider="重庆市急救中心", certificate="应急第一响应人证书", validity_months=36,
        first_responder=True,
    )  # fmt: skip


@pytest.fixture
def held_session(users, unit, course, cq_people):
    """Held on Tuesday 15 November 2022 at 三峡广场, the five invited."""
    from yizhan.training import services

    session = services.create_session(
        actor=users["cq_admin"], course=course, unit=unit("CQ"), venue_kind="outlets", outlets=["CQ-SXGC"],
        starts_at=at("2022-11-15", 9), ends_at=at("2022-11-15", 17), trainer="急救中心", capacity=30,
    )  # fmt: skip
    services.invite(session, actor=users["cq_admin"], entries=[p.pk for p in cq_people])
    return session


def enrolment_of(session, entry):
    return session.enrolments.get(entry=entry)


@pytest.fixture
def today():
    return timezone.localdate()
