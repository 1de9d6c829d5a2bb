"""Forms only collect input; the rules live in services.clean_* (shared with the API)."""

import datetime

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import RevisionField
from yizhan.visits.models import FacilityOutcome, FeedbackKind, FeedbackStatus, Group


class TallyForm(forms.Form):
    day = forms.DateField(label=_("day"), widget=forms.DateInput(attrs={"type": "date"}))
    revision = RevisionField()  # the station's: tallies are its figures

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for code, label in Group.choices:
            self.fields[code] = forms.CharField(
                label=label,
                required=False,
                widget=forms.NumberInput(attrs={"min": 0, "inputmode": "numeric"}),
            )


class StatsForm(forms.Form):
    BY = [("day", _("by day")), ("week", _("by week")), ("month", _("by month"))]
    unit = forms.CharField(label=_("unit (code)"), required=False, max_length=32)
    start = forms.DateField(label=_("from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    by = forms.ChoiceField(label=_("show"), choices=BY, required=False)

    MAX_DAYS = 731

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - datetime.timedelta(days=29)
        if start > end:
            self.add_error("start", _("The start is after the end."))
        elif (end - start).days > self.MAX_DAYS:
            self.add_error("start", _("Choose at most two years."))
        data["start"], data["end"] = start, end
        data["by"] = data.get("by") or "day"
        return data


class QueueFilterForm(forms.Form):
    STATUS = [("open", _("open")), ("overdue", _("overdue")), ("all", _("all")), *FeedbackStatus.choices]
    status = forms.ChoiceField(label=_("status"), choices=STATUS, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=[("", _("any")), *FeedbackKind.choices], required=False)
    unit = forms.CharField(label=_("unit (code)"), required=False, max_length=32)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    revision = RevisionField()


class ResolveForm(NoteForm):
    facility_outcome = forms.ChoiceField(
        label=_("the facility now"), choices=[("", "—"), *FacilityOutcome.choices], required=False
    )
    facility = forms.CharField(label=_("facility (code)"), required=False, max_length=40)
