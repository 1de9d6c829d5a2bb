from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import RevisionField
from yizhan.operations.models import OperatingState


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class StatusForm(forms.Form):
    """Only the shapes: the rules (overlaps, order, notice) are services.clean_status's."""

    state = forms.ChoiceField(label=_("operating status"), choices=OperatingState.choices)
    starts_at = forms.CharField(
        label=_("from"), required=False, widget=LocalDateTimeInput(), help_text=_("Empty: now.")
    )
    ends_at = forms.CharField(
        label=_("until"),
        required=False,
        widget=LocalDateTimeInput(),
        help_text=_("Empty: until further notice."),
    )
    counter_windows = forms.IntegerField(
        label=_("counter windows open"), required=False, min_value=0, max_value=99
    )
    self_service_24h = forms.BooleanField(label=_("self-service bank open 24 hours"), required=False)
    notice = forms.CharField(
        label=_("public notice"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason = forms.CharField(label=_("reason (internal)"), required=False, max_length=500)


class EndForm(forms.Form):
    revision = RevisionField()


class CustomersForm(forms.Form):
    day = forms.DateField(label=_("day"), widget=forms.DateInput(attrs={"type": "date"}))
    customers = forms.IntegerField(label=_("customers served"), min_value=0, max_value=100_000)
