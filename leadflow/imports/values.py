"""Parsing the text of imported cells: numbers, booleans, dates, names.

Every parser takes the cell's text and returns a value, ``None`` for an empty cell,
or raises ``ValueProblem`` with a message for the user that names the bad value.
Nothing is guessed: where a value can be read two ways the parser refuses it, and
the ``detect_*`` helpers look at a whole column to find out which way is meant.

Numbers (``parse_decimal``):
  * currency signs and codes (€ $ £ EUR USD GBP), spaces, non-breaking spaces and
    apostrophes between digit groups are ignored; ``,-`` means ",00"; a minus sign
    in front or behind and parentheses ``(12.50)`` make the number negative.
  * With ``decimal=","`` or ``decimal="."`` (the file's style, e.g. from
    ``detect_decimal_style``) that sign is the decimal separator and the other one
    must group digits by three: ``decimal=","``: "12.345" is 12345, "1.23" refused.
  * Without it the value itself must tell: both signs ("1.234,56", "1,234.56": the
    last is the decimal one), one sign repeated ("1.234.567": thousands), a sign not
    followed by exactly three digits ("12,5", "0.125" after "0", "1234.567") is the
    decimal one. A single sign followed by exactly three digits after one to three
    other digits ("12.345", "1,234") is ambiguous and refused: in a Dutch or Belgian
    file it is twelve thousand, in an English one twelve. The caller passes the
    column's style to read it.

Dates (``parse_date``, ``detect_date_order``): ISO (year first) and month names
(English, Dutch, French; "5 maart 2024", "March 5, 2024", "05-Mar-2024") are read
in any column. Numeric day/month/year values need the column's order when both parts
are 12 or less; a value with only one possible reading ("25/03/2024") or with equal
parts ("05/05/2024") is read without it. Two-digit years are 2000 + the year.
"""

from __future__ import annotations

import difflib
import itertools
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from leadflow.core.text import fold


class ValueProblem(ValueError):
    """A cell's text is not a valid value; the message (for the user) names it.

    ``code`` is "invalid" or "ambiguous" (the value reads two ways: the column's
    order or style is needed), so a preview can group problems.
    """

    def __init__(self, message: str, *, code: str = "invalid", value: str = ""):
        super().__init__(message)
        self.message = message
        self.code = code
        self.value = value


# --- text ----------------------------------------------------------------------

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))


def clean_text(text: str | None) -> str:
    """Strip and collapse every whitespace run (tabs, NBSP, line breaks) to one space.

    Zero-width characters and soft hyphens (invisible, pasted from web pages) go.
    """
    if not text:
        return ""
    return " ".join(text.translate(_ZERO_WIDTH).split())


# --- numbers -------------------------------------------------------------------

_CURRENCY = re.compile(r"(?i)(?:€|\$|£|euros?|eur|usd|gbp)")
_GROUPING = re.compile(r"(?<=\d)[\s'’](?=\d)")
# Digits grouped by spaces or apostrophes: "1 234 567,89", "1'234.50".
_SPACE_GROUPED = re.compile(r"^\d{1,3}(?:[\s'’]\d{3})+(?:([.,])\d*)?$")
_DIGITS = re.compile(r"^[\d.,]+$")


def _number_core(text: str) -> tuple[str, bool, str | None]:
    """The digits and separators of a number, whether it is negative, and the
    decimal sign a ",-" or ".-" ending proves.

    Raises ``ValueProblem`` when anything else is left.
    """
    value = clean_text(text).replace("\u2212", "-")
    negative = False
    if value.startswith("(") and value.endswith(")"):
        negative, value = True, value[1:-1].strip()
    value = _CURRENCY.sub("", value).strip()
    if value.startswith("-"):
        negative, value = not negative, value[1:].strip()
    elif value.startswith("+"):
        value = value[1:].strip()
    hint = None
    if value.endswith((",-", ".-", ",--", ".--")):
        value = value.rstrip("-")
        hint, value = value[-1], value[:-1]
    elif value.endswith("-"):
        negative, value = not negative, value[:-1].strip()
    value = _CURRENCY.sub("", value).strip()
    if _GROUPING.search(value):
        grouped = _SPACE_GROUPED.match(value)
        if not grouped:
            raise ValueProblem(
                _("“%(value)s” is not a number.") % {"value": text.strip()},
                value=text,
            )
        # Thousands are grouped by spaces: a comma or point left is the decimal sign.
        hint = hint or grouped.group(1)
        value = _GROUPING.sub("", value)
    if not value or not _DIGITS.match(value) or not any(c.isdigit() for c in value):
        raise ValueProblem(
            _("“%(value)s” is not a number.") % {"value": text.strip()}, value=text
        )
    return value, negative, hint


