from django import forms
from django.core.exceptions import ValidationError


def apply_errors(form: forms.Form, exc: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """Put a service's ValidationError on the form fields it names (others on the form itself).

    `aliases` maps a service field the form does not show to the form field that caused it. A
    stale edit (`StaleEdit`) lists what changed meanwhile and moves the form's hidden revision on
    to the current one, so that the user's input, re-shown, can be checked and saved again.
    """
    from yizhan.core.concurrency import StaleEdit

    if isinstance(exc, StaleEdit) and "revision" in form.fields and form.is_bound:
        form.data = form.data.copy()
        form.data[form.add_prefix("revision")] = str(exc.current)
    aliases = aliases or {}
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            field = aliases.get(field, field)
            target = field if field in form.fields else None
            for message in errors:
                form.add_error(target, message)
    else:
        for message in exc.messages:
            form.add_error(None, message)


class CrsField(forms.ChoiceField):
    def __init__(self, **kwargs):
        from django.utils.translation import gettext_lazy as _

        kwargs.setdefault("label", _("coordinate system"))
        kwargs.setdefault("initial", "wgs84")
        super().__init__(
            choices=[
                ("wgs84", "WGS-84 (GPS)"),
                ("gcj02", _("GCJ-02 (Amap, Tencent)")),
                ("bd09", _("BD-09 (Baidu)")),
            ],
            **kwargs,
        )


class RevisionField(forms.IntegerField):
    """The hidden revision an edit form was shown with (see yizhan.core.concurrency)."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        from django.utils.translation import gettext_lazy as _

        message = _("This form does not say which revision it was based on; reload the page and edit again.")
        kwargs.setdefault("min_value", 0)
        kwargs.setdefault("error_messages", {"required": message, "invalid": message, "min_value": message})
        super().__init__(**kwargs)
