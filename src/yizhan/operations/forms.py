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


# --- contingency plans -----------------------------------------------------------------------------


def _owner_labels():
    """Owner labels in every language of the site (a line may be pasted from either) to codes."""
    from django.conf import settings
    from django.utils import translation

    from yizhan.operations.models import OwnerRole

    labels = {}
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            labels.update({str(label): value for value, label in OwnerRole.choices})
    return labels


def measures_to_lines(measures, backup: str) -> str:
    """One measure a line: "text | owner | working days" (the owner in the reader's language)."""
    from yizhan.operations.models import OwnerRole

    labels = dict(OwnerRole.choices)
    return "\n".join(
        f"{m['text']} | {labels.get(m['owner'], m['owner'])} | {m['working_days']}"
        for m in measures
        if m["backup"] == backup
    )


def lines_to_measures(text: str, backup: str) -> list[dict]:
    """The lines of one backup's box as measures; an unknown owner or day count is left for
    plans.clean_measures to refuse."""
    labels = _owner_labels()
    out = []
    for line in str(text or "").splitlines():
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        if not parts[0]:
            continue
        owner = parts[1] if len(parts) > 1 and parts[1] else "outlet_manager"
        days = parts[2] if len(parts) > 2 and parts[2] else "1"
        out.append(
            {"backup": backup, "text": parts[0], "owner": labels.get(owner, owner), "working_days": days}
        )
    return out


class PlanTemplateForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    business = forms.CharField(label=_("Business backup"), widget=forms.Textarea(attrs={"rows": 3}))
    staff = forms.CharField(label=_("Staff backup"), widget=forms.Textarea(attrs={"rows": 3}))
    service = forms.CharField(label=_("Service backup"), widget=forms.Textarea(attrs={"rows": 3}))
    management = forms.CharField(label=_("Management backup"), widget=forms.Textarea(attrs={"rows": 3}))
    revision = RevisionField(required=False)

    def measures(self) -> list[dict]:
        data = self.cleaned_data
        return [
            m for b in ("business", "staff", "service", "management") for m in lines_to_measures(data[b], b)
        ]


class OutletPlanForm(forms.Form):
    template = forms.TypedChoiceField(label=_("template"), choices=[], coerce=int)
    backup_staff = forms.TypedMultipleChoiceField(
        label=_("backup staff (from other outlets)"),
        choices=[],
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    cash_route = forms.CharField(label=_("backup cash route"), required=False, max_length=300)
    service_channel = forms.CharField(label=_("backup service channel"), required=False, max_length=300)
    revision = RevisionField(required=False)

    def __init__(self, *args, templates=(), staff=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.pk, f"{t.name} · {t.unit.display_name}") for t in templates]
        self.fields["backup_staff"].choices = [
            (e.pk, f"{e.name} · {e.unit.display_name}{' · ' + e.position if e.position else ''}")
            for e in staff
        ]


class ActivateForm(forms.Form):
    template = forms.TypedChoiceField(label=_("plan"), choices=[], coerce=int)
    unit = forms.CharField(
        label=_("for a subtree (unit code)"),
        required=False,
        max_length=32,
        help_text=_("Or list the outlets below."),
    )
    outlets = forms.CharField(
        label=_("or for these outlets (codes, comma-separated)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    state = forms.ChoiceField(label=_("operating status while active"), choices=[])
    counter_windows = forms.IntegerField(
        label=_("counter windows open"), required=False, min_value=0, max_value=99
    )
    self_service_24h = forms.BooleanField(label=_("self-service bank open 24 hours"), required=False)
    notice = forms.CharField(
        label=_("public notice"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )
    reason = forms.CharField(label=_("reason"), max_length=500)

    def __init__(self, *args, templates=(), **kwargs):
        from yizhan.operations.models import OperatingState

        super().__init__(*args, **kwargs)
        self.fields["template"].choices = [(t.pk, f"{t.name} · {t.unit.display_name}") for t in templates]
        self.fields["state"].choices = [c for c in OperatingState.choices if c[0] != "open"]


class TaskDoneForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False, max_length=500)
    revision = RevisionField()


# --- disinfection -------------------------------------------------------------------------------------


class AreaForm(forms.Form):
    name = forms.CharField(label=_("area"), max_length=60)
    kind = forms.ChoiceField(label=_("kind"), choices=[])
    every_hours = forms.IntegerField(
        label=_("every (hours) while a plan is active"), initial=4, min_value=1, max_value=24
    )

    def __init__(self, *args, **kwargs):
        from yizhan.operations.models import AreaKind

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = AreaKind.choices


class DisinfectedForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False, max_length=200)


class ChecklistTemplateForm(forms.Form):
    """One item a line; an item with answers to choose from: "text | answer, answer"."""

    before = forms.CharField(
        label=_("Before opening"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    during = forms.CharField(label=_("While open"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    after = forms.CharField(
        label=_("After closing"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )

    def items(self) -> list[dict]:
        from yizhan.operations.controls import ATM_MODE_LABELS

        codes = {str(label): code for code, label in ATM_MODE_LABELS.items()}
        out = []
        for phase in ("before", "during", "after"):
            for line in self.cleaned_data[phase].splitlines():
                text, _sep, options = line.replace("｜", "|").partition("|")
                if text.strip():
                    opts = [
                        codes.get(o.strip(), o.strip())
                        for o in options.replace("，", ",").split(",")
                        if o.strip()
                    ]
                    out.append({"phase": phase, "text": text.strip(), "options": opts})
        return out


def items_to_lines(items, phase: str) -> str:
    from yizhan.operations.controls import option_label

    return "\n".join(
        item["text"]
        + (" | " + ", ".join(option_label(o) for o in item["options"]) if item["options"] else "")
        for item in items
        if item["phase"] == phase
    )
