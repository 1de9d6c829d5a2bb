"""Back-office forms. They only shape input: the rules are the services' clean_* functions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import RevisionField
from yizhan.events.models import TARGET_GROUPS, Kind

DT = {"type": "datetime-local"}


class EventForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=120)
    kind = forms.ChoiceField(label=_("kind"), choices=Kind.choices)
    target_groups = forms.MultipleChoiceField(
        label=_("target groups"), choices=TARGET_GROUPS, required=False, widget=forms.CheckboxSelectMultiple
    )
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    speakers = forms.CharField(label=_("speakers"), required=False, max_length=300)
    partners = forms.CharField(label=_("co-organisers"), required=False, max_length=300)
    capacity = forms.IntegerField(label=_("places per occurrence"), min_value=1, initial=30)
    max_party = forms.IntegerField(label=_("most people per sign-up"), min_value=1, max_value=20, initial=4)
    signup_opens = forms.DateTimeField(
        label=_("sign-up opens"), required=False, widget=forms.DateTimeInput(DT)
    )
    signup_closes = forms.DateTimeField(
        label=_("sign-up closes"), required=False, widget=forms.DateTimeInput(DT)
    )
    public = forms.BooleanField(label=_("public (off: by invitation only)"), required=False, initial=True)
    offer_hours = forms.IntegerField(
        label=_("hours to accept a freed place"), min_value=1, max_value=168, initial=24
    )
    campaign = forms.ChoiceField(label=_("campaign"), required=False)

    def __init__(self, *args, campaigns=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["campaign"].choices = [("", "—"), *[(str(c.pk), c.name) for c in campaigns]]
        if editing:
            self.fields["revision"] = RevisionField()


class OccurrenceForm(forms.Form):
    stations = forms.MultipleChoiceField(label=_("stations"), widget=forms.CheckboxSelectMultiple)
    starts_at = forms.DateTimeField(label=_("starts at"), widget=forms.DateTimeInput(DT))
    ends_at = forms.DateTimeField(label=_("ends at"), widget=forms.DateTimeInput(DT))
    capacity = forms.IntegerField(label=_("capacity"), min_value=1, required=False)

    def __init__(self, *args, stations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stations"].choices = [(s.code, s.name) for s in stations]


class CampaignForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=120)
    target_group = forms.ChoiceField(label=_("target group"), choices=TARGET_GROUPS)
    starts_on = forms.DateField(label=_("starts on"), widget=forms.DateInput({"type": "date"}))
    ends_on = forms.DateField(label=_("ends on"), widget=forms.DateInput({"type": "date"}))
    units = forms.CharField(label=_("participating units (codes, blank: the whole area)"), required=False)
    partners = forms.CharField(label=_("co-organisers"), required=False, max_length=300)
    description = forms.CharField(
        label=_("description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["revision"] = RevisionField()


class OfferForm(forms.Form):
    title = forms.CharField(label=_("title (Chinese)"), max_length=120)
    title_en = forms.CharField(label=_("title (English)"), max_length=200, required=False)
    group = forms.ChoiceField(label=_("group"), choices=TARGET_GROUPS)
    theme = forms.ChoiceField(label=_("station theme"), required=False)
    text = forms.CharField(label=_("what it offers (Chinese)"), widget=forms.Textarea(attrs={"rows": 3}))
    text_en = forms.CharField(
        label=_("what it offers (English)"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    valid_from = forms.DateField(label=_("valid from"), widget=forms.DateInput({"type": "date"}))
    valid_until = forms.DateField(label=_("valid until"), widget=forms.DateInput({"type": "date"}))

    def __init__(self, *args, themes=(), editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["theme"].choices = [("", "—"), *[(t.code, t.display_name) for t in themes]]
        if editing:
            self.fields["revision"] = RevisionField()