def _style_of(core: str) -> str | None:
    """The decimal separator a number's own text proves, or None (see module doc)."""
    commas, dots = core.count(","), core.count(".")
    if commas and dots:
        return "," if core.rfind(",") > core.rfind(".") else "."
    if not commas and not dots:
        return None
    sign = "," if commas else "."
    if commas + dots > 1:
        return "." if sign == "," else ","  # repeated: it groups thousands
    whole, fraction = core.split(sign)
    if len(fraction) != 3 or not whole or whole == "0" or len(whole) > 3:
        return sign
    return None  # "12.345": twelve thousand or twelve


def _grouped(whole: str, separator: str) -> bool:
    """True when ``whole`` groups its digits by three with ``separator`` (or not at all)."""
    if separator not in whole:
        return True
    parts = whole.split(separator)
    return (
        1 <= len(parts[0]) <= 3
        and parts[0].isdigit()
        and all(len(p) == 3 and p.isdigit() for p in parts[1:])
    )


def parse_decimal(text: str | None, decimal: str | None = None) -> Decimal | None:
    """A number written the way people and spreadsheets write them, or None if empty.

    ``decimal`` is the file's decimal separator ("," or "."), when known. The rules
    are in the module docstring.
    """
    if text is None or not clean_text(text):
        return None
    core, negative, hint = _number_core(text)
    style = decimal or hint or _style_of(core)
    if style is None:
        if "," not in core and "." not in core:
            style = "."
        else:
            raise ValueProblem(
                _(
                    "“%(value)s” is ambiguous: “%(sign)s” can separate thousands "
                    "or decimals. Choose the decimal sign the file uses."
                )
                % {"value": text.strip(), "sign": "," if "," in core else "."},
                code="ambiguous",
                value=text,
            )
    group = "." if style == "," else ","
    whole, _sep, fraction = core.partition(style)
    if style in fraction or group in fraction or not _grouped(whole, group):
        raise ValueProblem(
            _("“%(value)s” is not a number written with “%(decimal)s” as decimal sign.")
            % {"value": text.strip(), "decimal": style},
            value=text,
        )
    try:
        number = Decimal((whole.replace(group, "") or "0") + "." + (fraction or "0"))
    except InvalidOperation as exc:  # pragma: no cover - the checks above prevent it
        raise ValueProblem(
            _("“%(value)s” is not a number.") % {"value": text.strip()}, value=text
        ) from exc
    if not fraction:
        number = number.quantize(Decimal(1))
    return -number if negative else number


def detect_decimal_style(samples: Iterable[str]) -> str | None:
    """The decimal separator ("," or ".") a column's values prove, or None.

    Each value that proves a style (see the module docstring) votes; the majority
    wins, a tie or no vote at all gives None. Values that are not numbers are
    ignored (``parse_decimal`` reports them).
    """
    votes: Counter[str] = Counter()
    for sample in samples:
        if not sample:
            continue
        try:
            core, _negative, hint = _number_core(sample)
        except ValueProblem:
            continue
        style = hint or _style_of(core)
        if style:
            votes[style] += 1
    if votes[","] == votes["."]:
        return None
    return "," if votes[","] > votes["."] else "."


def parse_int(text: str | None, decimal: str | None = None) -> int | None:
    """A whole number ("1.000" needs ``decimal=","``), or None if empty."""
    if text is None:
        return None
    stripped = text.strip()
    if stripped.isdigit() and stripped.isascii():
        return int(stripped)
    number = parse_decimal(text, decimal)
    if number is None:
        return None
    if number != number.to_integral_value():
        raise ValueProblem(
            _("“%(value)s” is not a whole number.") % {"value": stripped}, value=text
        )
    return int(number)


# --- booleans ------------------------------------------------------------------

