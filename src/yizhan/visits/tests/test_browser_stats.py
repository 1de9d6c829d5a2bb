"""The statistics charts in a real browser: value axes in 万 and no axis label cut off."""

import datetime

import pytest
from django.utils import timezone

from yizhan.conftest import build_small_demo
from yizhan.core.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(transactional_db):
    from yizhan.orgs.models import Unit

    if not Unit.objects.exists():
        build_small_demo()


def test_axis_labels_fit_inside_their_charts(page, demo):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/manage/login/")
    page.fill("input[name=username]", "hq_admin")
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.locator("section.card form button.primary").click()
    page.wait_for_url("**/manage/")
    # Two years of the whole network: the services chart reaches tens of thousands.
    today = timezone.localdate()
    start, end = datetime.date(today.year - 1, 1, 1), today - datetime.timedelta(days=1)
    page.goto(f"/manage/visits/?unit=HQ&by=month&start={start}&end={end}")
    page.wait_for_selector("#chart-services svg text")
    outside = page.evaluate(
        """() => {
          const out = [];
          for (const chart of document.querySelectorAll('.chart')) {
            const box = chart.getBoundingClientRect();
            for (const t of chart.querySelectorAll('svg text')) {
              const r = t.getBoundingClientRect();
              if (!t.textContent.trim() || r.width === 0) continue;
              if (r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1)
                out.push(chart.id + ': ' + t.textContent);
            }
          }
          return out;
        }"""
    )
    assert outside == []
    labels = page.locator("#chart-services svg text").all_text_contents()
    assert any(label.endswith("万") for label in labels), labels
