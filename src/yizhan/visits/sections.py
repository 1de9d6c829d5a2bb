"""Sections other apps add to the check-in thank-you page (the group offers of `yizhan.events`).

An app registers `(key, template, provider)` in its AppConfig.ready(); `provider(station, group,
request)` returns the template's context or None. `group` is the visit group the visitor ticked,
carried in the thank-you address only: nothing about the visitor is stored for this. visits
imports no app that registers here, as the locator's station sections do.
"""

_sections: dict[str, tuple[str, callable]] = {}


def register(key: str, template: str, provider) -> None:
    _sections[key] = (template, provider)


def for_checkin(station, group: str, request) -> list[dict]:
    out = []
    for template, provider in _sections.values():
        data = provider(station, group, request)
        if data:
            out.append({"template": template, "data": data})
    return out
