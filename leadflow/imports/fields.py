"""What an import kind is: its fields (with the English and Dutch headers that map to
them), the reference values it looks up, and how one checked row is written.

Each kind lives in ``leadflow/imports/kinds/`` and registers itself; the engine
(``engine.py``) reads the file, parses every cell by the field's type and hands the
kind a dict of clean values. A kind writes through the owning app's actions, so an
imported record is the same as one entered by hand (audit, search index, history)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from leadflow.core.errors import ValidationFailed


class FieldType:
    TEXT = "text"
    LONG_TEXT = "long_text"
    EMAIL = "email"
    PHONE = "phone"
    DECIMAL = "decimal"
    INT = "int"
    DATE = "date"
    DATETIME = "datetime"
    BOOL = "bool"
    LOOKUP = "lookup"
    NAMES = "names"  # a comma- or semicolon-separated list of names


@dataclass(frozen=True)
class Field:
    key: str
    label: Any
    type: str = FieldType.TEXT
    required: bool = False
    synonyms: tuple[str, ...] = ()
    lookup: str | None = None
    max_length: int | None = None
    # Offer merging of spellings that are probably the same name (company names).
    spelling: bool = False
    help: Any = ""


class RowProblem(ValidationFailed):
    """A row that cannot be imported as it stands (message shown next to its line)."""

    code = "row_invalid"

    def __init__(self, message, *, column: str = "", **params):
        super().__init__(message, **params)
        self.column = column


class Outcome:
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class Kind(ABC):
    """One importable thing. Subclasses set the class attributes and ``write``."""

    key: str = ""
    label: Any = ""
    capability: str = "data.import"
    fields: tuple[Field, ...] = ()
    # Fields one of which must be mapped and filled (e.g. a contact's name or e-mail).
    one_of: tuple[str, ...] = ()
    description: Any = ""
    # Lines written per transaction (and per progress step).
    batch_size: int = 250

    def field(self, key: str) -> Field:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def identity(self, row: dict) -> str | None:
        """A key that makes two lines of the same file the same record (or None)."""
        return None

    def check(self, row: dict, ctx) -> list[str]:
        """Row rules beyond the cell types; returns warnings, raises RowProblem."""
        return []

    def existing(self, row: dict, ctx):
        """The record this row matches already (shown as a duplicate in the check)."""
        return None

    @abstractmethod
    def write(self, row: dict, ctx) -> str:
        """Write one checked row through the actions; returns an ``Outcome``."""


KINDS: dict[str, Kind] = {}


def register(kind_class: type[Kind]) -> type[Kind]:
    kind = kind_class()
    KINDS[kind.key] = kind
    return kind_class


def kind_named(key: str) -> Kind:
    from leadflow.imports import kinds  # noqa: F401  (registers every kind)

    try:
        return KINDS[key]
    except KeyError:
        raise ValidationFailed(
            _("Unknown import kind: %(kind)s"), code="unknown_kind", kind=key
        ) from None


def all_kinds() -> list[Kind]:
    from leadflow.imports import kinds  # noqa: F401

    return list(KINDS.values())


@dataclass(frozen=True)
class Lookup:
    """Reference values a cell names (a salesperson, a stage, a channel...).

    ``choices`` lists the existing ones as (value, label); ``match`` finds the value
    for a raw cell (case, accents and punctuation ignored) or None; ``create`` makes
    a new one from a raw value (None: cannot be created from an import)."""

    key: str
    label: Any
    choices: Callable[[], list[tuple[str, str]]]
    match: Callable[[str], str | None]
    resolve: Callable[[str], Any]
    create: Callable[[str, Any], str] | None = None
