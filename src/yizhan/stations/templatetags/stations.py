from django import template
from django.utils.html import format_html

register = template.Library()


@register.simple_tag
def facility_icon(facility, size: int = 20):
    """The facility's line icon, inline (no sprite request, no icon font)."""
    return format_html(
        '<svg class="ficon" width="{}" height="{}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">'
        '<path d="{}" fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" '
        'stroke-linejoin="round"/></svg>',
        size,
        size,
        facility.icon,
    )


@register.filter
def pct(value):
    return "—" if value is None else f"{value:.1f}%"