_TRUE = {"yes", "y", "true", "1", "x", "ja", "j", "waar", "oui", "vrai", "on", "✓", "✔"}
_FALSE = {"no", "n", "false", "0", "nee", "onwaar", "non", "faux", "off", "-"}


def parse_bool(text: str | None) -> bool | None:
    """yes/no, ja/nee, true/false, 1/0, x, y/n, j/n, waar/onwaar, oui/non, vrai/faux.

    An empty cell is None ("not given"): in a column of crosses ("x" or empty)
    the caller reads None as False.
    """
    value = clean_text(text).casefold().rstrip(".")
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueProblem(
        _("“%(value)s” is not yes or no.") % {"value": (text or "").strip()},
        value=text or "",
    )


# --- dates ---------------------------------------------------------------------


class DateOrder(StrEnum):
    ISO = "iso"
    DMY = "dmy"
    MDY = "mdy"


@dataclass
class DateEvidence:
    """What a column's dates say about their order.

    ``order``: ISO (only year-first dates), DMY or MDY (proven by a value with a
    part over 12), or None. ``ambiguous``: no proof, and values that read two ways
    (``examples`` lists a few: ask the user). ``mixed``: both orders are proven
    (``examples`` gives one of each; the caller reports the column as mixed).
    """

    order: DateOrder | None
    ambiguous: bool
    examples: list[str] = field(default_factory=list)
    mixed: bool = False


_MONTHS = {
    # English
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3,
    "april": 4, "apr": 4, "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7,
    "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9, "october": 10,
    "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    # Dutch
    "januari": 1, "februari": 2, "maart": 3, "mrt": 3, "mei": 5, "juni": 6,
    "juli": 7, "augustus": 8, "oktober": 10, "okt": 10,
    # French (Belgian files)
    "janvier": 1, "janv": 1, "fevrier": 2, "fevr": 2, "fev": 2, "mars": 3,
    "avril": 4, "avr": 4, "mai": 5, "juin": 6, "juillet": 7, "juil": 7,
    "aout": 8, "septembre": 9, "octobre": 10, "novembre": 11, "decembre": 12,
}  # fmt: skip
_WEEKDAYS = {
    "monday", "mon", "tuesday", "tue", "tues", "wednesday", "wed", "thursday",
    "thu", "thurs", "friday", "fri", "saturday", "sat", "sunday", "sun",
    "maandag", "ma", "dinsdag", "di", "woensdag", "wo", "donderdag", "do",
    "vrijdag", "vr", "zaterdag", "za", "zondag", "zo",
    "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche",
}  # fmt: skip

_ISO_DATE = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})$")
_NUMERIC_DATE = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})\2(\d{4}|\d{2})$")
_TIME = re.compile(
    r"""(?:[T\s]|^)
    (?P<hour>\d{1,2})[:hu](?P<minute>\d{2})
    (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?
    \s*(?P<ampm>[ap]\.?m\.?)?
    \s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$""",
    re.VERBOSE | re.IGNORECASE,
)


@dataclass
class _Parts:
    """A date value taken apart: how it is written and what it can mean."""

    kind: str  # "iso" | "named" | "numeric"
    first: int = 0  # numeric: first and second part, year
    second: int = 0
    year: int = 0
    day: date | None = None  # iso and named: the date


def _split_time(text: str) -> tuple[str, re.Match[str] | None]:
    """The date part of a value and the match of its time part (if any)."""
    match = _TIME.search(text)
    if match and match.start() > 0:
        return text[: match.start()].strip().rstrip(","), match
    return text, None


def _year(digits: str) -> int:
    return 2000 + int(digits) if len(digits) == 2 else int(digits)


