"""Normalisation used for matching people and companies again."""

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9@.+_-]+")
_SPACES = re.compile(r"\s+")
_LEGAL_FORMS = {
    "bv",
    "bvba",
    "nv",
    "sa",
    "vof",
    "cv",
    "cvba",
    "srl",
    "sprl",
    "vzw",
    "asbl",
    "ltd",
    "gmbh",
    "inc",
    "llc",
    "bv.",
    "nv.",
    "commv",
    "comm.v",
}


def fold(text: str | None) -> str:
    """Lower-case, strip accents and collapse whitespace: 'Émile  Dupré' -> 'emile dupre'."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.casefold().replace("ø", "o").replace("æ", "ae")
    return _SPACES.sub(" ", stripped).strip()


def name_key(text: str | None) -> str:
    """Folded name with punctuation removed, used for equality and prefix lookups."""
    folded = fold(text)
    return _SPACES.sub(" ", re.sub(r"[^a-z0-9 ]+", " ", folded)).strip()


def company_key(text: str | None) -> str:
    """Company name key without legal-form suffixes: 'Janssens BVBA' -> 'janssens'."""
    # Dots go first so that dotted legal forms ('B.V.', 'Comm.V.') match too.
    undotted = fold(text).replace(".", "")
    words = [w for w in name_key(undotted).split(" ") if w and w not in _LEGAL_FORMS]
    return " ".join(words)


def tokens(text: str | None) -> set[str]:
    """Distinct words of a name key (at least two characters) for word-prefix lookups."""
    return {w for w in name_key(text).split(" ") if len(w) >= 2}


def normalise_email(email: str | None) -> str:
    """E-mail as matched: trimmed and lower-cased (both parts, as mail systems do in practice)."""
    return (email or "").strip().lower()


def prefix_filter(field: str, prefix: str, vendor: str) -> dict[str, str]:
    """ORM kwargs for an index-friendly 'starts with' on an ASCII match key.

    SQLite's LIKE is case-insensitive and skips the index, so a range is used
    there; PostgreSQL uses LIKE with the varchar_pattern_ops index Django creates
    for ``db_index=True`` character fields.
    """
    if vendor == "sqlite":
        return {f"{field}__gte": prefix, f"{field}__lt": prefix + "\uffff"}
    return {f"{field}__startswith": prefix}
