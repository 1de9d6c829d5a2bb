"""Translation catalogues without GNU gettext: babel extracts and compiles, Django's own
`templatize` turns templates into code babel can read (as `makemessages` does)."""

import copy
import io
import json
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po
from django.utils.translation.template import templatize

PACKAGE_DIR = Path(__file__).resolve().parent.parent
LOCALES = ("zh_Hans", "en")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
PLURAL_FORMS = {"zh_Hans": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);"}


@dataclass
class Domain:
    """One folder whose strings land in its own locale/ (an app, or the project for the rest)."""

    root: Path
    sources: list[Path]

    @property
    def locale_dir(self) -> Path:
        return self.root / "locale"

    def po_path(self, locale: str) -> Path:
        return self.locale_dir / locale / "LC_MESSAGES" / "django.po"


def domains() -> list[Domain]:
    apps = sorted(p for p in PACKAGE_DIR.iterdir() if p.is_dir() and (p / "apps.py").exists())
    result = [Domain(app, _sources(app)) for app in apps]
    project_sources = list(PACKAGE_DIR.glob("*.py")) + _sources(PACKAGE_DIR / "templates")
    result.append(Domain(PACKAGE_DIR, sorted(project_sources)))
    return result


def _sources(folder: Path) -> list[Path]:
    if not folder.exists():
        return []
    files = [
        p
        for p in folder.rglob("*")
        if p.suffix in {".py", ".html", ".txt", ".svg"}
        and "tests" not in p.parts
        and "migrations" not in p.parts
        and "locale" not in p.parts
        and p.is_file()
    ]
    return sorted(files)


def extract_messages(domain: Domain) -> Catalog:
    catalog = Catalog(fuzzy=False)
    for path in domain.sources:
        if path.suffix == ".py":
            data = path.read_bytes()
        else:
            data = templatize(path.read_text("utf-8"), origin=str(path)).encode("utf-8")
        for lineno, message, comments, context in extract(
            "python", io.BytesIO(data), keywords=KEYWORDS, options={"encoding": "utf-8"}
        ):
            if not message or (isinstance(message, tuple) and not message[0]):
                continue
            location = (str(path.relative_to(PACKAGE_DIR)), lineno)
            catalog.add(message, locations=[location], auto_comments=comments, context=context)
    return catalog


def load_po(path: Path, locale: str) -> Catalog:
    if path.exists():
        with path.open("rb") as fh:
            return read_po(fh, locale=locale)
    catalog = Catalog(locale=locale, project="yizhan", fuzzy=False)
    return catalog


def save_po(catalog: Catalog, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    write_po(
        out, catalog, width=0, omit_header=False, sort_output=True, ignore_obsolete=True, include_lineno=False
    )
    _write_if_changed(path, out.getvalue())


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


def compiled_mo(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def update(domain: Domain) -> dict[str, int]:
    """Merge freshly extracted strings into each locale's .po, keep translations, compile .mo."""
    template = extract_messages(domain)
    missing = {}
    for locale in LOCALES:
        path = domain.po_path(locale)
        if not template and not path.exists():
            continue
        catalog = load_po(path, locale)
        created = catalog.creation_date
        # Babel's update inserts the template's own Message objects for new strings: a copy per
        # locale, else the Chinese filled in below leaks into the English catalogue.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        # Keep the header date as it was, so an unchanged catalogue is rewritten byte for byte.
        catalog.creation_date = created
        catalog.fuzzy = False
        catalog.project = "yizhan"
        catalog.charset = "utf-8"
        if locale == "en":
            _fill_english(catalog)
        else:
            _fill_from_known(catalog, locale)
        save_po(catalog, path)
        _write_if_changed(path.with_suffix(".mo"), compiled_mo(load_po(path, locale)))
        missing[locale] = len(untranslated(catalog))
    return missing


def _fill_english(catalog: Catalog) -> None:
    # The sources are English: the English catalogue is the identity, kept complete mechanically.
    for message in catalog:
        if not message.id:
            continue
        if isinstance(message.id, tuple | list):
            if not any(message.string):
                message.string = tuple(message.id)
        elif not message.string:
            message.string = message.id
        message.flags.discard("fuzzy")


def _known_translations(locale: str) -> dict:
    known = {}
    for domain in domains():
        path = domain.po_path(locale)
        if path.exists():
            for message in load_po(path, locale):
                if message.id and message.string and "fuzzy" not in message.flags:
                    key = message.id if isinstance(message.id, str) else tuple(message.id)
                    known[(message.context, key)] = message.string
    return known


def _fill_from_known(catalog: Catalog, locale: str) -> None:
    """A string already translated in another app's catalogue is reused, not asked for again."""
    known = None
    for message in untranslated(catalog):
        if known is None:
            known = _known_translations(locale)
        key = message.id if isinstance(message.id, str) else tuple(message.id)
        if (message.context, key) in known:
            message.string = known[(message.context, key)]
            message.flags.discard("fuzzy")


def untranslated(catalog: Catalog) -> list:
    result = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
        if "fuzzy" in message.flags or not all(strings):
            result.append(message)
    return result


def missing_json(domain: Domain, locale: str = "zh_Hans") -> dict:
    catalog = load_po(domain.po_path(locale), locale)
    out = {}
    for message in untranslated(catalog):
        key = message.id[0] if isinstance(message.id, tuple | list) else message.id
        if message.context:
            key = f"{message.context}\x04{key}"
        out[key] = ""
    return out


def apply_json(translations: dict, locale: str = "zh_Hans") -> int:
    """Fill translations given as {msgid: text} (or {"context\\x04msgid": text}) into every domain."""
    applied = 0
    for domain in domains():
        path = domain.po_path(locale)
        if not path.exists():
            continue
        catalog = load_po(path, locale)
        changed = False
        for message in catalog:
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, tuple | list) else message.id
            if message.context:
                key = f"{message.context}\x04{key}"
            text = translations.get(key)
            already = message.string if isinstance(message.string, tuple | list) else (message.string,)
            if not text or (all(already) and "fuzzy" not in message.flags):
                continue  # never overwrite another app's reviewed translation
            if isinstance(message.id, tuple | list):
                texts = text if isinstance(text, list) else [text]
                message.string = tuple(texts[: catalog.num_plurals] or [""])
            else:
                message.string = text
            message.flags.discard("fuzzy")
            applied += 1
            changed = True
        if changed:
            save_po(catalog, path)
            _write_if_changed(path.with_suffix(".mo"), compiled_mo(load_po(path, locale)))
    return applied


def dumps_missing() -> str:
    out = {}
    for domain in domains():
        if domain.po_path("zh_Hans").exists():
            out.update(missing_json(domain))
    return json.dumps(out, ensure_ascii=False, indent=1)
