"""Forms only shape the HTTP input; the rules live in the services' clean_* functions."""

from django import forms
from django.utils.translation import gettext_lazy as _

from yizhan.core.forms import RevisionField
from yizhan.supplies.models import Category, Driver, Item, RecipientKind
from yizhan.visits.models import Group

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def item_choices():
    return [("", "—")] + [(i.code, f"{i.name}（{i.uom}）") for i in Item.objects.filter(active=True)]


class ItemChoice(forms.ChoiceField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("item"))
        super().__init__(choices=item_choices, **kwargs)


# Quantities are text here so that the service's one rule (whole number, at least 1) names the
# mistake; a number input would let the browser reject "2.5" with its own words, or not at all.
def qty_field(label=None, **kwargs):
    return forms.CharField(
        label=label or _("quantity"),
        max_length=12,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
        **kwargs,
    )


class AdjustForm(forms.Form):
    item = ItemChoice()
    qty = qty_field(_("difference (+ or -)"))
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)
    lot = forms.CharField(label=_("lot"), max_length=40, required=False)
    expires_on = forms.CharField(label=_("expires on"), required=False, widget=DATE)


class WriteOffForm(forms.Form):
    item = ItemChoice()
    qty = qty_field()
    reason = forms.CharField(label=_("reason (expired, damaged…)"), max_length=200, required=False)
    lot = forms.CharField(label=_("lot"), max_length=40, required=False)


class LevelForm(forms.Form):
    minimum = forms.CharField(label=_("minimum"), max_length=10)
    reorder_point = forms.CharField(label=_("reorder point"), max_length=10)
    maximum = forms.CharField(label=_("maximum"), max_length=10, required=False)
    lead_days = forms.CharField(label=_("lead time (days)"), max_length=4)
    revision = RevisionField(required=False)


class SnoozeForm(forms.Form):
    snoozed_until = forms.CharField(label=_("no messages until"), required=False, widget=DATE,
                                    help_text=_("Leave empty to end the snooze."))  # fmt: skip
    revision = RevisionField()


class ReverseForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=200, required=False)


class ItemForm(forms.Form):
    code = forms.CharField(label=_("code"), max_length=32)
    name = forms.CharField(label=_("name (Chinese)"), max_length=100)
    name_en = forms.CharField(label=_("name (English)"), max_length=200, required=False)
    uom = forms.CharField(label=_("unit of measure"), max_length=10)
    category = forms.ChoiceField(label=_("category"), choices=Category.choices)
    expiry_tracked = forms.BooleanField(label=_("expiry tracked"), required=False)
    lot_tracked = forms.BooleanField(label=_("lot tracked"), required=False)
    driver = forms.ChoiceField(label=_("use follows"), choices=Driver.choices, required=False)
    per_use = forms.CharField(label=_("used per check-in"), max_length=10, required=False)
    active = forms.BooleanField(label=_("in use"), required=False, initial=True)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["revision"] = RevisionField()


# --- several items in one form -------------------------------------------------------------------
# Numbered rows (item_0, qty_0, …) rather than a formset: no management form to tamper with, a
# blank row is simply skipped, and "More rows" is a submit button, so it all works without
# JavaScript. The service reports a bad line as `lines.N.field`; `row_alias` maps it back.

ROWS, MAX_ROWS = 5, 50


def row_count(data, more: bool = False) -> int:
    try:
        rows = int((data or {}).get("rows") or ROWS)
    except ValueError:
        rows = ROWS
    return max(1, min(MAX_ROWS, rows + (ROWS if more else 0)))


class LinesForm(forms.Form):
    line_fields: tuple[str, ...] = ("item", "qty")
    rows = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, rows: int = ROWS, **kwargs):
        super().__init__(*args, **kwargs)
        self.row_total = rows
        self.initial["rows"] = rows
        if self.is_bound:
            self.data = self.data.copy()
            self.data["rows"] = str(rows)
        for r in range(rows):
            for name in self.line_fields:
                field = self.line_field(name)
                field.required = False
                self.fields[f"{name}_{r}"] = field

    def line_field(self, name):
        if name == "item":
            return ItemChoice()
        if name == "qty":
            return qty_field()
        if name == "lot":
            return forms.CharField(label=_("lot"), max_length=40)
        return forms.CharField(label=_("expires on"), widget=DATE)

    def header_fields(self):
        return [self[name] for name in self.fields if not self._is_line(name) and name != "rows"]

    def row_fields(self):
        return [(r + 1, [self[f"{name}_{r}"] for name in self.line_fields]) for r in range(self.row_total)]

    def _is_line(self, name):
        base, _sep, r = name.rpartition("_")
        return base in self.line_fields and r.isdigit()

    def lines(self) -> tuple[list[dict], list[int]]:
        """The filled rows' values and, beside them, each one's row number in the form."""
        lines, rows = [], []
        for r in range(self.row_total):
            values = {name: self.cleaned_data.get(f"{name}_{r}") or "" for name in self.line_fields}
            if any(str(v).strip() for v in values.values()):
                lines.append(values)
                rows.append(r)
        return lines, rows

    def row_errors(self) -> list[tuple[int, str, str]]:
        """(row number, field label, message) of every bad row field, for the summary on top."""
        return [
            (number, field.label, message)
            for number, fields in self.row_fields()
            for field in fields
            for message in field.errors
        ]

    def row_aliases(self, rows: list[int]) -> dict[str, str]:
        return {
            f"lines.{n}.{name}": f"{name}_{r}" for n, r in enumerate(rows) for name in self.line_fields
        } | {"lines": "item_0"}


class ReceiveLinesForm(LinesForm):
    line_fields = ("item", "qty", "lot", "expires_on")
    reason = forms.CharField(label=_("source or note"), max_length=200, required=False)


class IssueLinesForm(LinesForm):
    recipient_kind = forms.ChoiceField(label=_("given to"), choices=RecipientKind.choices)
    group = forms.ChoiceField(label=_("visitor group"), choices=[("", "—"), *Group.choices], required=False,
                              help_text=_("For outdoor workers: no name is recorded, only the group."))  # fmt: skip
    people = forms.CharField(label=_("people"), max_length=8, required=False)
    recipient = forms.CharField(label=_("recipient"), max_length=100, required=False,
                                help_text=_("Name the outside group (a checkpoint, a hotel…)."))  # fmt: skip
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class SendLinesForm(LinesForm):
    to_unit = forms.CharField(label=_("to (unit code)"), max_length=32)
    carrier = forms.CharField(label=_("carried by"), max_length=100, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class RequestLinesForm(LinesForm):
    note = forms.CharField(label=_("note"), max_length=200, required=False)
