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
