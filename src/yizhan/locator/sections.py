"""Sections other apps add to a station's public page (upcoming events, group offers).

An app registers `(key, template, provider)` in its AppConfig.ready(); `provider(station, request)`
returns the template's context or None (nothing to show). Only the station page calls them — the
nearest-station search never does, so the locator's hot path stays as it is.
"""

_sections: dict[str, tuple[str, callable]] = {}


def register(key: str, template: str, provider) -> None:
    _sections[key] = (template, provider)


def for_station(station, request) -> list[dict]:
    out = []
    for template, provider in _sections.values():
        data = provider(station, request)
        if data:
            out.append({"template": template, "data": data})
    return out
