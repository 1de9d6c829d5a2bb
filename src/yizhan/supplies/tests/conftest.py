import pytest

from yizhan.orgs.models import Unit
from yizhan.supplies.models import Item


@pytest.fixture
def item(db):
    return lambda code: Item.objects.get(code=code)


@pytest.fixture
def sanxia(db):
    return Unit.objects.get(code="CQ-SXGC")


@pytest.fixture
def api(users):
    from django.test import Client

    from yizhan.orgs.services import create_api_token

    def make(username: str) -> Client:
        _token, raw = create_api_token(user=users[username], name="supplies")
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
