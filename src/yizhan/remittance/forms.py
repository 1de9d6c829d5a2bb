"""Forms only shape the HTTP input; the rules live in the services' clean_* functions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import RevisionField
from yizhan.remittance.models import AllowField, Callback, Decision, Field, Rule

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class DateTimeLocalField(forms.DateTimeField):
    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget", forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)
        )
        kwargs.setdefault("input_formats", [DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
        super().__init__(**kwargs)


class BatchForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    deadline = DateTimeLocalField(label=_("deadline (end of the holiday)"))
    approval_threshold = forms.DecimalField(
        label=_("second approval above (CNY)"),
        max_digits=15,
        decimal_places=2,
        min_value=0,
        help_text=_("Process-now and delete decisions above this amount need a second person."),
    )
    near_window_hours = forms.IntegerField(
        label=_("near-duplicate window (hours)"),
        min_value=0,
        max_value=720,
        help_text=_("Same payer, payee and amount within this many hours count as near duplicates."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["revision"] = RevisionField()


class UploadForm(forms.Form):
    file = forms.FileField(label=_("file (.csv or .xlsx)"))


class ConfirmImportForm(forms.Form):
    MODE_CHOICES = [("all", _("import the file")), ("valid_only", _("import the valid rows only"))]
    mode = forms.ChoiceField(choices=MODE_CHOICES, widget=forms.HiddenInput)


class CallbackForm(forms.Form):
    phone = forms.CharField(
        label=_("number called"),
        max_length=32,
        required=False,
        help_text=_("Empty: the payer's number on the instruction."),
    )
    outcome = forms.ChoiceField(label=_("outcome"), choices=Callback.Outcome.choices)
    call_back_at = DateTimeLocalField(label=_("call back at"), required=False)
    note = forms.CharField(label=_("note"), max_length=500, required=False)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(label=_("decision"), choices=Decision.choices)
    note = forms.CharField(label=_("note"), max_length=500, required=False)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("reason"), max_length=500, required=False)


class RuleForm(forms.Form):
    field = forms.ChoiceField(label=_("field"), choices=Field.choices)
    term = forms.CharField(label=_("keyword"), max_length=64)
    category = forms.CharField(label=_("category"), max_length=32, required=False)
    priority = forms.IntegerField(
        label=_("priority"), min_value=1, max_value=100, initial=50, help_text=_("1–100; higher comes first.")
    )
    is_active = forms.BooleanField(label=_("active"), required=False, initial=True)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["revision"] = RevisionField()


class AliasForm(forms.Form):
    term_a = forms.CharField(label=_("term"), max_length=64)
    term_b = forms.CharField(label=_("same as"), max_length=64)


def _rule_field(**kwargs):
    return forms.ModelChoiceField(
        label=_("rule"),
        queryset=Rule.objects.order_by("field", "term"),
        required=False,
        empty_label=_("every rule"),
        **kwargs,
    )


class ExclusionForm(forms.Form):
    term = forms.CharField(label=_("exclusion context"), max_length=64, help_text=_("e.g. 红十字路"))
    rule = _rule_field()
    field = forms.ChoiceField(
        label=_("field"), choices=[("", _("both fields")), *Field.choices], required=False
    )
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class AllowForm(forms.Form):
    field = forms.ChoiceField(label=_("field"), choices=AllowField.choices)
    value = forms.CharField(label=_("value"), max_length=200)
    rule = _rule_field()
    reason = forms.CharField(label=_("reason"), max_length=200)
