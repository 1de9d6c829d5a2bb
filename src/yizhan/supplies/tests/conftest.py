import pytest

from yizhan.orgs.models import Unit
from yizhan.supplies.models import Item


@pytest.fixture
def item(db):
    return lambda code: Item.objects.get(code=code)


@pytest.fixture
def sanxia(db):
    return Unit.objects.get(code="CQ-SXGC")
