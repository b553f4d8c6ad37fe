"""Country-aware phone normalisation to E.164 (phonenumbers' metadata)."""

import phonenumbers
from django.conf import settings


def normalise_phone(raw: str | None, country: str | None = None) -> str:
    """Return '+3293001122' for '09 300 11 22' in BE; '' when it is no valid number."""
    if not raw or not raw.strip():
        return ""
    region = (country or settings.LEADFLOW_DEFAULT_COUNTRY or "BE").upper()
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return ""
    if not phonenumbers.is_possible_number(parsed):
        return ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
