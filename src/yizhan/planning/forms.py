from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import CrsField, RevisionField


class SiteForm(forms.Form):
    unit = forms.CharField(label=_("planned by (unit code)"), max_length=32)
    name = forms.CharField(label=_("name"), max_length=60)
    lat = forms.CharField(label=_("latitude"), max_length=30)
    lng = forms.CharField(label=_("longitude"), max_length=30)
    crs = CrsField()
    weight = forms.IntegerField(
        label=_("workers there on a usual day"), min_value=1, max_value=10_000, initial=10
    )


class RemoveForm(forms.Form):
    revision = RevisionField()


class WaveFromPlanForm(forms.Form):
    unit = forms.CharField(widget=forms.HiddenInput)
    outlets = forms.CharField(widget=forms.HiddenInput)
    name = forms.CharField(label=_("wave name"), max_length=100)
    standard = forms.ChoiceField(label=_("standard to meet"))
    target_date = forms.DateField(label=_("target date"), widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs):
        from yizhan.stations.models import Standard

        super().__init__(*args, **kwargs)
        self.fields["standard"].choices = [
            (s.pk, f"{s.display_name} ({s.version})") for s in Standard.objects.filter(is_active=True)
        ]
