"""In English the demo network reads in English: names in pinyin, not "Cq-Spb 解放路 Outlet 016"."""

import re

import pytest

from yizhan.orgs.demo import road_en
from yizhan.orgs.models import Unit
from yizhan.stations.models import Station

pytestmark = pytest.mark.django_db
CJK = re.compile(r"[\u3400-\u9fff]")


def test_road_names_in_pinyin():
    assert road_en("解放路") == "Jiefang Road"
    assert road_en("光明街") == "Guangming Street"


def test_no_chinese_in_english_names():
    for model in (Unit, Station):
        mixed = [n for n in model.objects.values_list("name_en", flat=True) if CJK.search(n or "")]
        assert mixed == [], model


def test_generated_outlets_read_like_their_chinese_names():
    outlet = Unit.objects.get(code="CQ-SPB-001")
    road = re.search(r"沙坪坝(.+?[路街])", outlet.name).group(1)
    assert outlet.name_en.startswith(f"Shapingba {road_en(road)} ")
    assert Station.objects.get(code="CQ-SPB-001").name_en == f"{outlet.name_en} Station"
