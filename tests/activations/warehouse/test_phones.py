"""Phone numbers as typed -> E.164 (activations/warehouse/phones.py): the step
every build runs before dbt, incremental, flagging what it cannot read."""

from __future__ import annotations

import re

import duckdb
import pytest

from activations.warehouse.phones import E164_PATTERN, normalise, normalise_phones
from activations.warehouse.raw_schema import create_raw_schema_sql


@pytest.mark.parametrize(
    ("typed", "country", "e164"),
    [
        ("+49 170 1234567", "DE", "+491701234567"),
        ("0049 170 1234567", "DE", "+491701234567"),  # 00 instead of +
        ("0170 1234567", "DE", "+491701234567"),  # national: the country is the region
        ("(0170) 123-45-67", "DE", "+491701234567"),
        ("  +49 170 1234567  ", "DE", "+491701234567"),
        ("07400 123456", "GB", "+447400123456"),
        ("0044 7400 123456", "DE", "+447400123456"),  # international wins over the country
        ("731 234 567", "CZ", "+420731234567"),  # no trunk prefix in Czechia
        ("+43 661 234567", "de", "+43661234567"),  # country in lower case
    ],
)
def test_valid_numbers_become_e164(typed, country, e164):
    assert normalise(typed, country) == (e164, None)


@pytest.mark.parametrize(
    ("typed", "country", "reason"),
    [
        ("call me", "DE", "not_a_number"),
        ("0800 FLOWERS", "DE", "not_a_number"),  # letters are never read as keypad digits
        ("12", "DE", "too_short"),
        ("+49 170", "DE", "too_short"),
        ("0170 12345678901234567", "DE", "too_long"),
        ("+999 1234567", "DE", "invalid_country_code"),
        ("0170 1234567", None, "unknown_region"),  # national, and no country to read it by
        ("0170 1234", "DE", "invalid_for_region"),
        ("", "DE", "missing"),
        (None, "DE", "missing"),
    ],
)
def test_invalid_numbers_get_a_reason(typed, country, reason):
    e164, why = normalise(typed, country)
    assert e164 is None and why == reason


def test_normalisation_is_incremental_and_keeps_every_pair(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    for statement in create_raw_schema_sql():
        con.execute(statement)
    con.execute(
        "insert into raw.customers (customer_id, phone, country) values "
        "('c1', '0170 1234567', 'DE'), ('c2', '0170 1234567', 'AT'), "
        "('c3', 'call me', 'DE'), ('c4', null, 'DE'), ('c5', '0170 1234567', 'DE')"
    )
    assert normalise_phones(con) == 3  # distinct (phone, country) pairs; null phones skipped
    assert normalise_phones(con) == 0  # nothing new: nothing parsed again
    con.execute(
        "insert into raw.customers (customer_id, phone, country) "
        "values ('c6', '+44 7400 123456', 'GB')"
    )
    assert normalise_phones(con) == 1
    rows = dict(
        ((p, c), (e, r))
        for p, c, e, r in con.execute(
            "select phone_raw, country, phone_e164, invalid_reason from raw.phone_numbers"
        ).fetchall()
    )
    assert rows[("0170 1234567", "DE")] == ("+491701234567", None)
    assert rows[("0170 1234567", "AT")][0] != "+491701234567"  # the region decides
    assert rows[("call me", "DE")] == (None, "not_a_number")

    assert all(re.fullmatch(E164_PATTERN, e) for e, _ in rows.values() if e)
    con.close()


def test_nothing_to_do_before_raw_exists(tmp_path):
    con = duckdb.connect(str(tmp_path / "empty.duckdb"))
    assert normalise_phones(con) == 0
    con.close()
