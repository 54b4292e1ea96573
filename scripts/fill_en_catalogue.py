"""Make the English catalogue the identity of the English source strings.

The source strings are English, so the English catalogue is the identity; keeping it complete
lets the catalogue test tell a forgotten French translation from a new string.
Run by `make messages` after makemessages.
"""

import sys
from pathlib import Path

import polib

path = Path(__file__).resolve().parent.parent / "locale" / "en" / "LC_MESSAGES" / "django.po"
catalogue = polib.pofile(str(path))
filled = 0
for entry in catalogue:
    # The source strings are English: every entry translates to itself. Fuzzy guesses that
    # msgmerge made from similar strings are overwritten the same way.
    if "fuzzy" in entry.flags:
        entry.flags.remove("fuzzy")
    entry.previous_msgid = None
    entry.previous_msgid_plural = None
    if entry.msgid_plural:
        wanted = {0: entry.msgid, 1: entry.msgid_plural}
        if entry.msgstr_plural != wanted:
            entry.msgstr_plural = wanted
            filled += 1
    elif entry.msgstr != entry.msgid:
        entry.msgstr = entry.msgid
        filled += 1
catalogue.save()
sys.stdout.write(f"{path}: {filled} entries filled\n")
