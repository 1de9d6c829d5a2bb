from django import template

from yizhan.audit.display import format_events

register = template.Library()


@register.filter
def audit_rows(events):
    """{% for e in events|audit_rows %}: the events formatted for reading (yizhan.audit.display)."""
    return format_events(events)
