"""Phone numbers as typed, normalised to E.164 before dbt runs.

dbt on DuckDB and PostgreSQL cannot call a Python library from SQL, and
regexes cannot say whether ``0151 2345678`` is a number in Germany. So every
build first runs :func:`normalise_phones`: each distinct pair (phone as typed,
customer country) of ``raw.customers`` not normalised yet is parsed with
``phonenumbers`` (Google's libphonenumber metadata), the customer's country as
the default region, and one row lands in ``raw.phone_numbers``:

- ``phone_e164``: ``+4917012345678`` when the number is valid, else null;
- ``invalid_reason``: null when valid, else ``not_a_number`` (letters, no
  digits), ``too_short``, ``too_long``, ``invalid_country_code``,
  ``invalid_for_region`` (parsed, but no such number is allocated) or
  ``unknown_region`` (a national number with no usable country).

Incremental: a pair already in the table is never parsed again (the
metadata of a later ``phonenumbers`` release only applies to new pairs; drop
the table to redo them all). ``stg_shop__customers`` joins it; a phone not
normalised yet is flagged ``not_normalised``, never dropped.

Both paths that build dbt call this one function: ``activations.warehouse.dbt``
(``activations build``, the demo, the tests) and the Dagster dbt component.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import phonenumbers
from phonenumbers import NumberParseException

from activations.warehouse.db import Db
from activations.warehouse.raw_schema import RAW_SCHEMA, create_table_sql

TABLE = f"{RAW_SCHEMA}.phone_numbers"
E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"

_PARSE_REASONS = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    NumberParseException.NOT_A_NUMBER: "not_a_number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    NumberParseException.TOO_SHORT_NSN: "too_short",
    NumberParseException.TOO_LONG: "too_long",
}
_POSSIBLE_REASONS = {
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    phonenumbers.ValidationResult.TOO_SHORT: "too_short",
    phonenumbers.ValidationResult.TOO_LONG: "too_long",
    phonenumbers.ValidationResult.INVALID_LENGTH: "invalid_length",
    # a local number without its area code: too short to reach anyone by SMS
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "too_short",
}


def normalise(phone: str | None, country: str | None) -> tuple[str | None, str | None]:
    """(E.164, None) for a valid number, else (None, reason). ``country`` is the
    ISO 3166-1 alpha-2 default region for a number written without ``+``/``00``."""
    text = (phone or "").strip()
    if not text:
        return None, "missing"
    region = (country or "").strip().upper() or None
    if text.startswith("00"):  # the international call prefix most of Europe dials
        text = "+" + text[2:].lstrip()
    if region is None and not text.startswith("+"):
        return None, "unknown_region"
    if any(c.isalpha() for c in text):
        # libphonenumber reads letters as keypad digits (0800 FLOWERS); a
        # customer who typed letters did not give a number
        return None, "not_a_number"
    try:
        number = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return None, _PARSE_REASONS.get(exc.error_type, "not_a_number")
    if not phonenumbers.is_valid_number(number):
        if len(str(number.national_number)) < 6:  # no mobile plan anywhere is this short
            return None, "too_short"
        possible = phonenumbers.is_possible_number_with_reason(number)
        return None, _POSSIBLE_REASONS.get(possible, "invalid_for_region")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), None


def ensure_table(db: Db) -> None:
    db.execute(f"create schema if not exists {RAW_SCHEMA}")
    db.execute(create_table_sql("phone_numbers"))


def pending(db: Db) -> list[tuple[Any, Any]]:
    """Distinct (phone as typed, country) pairs of raw.customers not normalised yet."""
    return db.query(
        f"""select distinct c.phone, c.country
        from {RAW_SCHEMA}.customers as c
        where c.phone is not null
          and not exists (
            select 1 from {TABLE} as p
            where p.phone_raw = c.phone
              and coalesce(p.country, '') = coalesce(c.country, '')
          )"""
    )


def normalise_phones(conn: Any) -> int:
    """Normalise the new pairs of ``raw.customers`` into ``raw.phone_numbers``;
    the number of pairs added. Nothing to do (0) when ``raw.customers`` does not
    exist yet (dbt then reports the missing raw tables itself)."""
    db = Db.wrap(conn)
    if not db.table_exists(RAW_SCHEMA, "customers"):
        return 0
    ensure_table(db)
    pairs = pending(db)
    if not pairs:
        return 0
    rows = [(phone, country, *normalise(phone, country)) for phone, country in pairs]
    with db.transaction():
        db.insert_rows(
            TABLE,
            ["phone_raw", "country", "phone_e164", "invalid_reason"],
            rows,
            constants={"normalised_at": datetime.now(UTC).replace(tzinfo=None)},
        )
    return len(rows)
