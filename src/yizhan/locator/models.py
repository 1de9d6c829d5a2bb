"""The gazetteer: places people name when they have no GPS (解放碑, 深圳北站, 泉城广场), per city,
kept by admins in the back office. The locator's search turns a place into the stations near it."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.concurrency import revision_field
from yizhan.orgs.scoping import ScopedQuerySet


class PlaceKind(models.TextChoices):
    LANDMARK = "landmark", _("landmark")
    STATION = "station", _("railway or bus station")
    METRO = "metro", _("metro stop")
    HOSPITAL = "hospital", _("hospital")
    MARKET = "market", _("market or shopping street")
    LOGISTICS = "logistics", _("logistics park")
    OTHER = "other", _("other place")


class PlaceQuerySet(ScopedQuerySet):
    scope_path_field = "unit__path"


class Place(models.Model):
    # The city branch (or a provincial branch whose outlets hang straight under it: Chongqing,
    # Shenzhen) whose admins keep the place.
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("city"), on_delete=models.PROTECT, related_name="places"
    )
    name = models.CharField(_("name"), max_length=60)
    aliases = models.CharField(
        _("other names"), max_length=300, blank=True, help_text=_("Separated by 、 or commas.")
    )
    # Pinyin of the name and each alias, computed on save: "jfb jiefangbei …", for the search.
    pinyin = models.CharField(max_length=1000, blank=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=PlaceKind.choices, default=PlaceKind.LANDMARK)
    lat = models.FloatField(_("latitude (WGS-84)"))
    lng = models.FloatField(_("longitude (WGS-84)"))
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)
    revision = revision_field()

    objects = PlaceQuerySet.as_manager()

    class Meta:
        verbose_name = _("place")
        verbose_name_plural = _("places")
        ordering = ["unit__path", "name", "pk"]
        indexes = [models.Index(fields=["unit", "name"])]

    def __str__(self):
        return self.name

    @property
    def alias_list(self) -> list[str]:
        from yizhan.locator.places import split_aliases

        return split_aliases(self.aliases)


class StationFullQuerySet(ScopedQuerySet):
    scope_path_field = "station__unit__path"


class StationFull(models.Model):
    """Staff said the station is full until `until` (an hour from when they said it): the list and
    the station page show it as crowded whatever the check-ins say."""

    station = models.OneToOneField(
        "stations.Station", verbose_name=_("station"), on_delete=models.CASCADE, related_name="+"
    )
    until = models.DateTimeField(_("full until"))

    objects = StationFullQuerySet.as_manager()

    class Meta:
        verbose_name = _("station marked full")
        verbose_name_plural = _("stations marked full")

    def __str__(self):
        return f"{self.station_id} {self.until:%Y-%m-%d %H:%M}"

    @property
    def unit(self):
        return self.station.unit


class ShortLink(models.Model):
    """A filtered list as a short link (/l/<code>): the list's query string, nothing about who
    made it. The code is the query's digest, so one list always gets one link."""

    code = models.CharField(max_length=12, unique=True)
    query = models.CharField(max_length=1000)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self):
        return self.code
