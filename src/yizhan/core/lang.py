from django.utils.translation import get_language


def localised(name: str, name_en: str | None) -> str:
    """The English name when the active language is English and there is one; else the Chinese."""
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name
