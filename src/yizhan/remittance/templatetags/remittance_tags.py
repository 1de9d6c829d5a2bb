from django import template
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe

from yizhan.core.masking import mask_account, mask_phone

register = template.Library()


def highlight_spans(text: str, spans) -> str:
    """The original text, escaped, with each hit's span in <mark> (overlapping spans merged)."""
    text = text or ""
    merged: list[list[int]] = []
    for start, end, _title in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    titles = {}
    for start, end, title in spans:
        for m in merged:
            if m[0] <= start and end <= m[1]:
                titles.setdefault(tuple(m), []).append(title)
    out, cursor = [], 0
    for start, end in merged:
        out.append(escape(text[cursor:start]))
        title = " · ".join(dict.fromkeys(titles.get((start, end), [])))
        out.append(format_html('<mark title="{}">{}</mark>', title, text[start:end]))
        cursor = end
    out.append(escape(text[cursor:]))
    return mark_safe("".join(str(part) for part in out))  # noqa: S308 - every part is escaped above


@register.simple_tag
def highlight(instruction, field_name: str):
    """{% highlight inst "payee_name" %}: the field with the spans its hits found (hits prefetched)."""
    spans = [(h.start, h.end, h.explanation()) for h in instruction.hits.all() if h.field == field_name]
    return highlight_spans(getattr(instruction, field_name), spans)


@register.simple_tag
def hit_in_context(instruction, hit):
    """{% hit_in_context inst hit %}: the whole field with this one hit's span in <mark>."""
    return highlight_spans(getattr(instruction, hit.field), [(hit.start, hit.end, hit.explanation())])


@register.filter
def account(value):
    return mask_account(value)


@register.filter
def phone(value):
    return mask_phone(value)


@register.filter
def yuan(value):
    """12345.6 -> 12,345.60: amounts are exact decimals, shown with thousands separators."""
    if value in (None, ""):
        return ""
    return format(value, ",.2f")
