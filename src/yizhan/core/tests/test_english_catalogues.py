"""The English catalogues are the identity of English msgids: a Chinese msgstr there (once seen
for the site's 404 page: "Map" → "地图") turns the English pages Chinese."""

import re

from babel.messages.pofile import read_po

from yizhan.core import i18n

CJK = re.compile(r"[\u3400-\u9fff]")


def test_no_english_catalogue_answers_in_chinese():
    wrong = []
    for domain in i18n.domains():
        path = domain.po_path("en")
        if not path.exists():
            continue
        with path.open("rb") as fh:
            catalog = read_po(fh, locale="en")
        for message in catalog:
            ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
            strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
            if (
                message.id
                and not any(CJK.search(i) for i in ids)
                and any(CJK.search(s or "") for s in strings)
            ):
                wrong.append(f"{path}: {ids[0]!r} -> {strings[0]!r}")
    assert not wrong, "\n".join(wrong)


def test_a_string_new_to_an_app_but_known_elsewhere_stays_english_in_english(tmp_path, monkeypatch):
    """Regression: babel shared the template's message between the zh and en catalogues."""
    app = tmp_path / "app"
    (app / "templates").mkdir(parents=True)
    (app / "templates" / "x.html").write_text('{% load i18n %}{% translate "Map" %}', encoding="utf-8")
    domain = i18n.Domain(app, [app / "templates" / "x.html"])
    monkeypatch.setattr(i18n, "PACKAGE_DIR", tmp_path)
    monkeypatch.setattr(i18n, "_known_translations", lambda locale: {(None, "Map"): "地图"})
    i18n.update(domain)
    english = i18n.load_po(domain.po_path("en"), "en")
    chinese = i18n.load_po(domain.po_path("zh_Hans"), "zh_Hans")
    assert english["Map"].string == "Map" and chinese["Map"].string == "地图"
