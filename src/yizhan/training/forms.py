from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import RevisionField
from yizhan.training.models import DrillKind, Provider, VenueKind


class CourseForm(forms.Form):
    code = forms.CharField(label=_("code"), max_length=32)
    title = forms.CharField(label=_("title (Chinese)"), max_length=100)
    title_en = forms.CharField(label=_("title (English)"), max_length=200, required=False)
    hours = forms.CharField(label=_("hours"), max_length=10)
    pass_mark = forms.CharField(label=_("pass mark"), max_length=10)
    provider_kind = forms.ChoiceField(label=_("provider"), choices=Provider.choices)
    provider = forms.CharField(label=_("provider name"), max_length=100, required=False)
    certificate = forms.CharField(label=_("certificate granted"), max_length=100, required=False)
    validity_months = forms.CharField(
        label=_("certificate valid for (months)"), max_length=10, required=False
    )
    first_responder = forms.BooleanField(label=_("first-responder certificate"), required=False)
    renews = forms.CharField(label=_("renews (course code)"), max_length=32, required=False)
    active = forms.BooleanField(label=_("active"), required=False, initial=True)


class CourseEditForm(CourseForm):
    revision = RevisionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["code"]


class SessionForm(forms.Form):
    course = forms.CharField(label=_("course code"), max_length=32)
    unit = forms.CharField(label=_("organised by (unit code)"), max_length=32)
    venue_kind = forms.ChoiceField(label=_("where"), choices=VenueKind.choices)
    outlets = forms.CharField(
        label=_("outlets (codes, comma-separated)"),
        required=False,
        max_length=2000,  # some 180 codes; the API takes a list of up to 500
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    station = forms.CharField(label=_("station code"), max_length=32, required=False)
    venue = forms.CharField(label=_("venue"), max_length=200, required=False)
    starts_at = forms.CharField(label=_("starts at"), max_length=32, help_text=_("e.g. 2026-12-01 09:00"))
    ends_at = forms.CharField(label=_("ends at"), max_length=32)
    trainer = forms.CharField(label=_("trainer"), max_length=100, required=False)
    capacity = forms.CharField(label=_("capacity"), max_length=10)


class SessionEditForm(SessionForm):
    revision = RevisionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["course"], self.fields["unit"]


class CancelSessionForm(forms.Form):
    reason = forms.CharField(label=_("reason for cancelling"), max_length=200)
    revision = RevisionField()


class InviteForm(forms.Form):
    unit = forms.CharField(label=_("unit code (its subtree)"), max_length=32, required=False)
    position = forms.CharField(label=_("job title"), max_length=60, required=False)
    entries = forms.CharField(label=_("or roster numbers, comma-separated"), required=False)


class ResultForm(forms.Form):
    enrolment = forms.IntegerField(widget=forms.HiddenInput)
    grade = forms.CharField(label=_("grade"), max_length=10, required=False)
    status = forms.ChoiceField(
        label=_("attendance"),
        required=False,
        choices=[("", "—"), ("attended", _("Attended")), ("absent", _("Absent"))],
    )


class BadgeForm(forms.Form):
    badge = forms.CharField(label=_("staff badge (scan or type the staff number)"), max_length=64)


class ImportForm(forms.Form):
    file = forms.FileField(label=_("results sheet (.xlsx or .csv: 工号, 姓名, 成绩, 出勤)"))


class DrillForm(forms.Form):
    outlet = forms.CharField(label=_("outlet code"), max_length=32)
    kind = forms.ChoiceField(label=_("kind"), choices=DrillKind.choices)
    held_at = forms.CharField(label=_("held at"), help_text=_("e.g. 2026-12-01 09:00"))
    scenario = forms.CharField(label=_("scenario"), widget=forms.Textarea(attrs={"rows": 3}))
    times = forms.CharField(
        label=_("observed times (one per line: step seconds)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    participants = forms.CharField(label=_("participants (roster numbers, comma-separated)"), required=False)
    summary = forms.CharField(label=_("summary"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    exercises_plan = forms.BooleanField(
        label=_("the drill exercised the outlet's contingency plan"), required=False
    )


class FindingForm(forms.Form):
    title = forms.CharField(label=_("finding"), max_length=200)
    detail = forms.CharField(label=_("details"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    working_days = forms.CharField(label=_("working days to put it right"), max_length=3, initial="5")


class CoverageForm(forms.Form):
    unit = forms.CharField(required=False, max_length=32)
    day = forms.DateField(required=False)


def split_ids(text: str) -> list[str]:
    return [
        part.strip()
        for part in str(text or "").replace("，", ",").replace(" ", ",").split(",")
        if part.strip()
    ]
