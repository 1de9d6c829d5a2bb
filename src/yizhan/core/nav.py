"""Back-office navigation that apps plug into from their AppConfig.ready()."""

from dataclasses import dataclass

from django.urls import reverse


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str  # a lazy translation
    url_name: str
    order: int = 100
    perm: str = "read"  # "read" | "change" | "admin" | "hq_admin"


_items: dict[str, NavItem] = {}


def register(item: NavItem) -> None:
    _items[item.key] = item


def items_for(scope) -> list[dict]:
    visible = [i for i in _items.values() if scope.can(i.perm)]
    return [
        {"key": i.key, "label": i.label, "url": reverse(i.url_name)}
        for i in sorted(visible, key=lambda i: (i.order, i.key))
    ]


# Home-page panels: each app may summarise what waits for the user in their subtree.
# A provider takes the request and returns None (nothing to show) or
# {"title": str, "rows": [{"label": str, "value": int|str, "url": str, "alert": bool}]}, and
# optionally "table": {"columns": [str], "rows": [{"unit": str, "url": str, "cells": [{"value",
# "url" | None, "alert"}]}], "total": int, "more_url": str | None} (core/_panel_table.html).
_panels: dict[str, tuple[int, callable]] = {}


def register_panel(key: str, provider, order: int = 100) -> None:
    _panels[key] = (order, provider)


def panels_for(request) -> list[dict]:
    out = []
    for _order, provider in sorted(_panels.values(), key=lambda item: item[0]):
        panel = provider(request)
        if panel:
            out.append(panel)
    return out


# Unit-page panels: figures an app reports for one unit's subtree (the unit page, under its facts).
# A provider takes the request and the unit and returns None or
# {"title": str, "rows": [{"label": str, "value": int|str, "url": str | None, "alert": bool}]}.
_unit_panels: dict[str, tuple[int, callable]] = {}


def register_unit_panel(key: str, provider, order: int = 100) -> None:
    _unit_panels[key] = (order, provider)


def unit_panels_for(request, unit) -> list[dict]:
    out = []
    for _order, provider in sorted(_unit_panels.values(), key=lambda item: item[0]):
        panel = provider(request, unit)
        if panel:
            out.append(panel)
    return out
