"""``activations import customers``: customers without orders, their consent
(source ``import``, a double opt-in only with the file's date), the rejects with
their line numbers, idempotency, and where such a customer lands in the audiences."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from import_datasets import CAUTIOUS

from activations.cli import main
from activations.imports import import_customers, import_orders
from activations.imports.formats.csv_mapping import parse_map_option
from activations.warehouse import dbt

HEADER = "Id;Email;First;Last;Created;Newsletter;Since;From;Confirmed;Phone;Born;Country"
LINES = [
    # 2: subscribed and confirmed, with the confirmation's date; created at 10:00+01:00
    "1;ann@example.com;Ann;Ay;2026-01-05 10:00+01:00;subscribed;2026-01-05 10:00;popup;"
    "2026-01-05 10:07;+49 30 1234;1990-05-01;de",
    # 3: subscribed, never confirmed
    "2;bob@example.com;Bob;Bee;2026-02-01;yes;2026-02-01 08:00;checkout;;;;",
    "3;cy@example.com;Cy;Cee;not a date;;;;;;;",  # 4
    "4;dee@example.com;Dee;Dee;2026-03-01;maybe;2026-03-01;;;;;",  # 5
    "5;eve@example.com;Eve;Eve;2026-03-01;unsubscribed;;;;;;",  # 6: status without its date
    "6;fay@example.com;Fay;Eff;0001-01-01;;;;;;;",  # 7
    ";gil@example.com;Gil;Gee;2026-03-01;;;;;;;",  # 8
    "8;hal@example.com;Hal;Aitch;2026-03-01;;;;;;1800-01-01;",  # 9: born 1800
    "9;ivy@example.com;Ivy;Eye;2026-03-01;;;;;;;",  # 10
    "9;ivy@work.example;Ivy;Eye;2026-03-01;;;;;;;",  # 11: a second, different line of 9
    # 12: unsubscribed: a confirmation date on it is no double opt-in
    "10;jo@example.com;Jo;Jay;2026-03-01;opted-out;2026-04-01;;2026-03-02;;;",
    "11;kim@example.com;Kim;Kay;2026-03-01;never subscribed;;;;;;",  # 13: no consent row
    "12;lee@example.com;Lee;Ell;2026-03-01;pending;2026-03-02;popup;2026-03-03;;;",  # 14
    "1;ann@example.com;Ann;Ay;2026-01-05 10:00+01:00;subscribed;2026-01-05 10:00;popup;"
    "2026-01-05 10:07;+49 30 1234;1990-05-01;de",  # 15: an exact repeat of line 2
]
MAP = (
    "customer_id=Id,email=Email,first_name=First,last_name=Last,created_at=Created,"
    "consent_status=Newsletter,consent_date=Since,consent_source=From,"
    "double_opt_in_date=Confirmed,phone=Phone,birth_date=Born,country=Country"
)


@pytest.fixture
def customers_csv(tmp_path: Path) -> Path:
    path = tmp_path / "shop_customers.csv"
    path.write_text("\n".join([HEADER, *LINES]) + "\n")
    return path


def query(warehouse: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_customers_load_or_are_rejected_with_reason_and_line(
    customers_csv: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    result = import_customers(customers_csv, warehouse=warehouse, mapping=parse_map_option(MAP))
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (14, 5, 9)
    assert (result.customers, result.consents, result.orders) == (5, 4, 0)
    assert query(warehouse, "select line_number, reason from raw.import_rejects order by 1") == [
        (4, "bad_date"),
        (5, "bad_consent_status"),
        (6, "missing_consent_date"),
        (7, "date_out_of_range"),
        (8, "missing_customer"),
        (9, "date_out_of_range"),
        (10, "customer_listed_twice"),
        (11, "customer_listed_twice"),
        (15, "duplicate_line"),
    ]
    assert query(
        warehouse,
        "select json_extract_string(raw_line, '$.Newsletter') from raw.import_rejects "
        "where line_number = 5",
    ) == [("maybe",)]
    # created at 10:00+01:00 is 09:00 UTC; the email as typed; an ISO country code
    assert query(
        warehouse,
        "select customer_id, email, phone, first_name, last_name, birth_date::varchar, country, "
        "created_at::varchar from raw.customers order by 1",
    ) == [
        ("csv-1", "ann@example.com", "+49 30 1234", "Ann", "Ay", "1990-05-01", "DE",
         "2026-01-05 09:00:00"),
        ("csv-10", "jo@example.com", None, "Jo", "Jay", None, None, "2026-03-01 00:00:00"),
        ("csv-11", "kim@example.com", None, "Kim", "Kay", None, None, "2026-03-01 00:00:00"),
        ("csv-12", "lee@example.com", None, "Lee", "Ell", None, None, "2026-03-01 00:00:00"),
        ("csv-2", "bob@example.com", None, "Bob", "Bee", None, None, "2026-02-01 00:00:00"),
    ]  # fmt: skip
    assert query(warehouse, "select count(*) from raw.orders") == [(0,)]


def test_consent_is_source_import_and_double_opt_in_only_with_its_date(
    customers_csv: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    import_customers(customers_csv, warehouse=warehouse, mapping=parse_map_option(MAP))
    assert query(
        warehouse,
        "select customer_id, email, channel, status, source, double_opt_in_confirmed_at, "
        "changed_at from raw.consents order by 1",
    ) == [
        # confirmed: the file's own confirmation date, never the import's
        ("csv-1", "ann@example.com", "email", "subscribed", "import",
         datetime(2026, 1, 5, 10, 7), datetime(2026, 1, 5, 10, 0)),
        # unsubscribed: the confirmation date on its line is no double opt-in
        ("csv-10", "jo@example.com", "email", "unsubscribed", "import", None,
         datetime(2026, 4, 1)),
        # pending: subscribed, not confirmed, whatever date the line has
        ("csv-12", "lee@example.com", "email", "subscribed", "import", None,
         datetime(2026, 3, 2)),
        # 'yes' without a confirmation date: subscribed, no double opt-in
        ("csv-2", "bob@example.com", "email", "subscribed", "import", None,
         datetime(2026, 2, 1, 8, 0)),
    ]  # fmt: skip
    # the source the file named, and its line, are kept beside the log
    assert query(
        warehouse,
        "select c.customer_id, i.line_number, i.stated_source from raw.import_consents i "
        "join raw.consents c using (consent_id) order by 1",
    ) == [("csv-1", 2, "popup"), ("csv-10", 12, None), ("csv-12", 14, "popup"),
          ("csv-2", 3, "checkout")]  # fmt: skip


def test_same_file_twice_adds_nothing_and_a_changed_file_updates(
    customers_csv: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"
    mapping = parse_map_option(MAP)
    import_customers(customers_csv, warehouse=warehouse, mapping=mapping)
    tables = ("customers", "consents", "import_consents", "import_rejects", "imports")
    counts = {t: query(warehouse, f"select count(*) from raw.{t}") for t in tables}
    again = import_customers(customers_csv, warehouse=warehouse, mapping=mapping)
    assert again.already_imported
    assert {t: query(warehouse, f"select count(*) from raw.{t}") for t in tables} == counts
    # the shop fixed line 4, Bob confirmed his subscription and Jo changed address
    lines = list(LINES)
    lines[2] = "3;cy@example.com;Cy;Cee;2026-02-10;;;;;;;"
    lines[1] = (
        "2;bob@example.com;Bob;Bee;2026-02-01;yes;2026-02-01 08:00;checkout;2026-02-03 09:00;;;"
    )
    lines[10] = "10;jo@new.example;Jo;Jay;2026-03-01;opted-out;2026-04-01;;2026-03-02;;;"
    customers_csv.write_text("\n".join([HEADER, *lines]) + "\n")
    changed = import_customers(customers_csv, warehouse=warehouse, mapping=mapping)
    assert not changed.already_imported
    assert query(
        warehouse, "select customer_id, email from raw.customers order by 1"
    ) == [
        ("csv-1", "ann@example.com"), ("csv-10", "jo@new.example"), ("csv-11", "kim@example.com"),
        ("csv-12", "lee@example.com"), ("csv-2", "bob@example.com"), ("csv-3", "cy@example.com"),
    ]  # fmt: skip
    # Bob's statement at the same moment now carries the confirmation: it replaces the
    # earlier row; the other statements are the same rows as before
    assert query(
        warehouse,
        "select customer_id, status, double_opt_in_confirmed_at from raw.consents "
        "where customer_id in ('csv-1', 'csv-2') order by 1",
    ) == [
        ("csv-1", "subscribed", datetime(2026, 1, 5, 10, 7)),
        ("csv-2", "subscribed", datetime(2026, 2, 3, 9, 0)),
    ]
    assert query(warehouse, "select count(*) from raw.consents") == [(4,)]
    assert query(
        warehouse, "select count(*), count(distinct import_id) from raw.import_rejects"
    ) == [(8, 1)]


def test_customers_and_their_orders_meet_on_one_person(tmp_path: Path) -> None:
    """An order CSV and a customer CSV of the same shop give the same ids; the earliest
    creation is kept, and the customer file's details fill in the person."""
    warehouse = tmp_path / "w.duckdb"
    orders = tmp_path / "orders.csv"
    orders.write_text("id,who,when,sku,n,price\n1,7,2025-11-02 10:00,X,1,9.50\n")
    import_orders(
        orders, "csv", warehouse=warehouse,
        mapping=parse_map_option(
            "order_id=id,customer_id=who,placed_at=when,product_id=sku,quantity=n,unit_price=price"
        ),
    )  # fmt: skip
    people = tmp_path / "people.csv"
    people.write_text(
        "id,mail,created,birthday\n7,sam@example.com,2025-10-01,1985-02-28\n"
        "8,tia@example.com,2025-12-01,\n"
    )
    import_customers(
        people, warehouse=warehouse,
        mapping=parse_map_option("customer_id=id,email=mail,created_at=created,birth_date=birthday"),
    )  # fmt: skip
    assert query(
        warehouse,
        "select customer_id, email, birth_date::varchar, created_at::varchar "
        "from raw.customers order by 1",
    ) == [
        ("csv-7", "sam@example.com", "1985-02-28", "2025-10-01 00:00:00"),
        ("csv-8", "tia@example.com", None, "2025-12-01 00:00:00"),
    ]
    assert query(warehouse, "select customer_id from raw.orders") == [("csv-7",)]


