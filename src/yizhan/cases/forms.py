"""Forms carry the input only; every rule is in services (`clean_case`, `clean_closure`, …)."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from yizhan.cases.models import CaseType, Outcome
from yizhan.core.forms import RevisionField
from yizhan.remittance.models import Field as RuleField

STATUS_FILTER = [
    ("open", pgettext_lazy("case status", "open")),
    ("overdue", _("overdue")),
    ("closed", pgettext_lazy("case status", "closed")),
    ("all", _("all")),
]


class CaseFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=STATUS_FILTER, required=False)
    case_type = forms.ChoiceField(
        label=_("case type"), choices=[("", _("all types")), *CaseType.choices], required=False
    )
    unit = forms.CharField(label=_("unit code"), max_length=40, required=False)
    station = forms.CharField(label=_("station code"), max_length=64, required=False)


class CaseForm(forms.Form):
    """Open a case (with `case_type` and `unit`) or edit one (with `revision`)."""

    case_type = forms.ChoiceField(label=_("case type"), choices=CaseType.choices)
    unit = forms.CharField(
        label=_("unit code"), max_length=40, help_text=_("The outlet or sub-branch handling it.")
    )
    title = forms.CharField(label=_("title"), max_length=200)
    person_name = forms.CharField(
        label=_("person"),
        max_length=50,
        required=False,
        help_text=_(
            "Only how to address them (such as 刘先生): no ID number, no full name unless the case needs it."
        ),
    )
    person_phone = forms.CharField(label=_("phone"), max_length=32, required=False)
    need = forms.CharField(
        label=_("what is needed"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    station = forms.CharField(label=_("station code"), max_length=64, required=False)
    amount_protected = forms.CharField(label=_("amount protected (CNY)"), max_length=40, required=False)
    police_reference = forms.CharField(label=_("police reference"), max_length=64, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["case_type"], self.fields["unit"]
            self.fields["revision"] = RevisionField()


class StepForm(forms.Form):
    step = forms.CharField(widget=forms.HiddenInput, max_length=40)
    note = forms.CharField(label=_("note"), max_length=500, required=False)
    revision = RevisionField()


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=[("", "—"), *Outcome.choices], required=False)
    summary = forms.CharField(label=_("summary"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    amount_protected = forms.CharField(label=_("amount protected (CNY)"), max_length=40, required=False)
    police_reference = forms.CharField(label=_("police reference"), max_length=64, required=False)
    revision = RevisionField()


class DocumentForm(forms.Form):
    file = forms.FileField(label=_("photo or PDF"), required=False)
    title = forms.CharField(label=_("title"), max_length=100, required=False)


class LinkForm(forms.Form):
    instruction = forms.CharField(
        label=_("instruction number"),
        max_length=20,
        help_text=_("The instruction's number in the green channel."),
    )


class ProposalForm(forms.Form):
    field = forms.ChoiceField(label=_("field"), choices=RuleField.choices)
    term = forms.CharField(label=_("keyword"), max_length=64)
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class DecideForm(forms.Form):
    accept = forms.ChoiceField(choices=[("yes", _("Accept")), ("no", _("Decline"))])
