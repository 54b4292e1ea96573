"""Fill the French catalogue's missing or fuzzy entries from a Python file of translations.

    python scripts/fill_fr_catalogue.py TRANSLATIONS.py

TRANSLATIONS.py defines T (msgid -> msgstr) and P (msgid -> [singular, plural]). Prints the
entries still missing afterwards; `make messages` compiles the result.
"""

import runpy
import sys
from pathlib import Path

import polib

CATALOGUE = Path(__file__).resolve().parents[1] / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def needs_work(entry: polib.POEntry) -> bool:
    if "fuzzy" in entry.flags:
        return True
    if entry.msgid_plural:
        return not all(entry.msgstr_plural.values())
    return not entry.msgstr


def main(path: str) -> int:
    given = runpy.run_path(path)
    singular, plural = given.get("T", {}), given.get("P", {})
    catalogue = polib.pofile(str(CATALOGUE))
    missing = []
    for entry in catalogue:
        if entry.obsolete or not needs_work(entry):
            continue
        if entry.msgid_plural and entry.msgid in plural:
            entry.msgstr_plural = dict(enumerate(plural[entry.msgid]))
        elif not entry.msgid_plural and entry.msgid in singular:
            entry.msgstr = singular[entry.msgid]
        else:
            missing.append(entry.msgid)
            continue
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = entry.previous_msgid_plural = None
    catalogue.save()
    for msgid in missing:
        print(f"missing: {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
