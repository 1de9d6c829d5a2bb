from django import forms
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError


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


def flash_errors(request, problem: forms.Form | ValidationError, form: forms.Form | None = None) -> None:
    """Flash what a POST that redirects refused, one message each: "label: message" for a field's
    error, the plain message for the form's own errors and for a field without a label (the hidden
    revision). A bound form gives the first error of each field; a service's ValidationError all
    its messages, labelled from `form` where it names one of its fields."""
    if isinstance(problem, ValidationError):
        errors = (
            problem.message_dict if hasattr(problem, "error_dict") else {NON_FIELD_ERRORS: problem.messages}
        )
    else:
        form, errors = problem, {field: [found[0]] for field, found in problem.errors.items()}
    for field, found in errors.items():
        label = form.fields[field].label if form is not None and field in form.fields else None
        for message in found:
            messages.error(request, f"{label}: {message}" if label else message)


def submit(request, form: forms.Form, act, done) -> bool:
    """The round of a POST-only action that redirects however it ends: a valid form runs
    `act(**form.cleaned_data)` (a service verb with its object and actor bound, e.g. by
    functools.partial) and flashes `done`; invalid input or the verb's refusal is flashed instead
    (see flash_errors). True when the verb ran."""
    if not form.is_valid():
        flash_errors(request, form)
        return False
    try:
        act(**form.cleaned_data)
    except ValidationError as exc:
        flash_errors(request, exc, form)
        return False
    messages.success(request, done)
    return True


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
