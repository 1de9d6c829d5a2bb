from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import CrsField, RevisionField
from yizhan.orgs.models import Role, UnitKind


class UnitForm(forms.Form):
    code = forms.CharField(label=_("code"), max_length=32)
    kind = forms.ChoiceField(label=_("kind"), choices=UnitKind.choices)
    name = forms.CharField(label=_("name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("name (English)"), max_length=200, required=False)
    address = forms.CharField(label=_("address"), max_length=255, required=False)
    lat = forms.FloatField(label=_("latitude"), required=False)
    lng = forms.FloatField(label=_("longitude"), required=False)
    crs = CrsField()
    opened_on = forms.DateField(
        label=_("opened on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    closed_on = forms.DateField(
        label=_("closed on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class UnitEditForm(UnitForm):
    revision = RevisionField()


class MoveForm(forms.Form):
    parent = forms.CharField(label=_("new parent unit (code)"), max_length=32)


class StaffCreateForm(forms.Form):
    username = forms.CharField(label=_("username"), max_length=150)
    full_name = forms.CharField(label=_("full name"), max_length=150, required=False)
    password = forms.CharField(label=_("password"), widget=forms.PasswordInput, max_length=128)
    unit = forms.CharField(label=_("unit (code)"), max_length=32)
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)


class StaffEditForm(forms.Form):
    unit = forms.CharField(label=_("unit (code)"), max_length=32)
    role = forms.ChoiceField(label=_("role"), choices=Role.choices)
    is_active = forms.BooleanField(label=_("active"), required=False)
    revision = RevisionField()


class TokenForm(forms.Form):
    name = forms.CharField(label=_("token name"), max_length=100)