def _take_apart(text: str) -> _Parts | None:
    """Classify a date text (without its time); None when it is no date form at all."""
    match = _ISO_DATE.match(text)
    if match:
        return _Parts(
            "iso", day=_make_date(text, int(match[1]), int(match[3]), int(match[4]))
        )
    match = _NUMERIC_DATE.match(text)
    if match:
        return _Parts(
            "numeric", first=int(match[1]), second=int(match[3]), year=_year(match[4])
        )
    words = [w for w in re.split(r"[\s,./-]+", fold(text)) if w]
    words = [w for w in words if w not in _WEEKDAYS]
    months = [w for w in words if w in _MONTHS]
    numbers = [w for w in words if w.isdigit()]
    if len(months) != 1 or len(numbers) != 2 or len(words) != 3:
        return None
    month = _MONTHS[months[0]]
    position = words.index(months[0])
    if len(numbers[0]) == 4:  # 2024 March 5
        year, day = numbers
    elif len(numbers[1]) == 4 or position == 1:  # 5 March 2024, March 5 2024, 5-mrt-24
        day, year = numbers
    else:
        return None
    if len(day) > 2 or len(year) not in (2, 4):
        return None
    return _Parts("named", day=_make_date(text, _year(year), month, int(day)))


def _make_date(text: str, year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise ValueProblem(
            _("“%(value)s” is not a valid date.") % {"value": text}, value=text
        ) from exc


def detect_date_order(samples: Iterable[str]) -> DateEvidence:
    """What a column's values say about their date order (see ``DateEvidence``)."""
    proofs: dict[DateOrder, str] = {}
    ambiguous: list[str] = []
    iso = False
    for sample in samples:
        text = clean_text(sample)
        if not text:
            continue
        try:
            parts = _take_apart(_split_time(text)[0])
        except ValueProblem:
            continue
        if parts is None:
            continue
        if parts.kind == "iso":
            iso = True
        elif parts.kind == "numeric":
            first, second = parts.first, parts.second
            if first > 12 >= second:
                proofs.setdefault(DateOrder.DMY, text)
            elif second > 12 >= first:
                proofs.setdefault(DateOrder.MDY, text)
            elif first <= 12 and second <= 12 and first != second:
                if len(ambiguous) < 5 and text not in ambiguous:
                    ambiguous.append(text)
    if len(proofs) == 2:
        return DateEvidence(
            order=None,
            ambiguous=False,
            examples=[proofs[DateOrder.DMY], proofs[DateOrder.MDY]],
            mixed=True,
        )
    if proofs:
        return DateEvidence(order=next(iter(proofs)), ambiguous=False)
    if ambiguous:
        return DateEvidence(order=None, ambiguous=True, examples=ambiguous)
    return DateEvidence(order=DateOrder.ISO if iso else None, ambiguous=False)


def _date_of(text: str, date_text: str, order: DateOrder | None) -> date:
    """The date of ``date_text`` (``text`` is the whole value, for messages)."""
    parts = _take_apart(date_text)
    if parts is None:
        raise ValueProblem(
            _("“%(value)s” is not a date.") % {"value": text}, value=text
        )
    if parts.day is not None:
        return parts.day
    first, second, year = parts.first, parts.second, parts.year
    if order == DateOrder.DMY or (order != DateOrder.MDY and first > 12 >= second):
        return _make_date(text, year, second, first)
    if order == DateOrder.MDY or second > 12 >= first:
        return _make_date(text, year, first, second)
    if first == second:
        return _make_date(text, year, first, second)
    if first > 12 and second > 12:
        raise ValueProblem(
            _("“%(value)s” is not a valid date.") % {"value": text}, value=text
        )
    raise ValueProblem(
        _("“%(value)s” is ambiguous: it could be %(first)s or %(second)s.")
        % {
            "value": text,
            "first": date_format(_make_date(text, year, second, first), "j F"),
            "second": date_format(_make_date(text, year, first, second), "j F"),
        },
        code="ambiguous",
        value=text,
    )


def parse_date(text: str | None, order: DateOrder | None) -> date | None:
    """A date, or None if empty. A time after it is allowed and ignored.

    ``order`` is the column's order (from ``detect_date_order`` or the user); with
    None only values with a single reading are accepted, "03/04/2024" raises
    "ambiguous: 03/04/2024 could be 3 April or 4 March".
    """
    value = clean_text(text)
    if not value:
        return None
    date_text, _time_match = _split_time(value)
    return _date_of(value, date_text, order)


def parse_datetime(
    text: str | None, order: DateOrder | None, tz: tzinfo
) -> datetime | None:
    """An aware date and time in ``tz``, or None if empty.

    A date alone is midnight in ``tz``; a time without offset is local time in
    ``tz`` (a time skipped by the change to summer time moves forward by the
    change, "02:30" becomes 03:30; a repeated one is the first, summer-time one);
    "Z", "UTC" or an offset ("+02:00") is honoured and the result converted to
    ``tz``. "2:30 PM", "14u30" and "14h30" are read too.
    """
    value = clean_text(text)
    if not value:
        return None
    date_text, match = _split_time(value)
    day = _date_of(value, date_text, order)
    if match is None:
        moment = datetime.combine(day, time(0))
        zone: tzinfo | None = None
    else:
        moment = datetime.combine(day, _time_of(value, match))
        zone = _zone_of(match["tz"])
    if zone is None:
        # Normalise through UTC: a non-existent local time (the skipped hour)
        # comes out as the real time it denotes.
        return moment.replace(tzinfo=tz).astimezone(UTC).astimezone(tz)
    return moment.replace(tzinfo=zone).astimezone(tz)


def _time_of(text: str, match: re.Match[str]) -> time:
    hour, minute = int(match["hour"]), int(match["minute"])
    second = int(match["second"] or 0)
    micro = int((match["fraction"] or "0")[:6].ljust(6, "0"))
    ampm = (match["ampm"] or "").replace(".", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise ValueProblem(
                _("“%(value)s” is not a valid time.") % {"value": text}, value=text
            )
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    try:
        return time(hour, minute, second, micro)
    except ValueError as exc:
        raise ValueProblem(
            _("“%(value)s” is not a valid time.") % {"value": text}, value=text
        ) from exc


def _zone_of(designator: str | None) -> tzinfo | None:
    if not designator:
        return None
    if designator.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if designator[0] == "-" else 1
    digits = designator[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


# --- names ---------------------------------------------------------------------

_PUNCTUATION = re.compile(r"[\W_]+")
_LEGAL_FORMS = {
    "bv", "nv", "bvba", "vof", "cv", "cvba", "commv", "sa", "sprl", "srl", "vzw",
    "asbl", "ltd", "gmbh", "inc", "llc", "plc", "ag", "sarl", "scrl",
}  # fmt: skip
_AND = {"and", "en", "et", "und"}
_NOT_DIGITS = re.compile(r"\D+")


def header_key(text: str | None) -> str:
    """A header as matched: "E-mail adres " → "e mail adres" (case, accents, punctuation)."""
    return " ".join(_PUNCTUATION.sub(" ", fold(text)).split())


def name_key(text: str | None) -> str:
    """A company or person name as compared for duplicate spellings.

    ``header_key`` without legal forms ("BV", "B.V.", "N.V.", "GmbH" …) and with
    "&", "en", "and", "et" all read as "and": "Janssens & Zonen B.V." →
    "janssens and zonen". A name that is only a legal form keeps it.
    """
    folded = fold(text).replace("&", " and ")
    # Dots join dotted abbreviations ("b.v." → "bv") before punctuation goes.
    words = header_key(re.sub(r"(?<=\b\w)\.(?=\w\b)", "", folded)).split()
    words = ["and" if w in _AND else w for w in words]
    kept = [w for w in words if w not in _LEGAL_FORMS]
    return " ".join(kept or words)


SIMILARITY = 0.92  # difflib ratio from which two name keys are offered as one
TYPO_MIN = 4  # keys shorter than this are never "one typo apart"
RATIO_MIN = 12  # shorter keys reach the ratio only when one typo apart
WINDOW = 6  # sorted neighbours each long key is compared with
GROUP_CAP = 50  # keys sharing one deletion variant compared all with all


def spelling_groups(values: Iterable[str], *, limit: int = 200) -> list[list[str]]:
    """Groups of distinct values that are probably the same name, for merging.

    Values with the same ``name_key`` ("Acme BV", "ACME B.V.", "Acme  bv") are one
    group. Keys are joined too when they are one typo apart (an inserted, missing,
    changed or swapped character; keys of four characters or more) or their
    difflib ratio is at least 0.92, unless they differ in digits ("Unit 4" and
    "Unit 5" stay apart). Each group lists its raw values most frequent first
    (then alphabetically); groups come biggest first; single values are left out;
    at most ``limit`` groups.

    Fast for 50,000 distinct names (no comparison of every pair): one-typo pairs
    are found exactly through shared one-deletion variants, length by length; the
    ratio (which without a single typo needs keys of 12 characters or more) is
    computed only for the 6 nearest keys in alphabetical order and in the order of
    the reversed keys, so two typos far inside long names can be missed.
    """
    counts = Counter(v for v in values if v and v.strip())
    by_key: dict[str, list[str]] = defaultdict(list)
    for raw in counts:
        key = name_key(raw)
        if key:
            by_key[key].append(raw)
    keys = sorted(by_key)
    parent = {key: key for key in keys}

    def root(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for left, right in _similar_pairs(keys):
        a, b = root(left), root(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[str, list[str]] = defaultdict(list)
    for key in keys:
        groups[root(key)].extend(by_key[key])
    result = [
        sorted(members, key=lambda v: (-counts[v], v))
        for members in groups.values()
        if len(members) > 1
    ]
    result.sort(key=lambda g: (-sum(counts[v] for v in g), g[0]))
    return result[:limit]


def _similar_pairs(keys: list[str]) -> Iterator[tuple[str, str]]:
    """Pairs of distinct keys that look like one name (see ``spelling_groups``)."""
    digits = {key: _NOT_DIGITS.sub("", key) for key in keys}
    for left, right in _typo_candidates(keys):
        if (
            min(len(left), len(right)) >= TYPO_MIN
            and digits[left] == digits[right]
            and _one_typo(left, right)
        ):
            yield left, right
    matcher = difflib.SequenceMatcher(None, autojunk=False)
    for left, rights in _neighbour_candidates(keys):
        matcher.set_seq2(left)  # difflib caches what it learns about seq2
        for right in rights:
            total = len(left) + len(right)
            if 2 * min(len(left), len(right)) < SIMILARITY * total:
                continue  # even all of the shorter one matching is too little
            if digits[left] != digits[right]:
                continue
            matcher.set_seq1(right)
            if matcher.quick_ratio() >= SIMILARITY and matcher.ratio() >= SIMILARITY:
                yield left, right


def _typo_candidates(keys: list[str]) -> Iterator[tuple[str, str]]:
    """Pairs that may be one typo apart: they share a one-deletion variant (same
    length: a changed or swapped character) or one is a variant of the other (an
    inserted character). Only two lengths are held in memory at a time."""
    by_length: dict[int, list[str]] = defaultdict(list)
    for key in keys:
        if len(key) >= TYPO_MIN - 1:
            by_length[len(key)].append(key)
    for length in sorted(by_length):
        shorter = set(by_length.get(length - 1, ()))
        variants: dict[str, list[str]] = defaultdict(list)
        for key in by_length[length]:
            for variant in {key[:i] + key[i + 1 :] for i in range(length)}:
                variants[variant].append(key)
        for variant, members in variants.items():
            if variant in shorter:
                for key in members:
                    yield variant, key
            if len(members) > 1:
                if len(members) > GROUP_CAP:  # pathological: neighbours only
                    members = sorted(members)
                    yield from zip(members, members[1:], strict=False)
                else:
                    yield from itertools.combinations(members, 2)


def _neighbour_candidates(keys: list[str]) -> Iterator[tuple[str, list[str]]]:
    """Each long key with its next keys alphabetically (sharing its first three
    characters) and in the order of reversed keys (sharing its last three)."""
    long_keys = [key for key in keys if len(key) >= RATIO_MIN]
    forward = sorted(long_keys)
    for i, left in enumerate(forward):
        start = left[:3]
        near = forward[i + 1 : i + 1 + WINDOW]
        yield left, [right for right in near if right.startswith(start)]
    backward = sorted(long_keys, key=lambda k: k[::-1])
    for i, left in enumerate(backward):
        end = left[-3:]
        near = backward[i + 1 : i + 1 + WINDOW]
        yield left, [right for right in near if right.endswith(end)]


def _one_typo(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one inserted, deleted, changed or swapped letter."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    start = 0
    while start < len(a) and a[start] == b[start]:
        start += 1
    if len(a) < len(b):
        return a[start:] == b[start + 1 :]
    if a[start + 1 :] == b[start + 1 :]:
        return True
    return (
        start + 1 < len(a)
        and a[start] == b[start + 1]
        and a[start + 1] == b[start]
        and a[start + 2 :] == b[start + 2 :]
    )
