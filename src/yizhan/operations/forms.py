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


class HealthReportForm(forms.Form):
    """One phone screen. The rules are health.clean_report's."""

    temperature = forms.CharField(
        label=_("temperature (°C)"),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "36.5", "autocomplete": "off"}),
    )
    symptoms = forms.MultipleChoiceField(
        label=_("symptoms (none: leave all unticked)"),
        required=False,
        choices=[],
        widget=forms.CheckboxSelectMultiple,
    )
    travelled = forms.BooleanField(
        label=_("travelled outside the city since the last report"), required=False
    )
    travel_note = forms.CharField(label=_("where to"), required=False, max_length=200)
    isolation = forms.ChoiceField(label=_("isolation"), choices=[])
    day = forms.DateField(label=_("day"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("reason (for an earlier day)"), required=False, max_length=200)

    def __init__(self, *args, desk: bool = False, **kwargs):
        from yizhan.operations.models import Isolation, Symptom

        super().__init__(*args, **kwargs)
        self.fields["symptoms"].choices = Symptom.choices
        self.fields["isolation"].choices = Isolation.choices
        if not desk:
            del self.fields["day"]
            del self.fields["reason"]


class RosterForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=60)
    employee_no = forms.CharField(label=_("staff number"), required=False, max_length=32)
    user = forms.CharField(label=_("login (user name, optional)"), required=False, max_length=150)
    position = forms.CharField(label=_("job title"), required=False, max_length=60)
    health_desk = forms.BooleanField(label=_("collects the daily health report (desk)"), required=False)
    on_from = forms.DateField(
        label=_("on the roster from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class LeaveForm(forms.Form):
    starts_on = forms.DateField(label=_("from"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("until"), widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label=_("note"), required=False, max_length=200)


class InspectionForm(forms.Form):
    outlet = forms.CharField(label=_("outlet code"), max_length=32)
    kind = forms.ChoiceField(label=_("kind"), choices=[])
    findings = forms.CharField(label=_("findings"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    working_days = forms.IntegerField(
        label=_("put right within (working days)"), initial=5, min_value=1, max_value=60
    )

    def __init__(self, *args, **kwargs):
        from yizhan.operations.models import InspectionKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = InspectionKind.choices


class RespondForm(forms.Form):
    text = forms.CharField(label=_("what was done"), widget=forms.Textarea(attrs={"rows": 3}))
    revision = RevisionField()


class RecheckForm(forms.Form):
    passed = forms.TypedChoiceField(
        label=_("result"),
        choices=[("1", _("put right: close it")), ("0", _("not yet: open it again"))],
        coerce=lambda v: v == "1",
    )
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    working_days = forms.IntegerField(
        label=_("new deadline (working days)"), initial=5, min_value=1, max_value=60
    )
    revision = RevisionField()
