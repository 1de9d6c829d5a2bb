"""Both catalogues are complete for every translatable string in the code and templates,
and the compiled .mo files match their .po sources."""

import pytest
from django.test import Client

from yizhan.core import i18n

DOMAINS = i18n.domains()


@pytest.mark.parametrize("domain", DOMAINS, ids=[d.root.name for d in DOMAINS])
@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_catalogue_complete(domain, locale):
    extracted = i18n.extract_messages(domain)
    catalog = i18n.load_po(domain.po_path(locale), locale)
    missing = [m.id for m in extracted if m.id and catalog.get(m.id, context=m.context) is None]
    assert not missing, f"{domain.root.name}/{locale}: run `make messages` — not in catalogue: {missing[:5]}"
    untranslated = [m.id for m in i18n.untranslated(catalog)]
    assert not untranslated, f"{domain.root.name}/{locale}: untranslated: {untranslated[:5]}"


@pytest.mark.parametrize("domain", DOMAINS, ids=[d.root.name for d in DOMAINS])
@pytest.mark.parametrize("locale", i18n.LOCALES)
def test_mo_matches_po(domain, locale):
    po = domain.po_path(locale)
    if not po.exists():
        pytest.skip("no strings in this app yet")
    assert po.with_suffix(".mo").read_bytes() == i18n.compiled_mo(i18n.load_po(po, locale))


def test_default_language_is_chinese(db):
    body = Client().get("/manage/login/").content.decode()
    assert 'lang="zh-hans"' in body
    assert "登录" in body


def test_switch_to_english_is_remembered(db):
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/manage/login/"})
    assert response.status_code == 302
    body = client.get("/manage/login/").content.decode()
    assert 'lang="en"' in body and "Log in to the back office" in body


def test_one_msgid_one_translation_across_apps():
    """Django merges every app's catalogue into one: the same msgid translated two ways in two
    apps would show one app's wording in the other. Use a distinct msgid or a context instead."""
    seen: dict = {}
    for domain in DOMAINS:
        path = domain.po_path("zh_Hans")
        if not path.exists():
            continue
        for message in i18n.load_po(path, "zh_Hans"):
            if not message.id:
                continue
            key = (message.context, message.id if isinstance(message.id, str) else tuple(message.id))
            text = message.string if isinstance(message.string, str) else tuple(message.string)
            seen.setdefault(key, {}).setdefault(text, []).append(domain.root.name)
    conflicts = {key: texts for key, texts in seen.items() if len(texts) > 1}
    assert not conflicts, conflicts
