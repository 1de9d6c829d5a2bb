"""Back-office forms of the gazetteer; the rules themselves are `places.clean_place`."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import CrsField, RevisionField
from yizhan.locator.models import PlaceKind


class PlaceForm(forms.Form):
    city = forms.ChoiceField(label=_("city"))
    name = forms.CharField(label=_("name"), max_length=60)
    aliases = forms.CharField(
        label=_("other names"), max_length=300, required=False, help_text=_("Separated by 、 or commas.")
    )
    kind = forms.ChoiceField(label=_("kind"), choices=PlaceKind.choices, initial=PlaceKind.LANDMARK)
    lat = forms.CharField(label=_("latitude"), max_length=30)
    lng = forms.CharField(label=_("longitude"), max_length=30)
    crs = CrsField()

    def __init__(self, *args, cities, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["city"].choices = [(u.code, u.display_name) for u in cities]
        if editing:
            self.fields["revision"] = RevisionField()


class PlaceImportForm(forms.Form):
    file = forms.FileField(
        label=_("places (xlsx or csv)"),
        help_text=_(
            "Columns 城市 (city code or name), 名称 (name), 纬度 and 经度 (latitude, longitude); "
            "optional 别名 (other names, separated by 、), 类型 (kind) and 坐标系 (wgs84, gcj02 or bd09)."
        ),
    )


class DeleteForm(forms.Form):
    revision = RevisionField()
