"""Back-office forms. They only shape the HTTP input; the rules live in services.clean_*."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import CrsField, RevisionField
from yizhan.stations.models import AccessPolicy, Facility, FacilityState, HolidayKind, Standard, Theme

DATE = forms.DateInput(attrs={"type": "date"})


class StationForm(forms.Form):
    code = forms.CharField(label=_("code"), max_length=32)
    name = forms.CharField(label=_("name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("name (English)"), max_length=200, required=False)
    unit = forms.CharField(label=_("outlet (code)"), max_length=32)
    address = forms.CharField(
        label=_("address"), max_length=255, required=False, help_text=_("Blank: the outlet's address.")
    )
    lat = forms.FloatField(label=_("latitude"), required=False, help_text=_("Blank: the outlet's position."))
    lng = forms.FloatField(label=_("longitude"), required=False)
    crs = CrsField()
    phone = forms.CharField(label=_("phone"), max_length=40, required=False)
    sign_installed_on = forms.DateField(label=_("sign installed on"), required=False, widget=DATE)
    themes = forms.MultipleChoiceField(label=_("themes"), required=False, widget=forms.CheckboxSelectMultiple)
    seats = forms.IntegerField(label=_("seats"), required=False)
    access_policy = forms.ChoiceField(label=_("access policy"), choices=AccessPolicy.choices)
    external_ids = forms.CharField(
        label=_("external ids"), required=False, help_text=_("e.g. amap=B0FFG12345; baidu=123456")
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["themes"].choices = [(t.code, t.display_name) for t in Theme.objects.all()]
        if editing:
            self.fields["code"].disabled = True
            self.fields["code"].help_text = _("A station's code never changes: it is printed in QR codes.")
            self.fields["revision"] = RevisionField()


class FacilitiesForm(forms.Form):
    """One row per catalogue facility: state, out of order, since, note."""

    revision = RevisionField()  # the station's: facility states are part of it

    def __init__(self, *args, facilities: list[Facility], **kwargs):
        super().__init__(*args, **kwargs)
        self.facilities = facilities
        for f in facilities:
            self.fields[f"{f.code}__state"] = forms.ChoiceField(
                label=f.display_name, choices=FacilityState.choices, initial=FacilityState.UNKNOWN
            )
            self.fields[f"{f.code}__out_of_order"] = forms.BooleanField(
                label=_("out of order"), required=False
            )
            self.fields[f"{f.code}__out_of_order_since"] = forms.DateField(
                label=_("since"), required=False, widget=DATE
            )
            self.fields[f"{f.code}__note"] = forms.CharField(label=_("note"), max_length=200, required=False)

    def rows(self):
        for f in self.facilities:
            yield (
                f,
                [
                    self[f"{f.code}__{part}"]
                    for part in ("state", "out_of_order", "out_of_order_since", "note")
                ],
            )


DAY_LABELS = [
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
    ("sat", _("Saturday")),
    ("sun", _("Sunday")),
]


class HoursForm(forms.Form):
    always_open = forms.BooleanField(label=_("open 24 hours, every day (24/7 area)"), required=False)
    statutory = forms.BooleanField(
        label=_("follows the statutory calendar (closed on public holidays, open on make-up workdays)"),
        required=False,
    )
    exceptions = forms.CharField(
        label=_("date exceptions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: 2026-10-08 closed reason — or 2026-10-09 10:00-15:00 reason"),
    )
    revision = RevisionField()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in DAY_LABELS:
            self.fields[key] = forms.CharField(
                label=label, required=False, help_text=_("e.g. 09:00-12:00, 14:00-17:30; blank: closed")
            )
        order = [key for key, _label in DAY_LABELS] + ["always_open", "statutory", "exceptions"]
        self.order_fields(order)

    @staticmethod
    def initial_for(data: dict) -> dict:
        weekly = (data or {}).get("weekly") or {}
        initial = {key: ", ".join(f"{a}-{b}" for a, b in weekly.get(key) or []) for key, _l in DAY_LABELS}
        initial["always_open"] = bool((data or {}).get("always_open"))
        initial["statutory"] = bool((data or {}).get("statutory", True))
        lines = []
        for item in (data or {}).get("exceptions") or []:
            what = "closed" if item.get("closed") else ",".join(f"{a}-{b}" for a, b in item["intervals"])
            lines.append(f"{item['date']} {what} {item.get('reason', '')}".strip())
        initial["exceptions"] = "\n".join(lines)
        return initial

    def to_schedule(self) -> dict:
        """The JSON for services.set_schedule; its ValidationError names opening_hours.<day>."""
        data = self.cleaned_data
        weekly = {}
        for key, _label in DAY_LABELS:
            text = (data.get(key) or "").strip()
            weekly[key] = [
                [part.split("-")[0].strip(), part.split("-")[1].strip()]
                if part.count("-") == 1
                else [part, ""]
                for part in text.replace("，", ",").split(",")
                if part.strip()
            ]
        exceptions = []
        for line in (data.get("exceptions") or "").splitlines():
            words = line.split(None, 2)
            if not words:
                continue
            entry = {"date": words[0], "reason": words[2] if len(words) > 2 else ""}
            what = words[1] if len(words) > 1 else ""
            if what.lower() in ("closed", "休息", "闭馆"):
                entry["closed"] = True
            else:
                entry["intervals"] = [p.split("-", 1) if "-" in p else [p, ""] for p in what.split(",") if p]
            exceptions.append(entry)
        return {
            "weekly": weekly,
            "always_open": data.get("always_open", False),
            "statutory": data.get("statutory", False),
            "exceptions": exceptions,
        }

    @staticmethod
    def field_for(error_key: str) -> str | None:
        """opening_hours.mon -> mon; opening_hours.exceptions[2].date -> exceptions."""
        rest = error_key.removeprefix("opening_hours").lstrip(".")
        if not rest:
            return None
        head = rest.split(".")[0].split("[")[0]
        return head if head in {k for k, _l in DAY_LABELS} | {"exceptions"} else None


class CloseForm(forms.Form):
    public_notice = forms.CharField(
        label=_("public notice"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the station's public page, e.g. why and until when."),
    )
    temporary = forms.BooleanField(label=_("temporarily (it will reopen)"), required=False, initial=True)
    reopens_on = forms.DateField(label=_("reopens on"), required=False, widget=DATE)
    revision = RevisionField()


class BulkFacilityForm(forms.Form):
    facility = forms.ChoiceField(label=_("facility"))
    state = forms.ChoiceField(label=_("state"), choices=FacilityState.choices)
    out_of_order = forms.BooleanField(label=_("out of order"), required=False)
    out_of_order_since = forms.DateField(label=_("since"), required=False, widget=DATE)
    note = forms.CharField(label=_("note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["facility"].choices = [(f.code, f.display_name) for f in Facility.objects.all()]


class ImportForm(forms.Form):
    file = forms.FileField(label=_("file (xlsx or csv)"))
    dry_run = forms.BooleanField(
        label=_("dry run: check every row, write nothing"), required=False, initial=True
    )


class WaveForm(forms.Form):
    name = forms.CharField(label=_("name"), max_length=100)
    name_en = forms.CharField(label=_("name (English)"), max_length=200, required=False)
    unit = forms.CharField(label=_("run by (unit code)"), max_length=32)
    standard = forms.ChoiceField(label=_("standard to meet"))
    target_date = forms.DateField(label=_("target date"), widget=DATE)
    all_outlets = forms.BooleanField(label=_("every outlet below the unit"), required=False)
    outlets = forms.CharField(
        label=_("outlets (codes)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Separated by spaces, commas or new lines."),
    )
    note = forms.CharField(label=_("note"), max_length=500, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["revision"] = RevisionField()
        self.fields["standard"].choices = [
            (s.pk, f"{s.display_name} ({s.version})") for s in Standard.objects.filter(is_active=True)
        ]


class StandardForm(forms.Form):
    code = forms.CharField(label=_("code"), max_length=40)
    version = forms.CharField(label=_("version"), max_length=20)
    name = forms.CharField(label=_("name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("name (English)"), max_length=200, required=False)
    theme = forms.ChoiceField(label=_("applies to"), required=False)
    facilities = forms.MultipleChoiceField(
        label=_("required facilities"), widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("in force"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["revision"] = RevisionField()
        self.fields["theme"].choices = [("", _("every station"))] + [
            (t.code, t.display_name) for t in Theme.objects.all()
        ]
        self.fields["facilities"].choices = [(f.code, f.display_name) for f in Facility.objects.all()]


class HolidayForm(forms.Form):
    date = forms.DateField(label=_("date"), widget=DATE)
    kind = forms.ChoiceField(label=_("kind"), choices=HolidayKind.choices)
    name = forms.CharField(label=_("name"), max_length=60, required=False)


class HolidayImportForm(forms.Form):
    year = forms.IntegerField(label=_("year"), initial=lambda: timezone.localdate().year + 1)
    file = forms.FileField(
        label=_("arrangement (xlsx or csv)"),
        required=False,
        help_text=_(
            "Columns 日期 (date), 类型 (休 or 班), 名称 (name). Leave empty to take the year from chinesecalendar."
        ),
    )
