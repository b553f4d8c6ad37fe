"""The Dutch catalogue is complete and safe, and the pages really come out in Dutch.

A new or changed string shows up here as an empty or fuzzy entry. To refresh:
makemessages -l nl (flags in locale/README.md), translate, compilemessages.
"""

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

PO = Path(settings.BASE_DIR) / "locale" / "nl" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# %(name)s, %(count)d, %(value)r … with optional flags, width and precision.
NAMED = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
# %s, %d … without a name; "%%" is a literal percent sign.
UNNAMED = re.compile(r"%(?!\()[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


@dataclass
class Entry:
    line: int
    flags: set[str] = field(default_factory=set)
    msgctxt: str | None = None
    msgid: str = ""
    msgid_plural: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)

    def __str__(self) -> str:
        context = f"[{self.msgctxt}] " if self.msgctxt is not None else ""
        return f"line {self.line}: {context}{self.msgid!r}"


def _unquote(text: str) -> str:
    """The value of one PO string literal, escapes resolved."""
    assert text.startswith('"') and text.endswith('"'), text
    escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "r": "\r"}
    return re.sub(r"\\(.)", lambda m: escapes.get(m[1], m[0]), text[1:-1])


def parse_po(path: Path) -> list[Entry]:
    """Every live entry of a PO file (header included; obsolete #~ entries left out)."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int | None] | None = None

    def start(lineno: int) -> Entry:
        nonlocal entry
        if entry is None:
            entry = Entry(line=lineno)
            entries.append(entry)
        return entry

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line:
            entry, target = None, None
            continue
        if line.startswith("#~"):
            continue
        if line.startswith("#,"):
            start(lineno).flags |= {f.strip() for f in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert target is not None, f"line {lineno}: continuation without keyword"
            current = start(lineno)
            name, index = target
            if name == "msgstr":
                current.msgstr[index] += _unquote(line)
            else:
                setattr(current, name, getattr(current, name) + _unquote(line))
            continue
        keyword, _, value = line.partition(" ")
        current = start(lineno)
        if keyword == "msgid" and (current.msgid or current.msgstr):
            # No blank line between two entries: begin a new one.
            entry = None
            current = start(lineno)
        match = re.fullmatch(r"msgstr(?:\[(\d+)\])?", keyword)
        if match:
            index = int(match[1] or 0)
            current.msgstr[index] = _unquote(value)
            target = ("msgstr", index)
        elif keyword in ("msgctxt", "msgid", "msgid_plural"):
            setattr(current, keyword, _unquote(value))
            target = (keyword, None)
        else:
            raise AssertionError(f"line {lineno}: unexpected {raw!r}")
    return entries


def placeholders(text: str) -> tuple[set[str], Counter]:
    without_literals = text.replace("%%", "")
    named = {m[0] for m in NAMED.finditer(without_literals)}
    unnamed = Counter(m[0] for m in UNNAMED.finditer(NAMED.sub("", without_literals)))
    return named, unnamed


@pytest.fixture(scope="module")
def entries() -> list[Entry]:
    assert PO.exists(), f"{PO} is missing: run makemessages -l nl"
    return parse_po(PO)


@pytest.fixture(scope="module")
def messages(entries) -> list[Entry]:
    return [e for e in entries if e.msgid or e.msgctxt is not None]


def test_header_is_dutch_with_two_plural_forms(entries):
    header = entries[0]
    assert header.msgid == ""
    assert "fuzzy" not in header.flags
    assert "Language: nl\n" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


def test_catalogue_has_the_app_strings(messages):
    msgids = {e.msgid for e in messages}
    assert len(messages) > 300
    assert {"New inquiry", "Triage", "Qualified leads", "Nurture"} <= msgids


def test_every_entry_is_translated_and_not_fuzzy(messages):
    fuzzy = [str(e) for e in messages if "fuzzy" in e.flags]
    assert not fuzzy, "fuzzy entries (check and clear the flag):\n" + "\n".join(fuzzy)
    untranslated = [
        str(e)
        for e in messages
        if not e.msgstr or any(not text.strip() for text in e.msgstr.values())
    ]
    assert not untranslated, "untranslated entries:\n" + "\n".join(untranslated)


def test_plural_entries_have_both_dutch_forms(messages):
    for entry in messages:
        expected = {0, 1} if entry.msgid_plural is not None else {0}
        assert set(entry.msgstr) == expected, str(entry)


def test_placeholders_match(messages):
    wrong = []
    for entry in messages:
        sources = [entry.msgid] + (
            [entry.msgid_plural] if entry.msgid_plural is not None else []
        )
        named = set().union(*(placeholders(s)[0] for s in sources))
        unnamed = placeholders(entry.msgid)[1]
        for index, text in entry.msgstr.items():
            got_named, got_unnamed = placeholders(text)
            if got_named != named or got_unnamed != unnamed:
                wrong.append(f"{entry} msgstr[{index}]: {sorted(got_named)}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_glossary_terms(messages):
    """The domain glossary (DOMAIN.md §1) is used for the key UI terms."""
    by_id = {(e.msgctxt, e.msgid): e.msgstr[0] for e in messages}
    assert by_id[(None, "New inquiry")] == "Nieuwe aanvraag"
    assert by_id[(None, "Triage")] == "Beoordelen"
    assert by_id[(None, "Triage: open inquiries")] == "Te beoordelen aanvragen"
    assert by_id[(None, "Nurture")] == "Marketingopvolging"
    assert by_id[(None, "Re-orders")] == "Bijbestellingen"
    assert by_id[(None, "Qualified lead")] == "Gekwalificeerde lead"
    assert by_id[(None, "Not going ahead")] == "Gaat niet door"
    assert by_id[("sort position", "order")] == "volgorde"


@pytest.fixture(scope="module")
def compiled_catalogue():
    """The .mo is a build product (not in git): compile it when missing or stale."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        call_command(
            "compilemessages",
            locale=["nl"],
            ignore_patterns=[".venv", "node_modules"],
            verbosity=0,
        )
        # Catalogues read earlier in this process predate the new .mo; changing
        # LOCALE_PATHS (to the same value) makes Django drop its translation caches.
        with override_settings(LOCALE_PATHS=list(settings.LOCALE_PATHS)):
            pass
    assert MO.exists()


def test_home_page_is_dutch_with_the_language_cookie(
    client, inside, compiled_catalogue
):
    client.force_login(inside)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nl"
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<html lang="nl">' in page
    assert "Nieuwe aanvraag" in page
    assert "Mijn dag" in page
    assert "Beoordelen" in page
    assert "New inquiry" not in page


def test_home_page_stays_english_without_the_cookie(client, inside, compiled_catalogue):
    client.force_login(inside)
    page = client.get(reverse("home")).content.decode()
    assert "New inquiry" in page
    assert "Nieuwe aanvraag" not in page
