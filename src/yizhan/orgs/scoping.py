"""THE scoping chokepoint. Every staff query and object fetch in every app goes through here.

Staff see and change only their own unit's subtree. An object outside the scope answers 404,
exactly like one that does not exist (an outsider learns nothing); an object in scope that the
role may not change answers 403.
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth import get_user_model
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404

PERM_RANK = {"read": 1, "change": 2, "admin": 3}
ROLE_RANK = {"viewer": 1, "manager": 2, "admin": 3}


@dataclass(frozen=True)
class Scope:
    user_id: int | None = None
    unit_id: int | None = None
    path: str | None = None
    role: str | None = None
    level: int | None = None

    @property
    def is_staff(self) -> bool:
        return self.path is not None

    @property
    def is_head_office(self) -> bool:
        return self.is_staff and self.level == 0

    @property
    def role_label(self) -> str:
        """The role in the reader's language (管理员 / 负责人 / 只读), for pages."""
        from yizhan.orgs.models import Role

        return str(Role(self.role).label) if self.role in Role.values else ""

    def can(self, perm: str) -> bool:
        if not self.is_staff:
            return False
        if perm == "hq_admin":
            return self.is_head_office and self.role == "admin"
        return ROLE_RANK[self.role] >= PERM_RANK[perm]

    def covers(self, path: str | None) -> bool:
        return self.is_staff and bool(path) and path.startswith(self.path)


NO_SCOPE = Scope()


def scope_for(user) -> Scope:
    """The user's scope, resolved once and kept on the user object for the request."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_SCOPE
    cached = getattr(user, "_yizhan_scope", None)
    if cached is not None:
        return cached
    from yizhan.orgs.models import Membership, Unit

    if get_user_model().membership.is_cached(user):  # joined in by the caller (token authentication)
        membership = getattr(user, "membership", None)
    else:
        membership = Membership.objects.select_related("unit").filter(user=user).first()
    if membership is not None and membership.unit.closed_on is None:
        unit, role = membership.unit, membership.role
        scope = Scope(user.pk, unit.pk, unit.path, role, unit.level)
    elif membership is None and user.is_superuser:
        # A Django superuser without a membership acts as a head-office admin.
        root = Unit.objects.filter(parent__isnull=True).order_by("pk").first()
        scope = Scope(user.pk, root.pk, root.path, "admin", 0) if root else NO_SCOPE
    else:
        scope = NO_SCOPE
    user._yizhan_scope = scope
    return scope


def _as_scope(user_or_scope) -> Scope:
    return user_or_scope if isinstance(user_or_scope, Scope) else scope_for(user_or_scope)


class ScopedQuerySet(models.QuerySet):
    """Models declare `scope_path_field`, the lookup to their unit's materialised path."""

    scope_path_field: str = ""

    def for_user(self, user_or_scope):
        scope = _as_scope(user_or_scope)
        if not scope.is_staff:
            return self.none()
        if not self.scope_path_field:
            raise TypeError(f"{self.model.__name__} declares no scope_path_field")
        return self.filter(**{f"{self.scope_path_field}__startswith": scope.path})


def scoped(user_or_scope, model_or_queryset):
    """The scoped queryset for a model or queryset."""
    qs = model_or_queryset
    if isinstance(qs, type) and issubclass(qs, models.Model):
        qs = qs._default_manager.all()
    return qs.for_user(user_or_scope)


def require(user_or_scope, perm: str = "read") -> Scope:
    scope = _as_scope(user_or_scope)
    if not scope.can(perm):
        raise PermissionDenied
    return scope


def get_for_user(user_or_scope, model_or_queryset, perm: str = "read", **lookup):
    """Fetch one object in scope: 404 when missing or outside the scope, 403 when the role is short."""
    try:
        obj = scoped(user_or_scope, model_or_queryset).get(**lookup)
    except (models.ObjectDoesNotExist, ValueError, TypeError) as exc:
        raise Http404 from exc
    require(user_or_scope, perm)
    return obj


def staff_view(perm: str = "read"):
    """Decorator for every back-office view: login, a membership, and the role the view needs.

    Views that fetch an object keep the default ("read") and pass their perm to get_for_user, so
    that an object outside the scope answers 404 before the role is looked at.
    """

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            scope = scope_for(request.user)
            if not scope.is_staff:
                raise PermissionDenied
            if not scope.can(perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.staff_perm = perm
        return wrapper

    return decorator
