from django.db.models import Q
from ninja import Router, Schema

from yizhan.core.boundary import Offset
from yizhan.orgs.models import Unit
from yizhan.orgs.scoping import get_for_user, scope_for, scoped

manage_router = Router(tags=["manage: organisation"])


class MeOut(Schema):
    username: str
    unit_code: str
    unit_name: str
    role: str


class UnitOut(Schema):
    code: str
    kind: str
    name: str
    name_en: str
    parent_code: str | None
    level: int
    address: str
    lat: float | None
    lng: float | None
    opened_on: str | None
    closed_on: str | None


def unit_out(unit: Unit, parent_code: str | None) -> dict:
    return {
        "code": unit.code,
        "kind": unit.kind,
        "name": unit.name,
        "name_en": unit.name_en,
        "parent_code": parent_code,
        "level": unit.level,
        "address": unit.address,
        "lat": unit.lat,
        "lng": unit.lng,
        "opened_on": unit.opened_on.isoformat() if unit.opened_on else None,
        "closed_on": unit.closed_on.isoformat() if unit.closed_on else None,
    }


@manage_router.get("/me", response=MeOut, summary="The token's user, unit and role")
def me(request):
    scope = scope_for(request.user)
    unit = Unit.objects.get(pk=scope.unit_id)
    return {
        "username": request.user.get_username(),
        "unit_code": unit.code,
        "unit_name": unit.name,
        "role": scope.role,
    }


@manage_router.get("/units", response=list[UnitOut], summary="Units in your subtree")
def list_units(request, q: str = "", kind: str = "", limit: int = 200, offset: Offset = 0):
    limit = max(1, min(limit, 1000))
    units = scoped(request.user, Unit).select_related("parent").order_by("path")
    if q:
        units = units.filter(Q(name__icontains=q) | Q(code__iexact=q) | Q(pinyin__startswith=q.lower()))
    if kind:
        units = units.filter(kind=kind)
    return [unit_out(u, u.parent.code if u.parent else None) for u in units[offset : offset + limit]]


@manage_router.get("/units/{code}", response=UnitOut, summary="One unit (404 outside your subtree)")
def get_unit(request, code: str):
    unit = get_for_user(request.user, Unit.objects.select_related("parent"), code=code)
    return unit_out(unit, unit.parent.code if unit.parent else None)
