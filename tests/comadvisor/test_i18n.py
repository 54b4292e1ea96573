"""The fr and en catalogues are complete, compiled, and cover every message of the code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = [code for code, _name in settings.LANGUAGES]
SKIP = {".venv", "var", "node_modules", ".git", "static", ".pytest_cache", ".ruff_cache", "tests"}


def _po(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


def _translated(entry: polib.POEntry) -> bool:
    if "fuzzy" in entry.flags:
        return False
    if entry.msgid_plural:
        return bool(entry.msgstr_plural) and all(entry.msgstr_plural.values())
    return bool(entry.msgstr)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_translates_every_entry(language):
    untranslated = [entry.msgid for entry in _po(language) if not _translated(entry)]

    assert untranslated == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_compiled_catalogue_matches_its_source(language):
    folder = ROOT / "locale" / language / "LC_MESSAGES"
    compiled = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in polib.mofile(str(folder / "django.mo"))
    }
    source = {
        (e.msgctxt, e.msgid): e.msgstr or e.msgstr_plural
        for e in _po(language)
        if _translated(e) and not e.obsolete
    }

    assert compiled == source, "run `make messages` to recompile the catalogues"


def test_catalogues_cover_every_message_of_the_code(tmp_path):
    """Extract the messages afresh in a copy of the tree and compare with the committed ones."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("GNU gettext (xgettext) is needed to check the catalogues")
        pytest.skip("GNU gettext (xgettext) not installed: apt-get install gettext")
    copy = tmp_path / "tree"
    shutil.copytree(ROOT, copy, ignore=lambda folder, names: [n for n in names if n in SKIP])
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "fr", "--no-location", "--no-obsolete"],
        cwd=copy,
        check=True,
        capture_output=True,
        env={**os.environ, "VAR_DIR": str(tmp_path / "var")},
    )
    extracted = {
        (e.msgctxt, e.msgid) for e in polib.pofile(str(copy / "locale/fr/LC_MESSAGES/django.po"))
    }

    for language in LANGUAGES:
        committed = {(e.msgctxt, e.msgid) for e in _po(language) if _translated(e)}
        missing = sorted(msgid for _ctx, msgid in extracted - committed if msgid)
        assert missing == [], (
            f"{language}: messages missing from the catalogue (run `make messages`)"
        )
