from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import CrsField, RevisionField
from yizhan.mobile.models import HolidayRule, PlaceKind


class PlaceForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100, required=False)
    kind = forms.ChoiceField(label=_("kind"), choices=PlaceKind.choices, initial=PlaceKind.OTHER)
    address = forms.CharField(label=_("address"), max_length=255, required=False)
    lat = forms.CharField(label=_("latitude"), max_length=30, required=False)
    lng = forms.CharField(label=_("longitude"), max_length=30, required=False)
    crs = CrsField()


class ScheduleForm(forms.Form):
    place = forms.ChoiceField(label=_("place"), choices=[])
    rrule = forms.CharField(
        label=_("recurrence (RRULE)"),
        max_length=300,
        required=False,
        help_text=_("for example FREQ=WEEKLY;BYDAY=MO,TH"),
    )
    start_time = forms.CharField(
        label=_("from"), max_length=5, required=False, help_text=_("for example 10:00")
    )
    end_time = forms.CharField(
        label=_("until"), max_length=5, required=False, help_text=_("for example 16:00")
    )
    valid_from = forms.CharField(
        label=_("valid from"), max_length=10, required=False, help_text=_("for example 2026-12-01")
    )
    valid_to = forms.CharField(label=_("valid to"), max_length=10, required=False)
    on_holiday = forms.ChoiceField(label=_("on a public holiday"), choices=HolidayRule.choices)

    def __init__(self, *args, places=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].choices = [(str(p.pk), p.name) for p in places]


class ScheduleEditForm(ScheduleForm):
    revision = RevisionField()

    @staticmethod
    def initial_for(schedule) -> dict:
        """The form's values from a saved schedule, as a user would type them."""
        return {
            "place": str(schedule.place_id),
            "rrule": schedule.rrule,
            "start_time": schedule.start_time.strftime("%H:%M"),
            "end_time": schedule.end_time.strftime("%H:%M"),
            "valid_from": schedule.valid_from.isoformat(),
            "valid_to": schedule.valid_to.isoformat() if schedule.valid_to else "",
            "on_holiday": schedule.on_holiday,
            "revision": schedule.revision,
        }


class SwitchForm(forms.Form):
    """Stop a schedule or switch it on: only the revision it was shown with."""

    revision = RevisionField()


class CancelForm(forms.Form):
    notice = forms.CharField(
        label=_("notice to the public"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    revision = RevisionField()
