"""Pieces shared by the kinds: the id from the old system, and filling the empty
fields of a record that already exists (an import never overwrites what someone
typed, unless "update existing" is chosen)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from leadflow.imports.fields import Field
from leadflow.imports.models import ImportedRecord

EXTERNAL_ID = Field(
    "external_id",
    _("id in the old system"),
    max_length=100,
    synonyms=(
        "id",
        "external id",
        "record id",
        "old id",
        "legacy id",
        "nummer",
        "oud id",
        "id oud systeem",
        "ref",
        "referentie",
    ),
)


def imported(kind: str, external_id: str | None) -> int | None:
    if not external_id:
        return None
    return (
        ImportedRecord.objects.filter(kind=kind, external_id=external_id)
        .values_list("object_id", flat=True)
        .first()
    )


def remember(kind: str, external_id: str | None, obj, ctx) -> None:
    if external_id:
        ImportedRecord.objects.update_or_create(
            kind=kind,
            external_id=external_id,
            defaults={"object_id": obj.pk, "job": ctx.job},
        )


def changes(obj, row: dict, fields: tuple[str, ...], *, overwrite: bool) -> dict:
    """The values of ``fields`` the row would change: only empty ones unless
    ``overwrite``."""
    out = {}
    for key in fields:
        value = row.get(key)
        if value in (None, "", []):
            continue
        current = getattr(obj, key)
        if current == value:
            continue
        if current in (None, "") or overwrite:
            out[key] = value
    return out
