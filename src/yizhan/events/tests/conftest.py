import datetime

import pytest
from django.utils import timezone


@pytest.fixture
def make_event(users, unit):
    """An event of the Chongqing branch at 三峡广场 (and optionally 建新东路), sign-up open now."""
    from yizhan.events import services

    def make(capacity=3, stations=("CQ-SXGC",), days=3, **extra):
        event = services.create_event(
            actor=users["cq_admin"], unit=unit("CQ"), title="防诈骗小课堂", kind="anti_fraud",
            target_groups=["elderly"], capacity=capacity, **extra,
        )  # fmt: skip
        start = timezone.now() + datetime.timedelta(days=days)
        occs = services.add_occurrences(
            event, actor=users["cq_admin"], stations=list(stations), starts_at=start,
            ends_at=start + datetime.timedelta(hours=1),
        )  # fmt: skip
        return event, occs

    return make