def test_cli_prints_counts_and_mapping_mistakes_are_one_message(
    monkeypatch, capsys, customers_csv: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "w.duckdb"

    def cli(*args: str | Path) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["activations", *map(str, args)])
        monkeypatch.setenv("COLUMNS", "200")
        code = 0
        try:
            main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 0
        captured = capsys.readouterr()
        return code, " ".join((captured.out + captured.err).split())

    code, out = cli("import", "customers", customers_csv, "--map", MAP, "--warehouse", warehouse)
    assert code == 0, out
    assert "read │ 14" in out and "loaded │ 5" in out and "customer_listed_twice │ 2" in out
    assert "5 customers, 4 consent rows written" in out
    code, out = cli(
        "import", "customers", customers_csv, "--map", "customer_id=Id,email=Email",
        "--warehouse", warehouse,
    )  # fmt: skip
    assert code == 2
    assert "no column given for required field(s) created_at to import shop_customers.csv" in out
    code, out = cli(
        "import", "customers", customers_csv, "--map", MAP + ",placed_at=Created",
        "--warehouse", warehouse,
    )  # fmt: skip
    assert code == 2 and "unknown field(s) placed_at" in out


def test_a_customer_without_orders_lands_in_the_right_audiences(tmp_path: Path) -> None:
    """Built by the real dbt as of 2026-06-30: imported customers with no orders are
    dormant since their creation (not before 30 days), get the welcome series only
    with a double opt-in confirmed in its window, and are newsletter prospects only
    without a confirmed subscription and never opted out."""
    warehouse = tmp_path / "w.duckdb"
    people = tmp_path / "people.csv"
    people.write_text(
        "id,mail,created,status,since,confirmed\n"
        "old,old@example.com,2026-03-01,subscribed,2026-03-01,2026-03-01 12:00\n"  # 121 days
        "new,new@example.com,2026-06-20,subscribed,2026-06-28,2026-06-28 09:00\n"  # 10 days
        "unconfirmed,unc@example.com,2026-05-01,subscribed,2026-06-28,\n"  # 60 days
        "gone,gone@example.com,2026-04-01,unsubscribed,2026-05-01,\n"  # 90 days
        "none,none@example.com,2026-06-01,,,\n"  # 29 days
    )
    import_customers(
        people, warehouse=warehouse,
        mapping=parse_map_option(
            "customer_id=id,email=mail,created_at=created,consent_status=status,"
            "consent_date=since,double_opt_in_date=confirmed"
        ),
    )  # fmt: skip
    build = dbt.run_dbt(
        "build",
        select=["+dormant_customers", "+welcome_series", "+newsletter_prospects"],
        vars={"as_of": "2026-06-30 12:00:00"},
        warehouse=warehouse,
        target_path=tmp_path / "target",
        extra_args=CAUTIOUS,
        quiet=True,
    )
    assert not {"error", "fail"} & set(build.by_status()), build.by_status()
    dormant = query(
        warehouse,
        "select person_id, recency_bucket, basket_bucket, days_since_last_order, "
        "average_basket, last_order_at, entered_at::varchar, is_sendable, suppression_reason "
        "from audiences.dormant_customers order by 1",
    )
    assert [(row[0], row[1], row[2], row[3]) for row in dormant] == [
        ("csv-gone", "60-119 days", "small basket", 90),
        ("csv-old", "120+ days", "small basket", 121),
        ("csv-unconfirmed", "60-119 days", "small basket", 60),
    ]
    assert {row[4] for row in dormant} == {0} and {row[5] for row in dormant} == {None}
    sendable = {row[0]: (row[7], row[8]) for row in dormant}
    assert sendable == {
        "csv-gone": (False, "unsubscribed"),
        "csv-old": (True, None),
        "csv-unconfirmed": (False, "unconfirmed_double_opt_in"),
    }
    assert query(
        warehouse, "select person_id, step, is_sendable from audiences.welcome_series"
    ) == [("csv-new", 1, True)]
    # not subscribed: never asked, or asked and never confirmed; never the unsubscribed
    assert query(warehouse, "select person_id from audiences.newsletter_prospects order by 1") == [
        ("csv-none",),
        ("csv-unconfirmed",),
    ]
