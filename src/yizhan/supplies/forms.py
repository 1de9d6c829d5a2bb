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


class ReceiveForm(forms.Form):
    item = ItemChoice()
    qty = qty_field()
    lot = forms.CharField(label=_("lot"), max_length=40, required=False)
    expires_on = forms.CharField(label=_("expires on"), required=False, widget=DATE)
    reason = forms.CharField(label=_("source or note"), max_length=200, required=False)


class IssueForm(forms.Form):
    item = ItemChoice()
    qty = qty_field()
    recipient_kind = forms.ChoiceField(label=_("given to"), choices=RecipientKind.choices)
    group = forms.ChoiceField(label=_("visitor group"), choices=[("", "—"), *Group.choices], required=False,
                              help_text=_("For outdoor workers: no name is recorded, only the group."))  # fmt: skip
    people = forms.CharField(label=_("people"), max_length=8, required=False)
    recipient = forms.CharField(label=_("recipient"), max_length=100, required=False,
                                help_text=_("Name the outside group (a checkpoint, a hotel…)."))  # fmt: skip
    note = forms.CharField(label=_("note"), max_length=200, required=False)


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


class SendForm(forms.Form):
    to_unit = forms.CharField(label=_("to (unit code)"), max_length=32)
    item = ItemChoice()
    qty = qty_field()
    carrier = forms.CharField(label=_("carried by"), max_length=100, required=False)
    note = forms.CharField(label=_("note"), max_length=200, required=False)


class RequestForm(forms.Form):
    item = ItemChoice()
    qty = qty_field()
    note = forms.CharField(label=_("note"), max_length=200, required=False)


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
