import datetime
import io

import pytest

SH = datetime.timezone(datetime.timedelta(hours=8))


def at(day: str, hour: int = 10) -> datetime.datetime:
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour), tzinfo=SH)


def _png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (6, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


PNG = _png()
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def new_case(users, unit):
    """new_case("CQ-SXGC", "fraud", **fields) opened by a head-office admin."""
    from yizhan.cases import services

    def make(code="CQ-SXGC", case_type="fraud", actor="hq_admin", **data):
        data.setdefault("title", "测试案件")
        data.setdefault("person_name", "刘先生")
        data.setdefault("person_phone", "13812345678")
        data.setdefault("need", "客户怀疑银行卡状态异常")
        return services.open_case(actor=users[actor], unit=unit(code), case_type=case_type, **data)

    return make


@pytest.fixture
def api(users):
    from django.test import Client

    from yizhan.orgs.services import create_api_token

    def make(username: str) -> Client:
        _token, raw = create_api_token(user=users[username], name="cases")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
