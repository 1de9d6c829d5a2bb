import hashlib

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.concurrency import revision_field
from yizhan.core.lang import localised
from yizhan.orgs.scoping import ScopedQuerySet


class UnitKind(models.TextChoices):
    HEAD_OFFICE = "head_office", _("Head office")
    PROVINCE = "province", _("Provincial branch")
    CITY = "city", _("City branch")
    SUB_BRANCH = "sub_branch", _("Sub-branch")
    OUTLET = "outlet", _("Outlet")


# A child must rank below its parent; levels may be skipped (Chongqing has no city tier).
KIND_RANK = {
    UnitKind.HEAD_OFFICE: 0,
    UnitKind.PROVINCE: 1,
    UnitKind.CITY: 2,
    UnitKind.SUB_BRANCH: 3,
    UnitKind.OUTLET: 4,
}

code_validator = RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", _("Use letters, digits, '-' and '_' only."))


class UnitQuerySet(ScopedQuerySet):
    scope_path_field = "path"

    def open(self):
        return self.filter(closed_on__isnull=True)

    def outlets(self):
        return self.filter(kind=UnitKind.OUTLET)

    def subtree(self, unit: "Unit"):
        return self.filter(path__startswith=unit.path)


class Unit(models.Model):
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    kind = models.CharField(_("kind"), max_length=16, choices=UnitKind.choices)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of primary keys, "/1/5/23/": a subtree is one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    level = models.PositiveSmallIntegerField(default=0, editable=False)
    pinyin = models.CharField(max_length=100, blank=True, editable=False, db_index=True)
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    lat = models.FloatField(_("latitude (WGS-84)"), null=True, blank=True)
    lng = models.FloatField(_("longitude (WGS-84)"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = UnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["path"]

    def __str__(self):
        return self.name

    @property
    def is_outlet(self) -> bool:
        return self.kind == UnitKind.OUTLET

    @property
    def rank(self) -> int:
        return KIND_RANK[self.kind]

    def ancestor_ids(self) -> list[int]:
        return [int(part) for part in self.path.strip("/").split("/") if part]

    def ancestors(self):
        ids = self.ancestor_ids()[:-1]
        return sorted(Unit.objects.filter(pk__in=ids), key=lambda u: u.level)

    def is_descendant_of(self, other: "Unit") -> bool:
        return self.path.startswith(other.path)

    @property
    def display_name(self) -> str:
        return localised(self.name, self.name_en)


class Role(models.TextChoices):
    VIEWER = "viewer", _("Viewer")
    MANAGER = "manager", _("Manager")
    ADMIN = "admin", _("Admin")


ROLE_RANK = {Role.VIEWER: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class MembershipQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Membership(models.Model):
    """A staff user's place in the tree: one unit and one role, applying to the unit's subtree."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="membership")
    unit = models.ForeignKey(Unit, verbose_name=_("unit"), on_delete=models.PROTECT, related_name="members")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = MembershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self):
        return f"{self.user} @ {self.unit} ({self.role})"


class ApiTokenQuerySet(ScopedQuerySet):
    scope_path_field = "user__membership__unit__path"

    def active(self):
        return self.filter(revoked_at__isnull=True)


class ApiToken(models.Model):
    """A personal token; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, editable=False)
    digest = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def hash(raw: str) -> str:
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
