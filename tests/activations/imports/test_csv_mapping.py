"""Generic CSV with a column mapping: cleaning, line numbers, mapping errors."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from activations.errors import UserError
from activations.imports import import_orders
from activations.imports.formats.csv_mapping import parse_map_option

HEADER = "Invoice;Customer;Date;SKU;Qty;Price;Email;Status;Name"
LINES = [
    "1001;17850.0;2024-01-05 10:00;A1;2;3.50;Ann@Example.com ;shipped;Mug",  # line 2
    "1001;17850.0;2024-01-05 10:00;B2;1;10.00;ann@example.com;shipped;Plate",  # 3
    "1002;;2024-01-06 11:00;A1;1;3.50;;shipped;Mug",  # 4: no customer
    "1003;200;not a date;A1;1;3.50;bob@example.com;shipped;Mug",  # 5
    "1004;200;2024-01-07 09:00;A1;x;3.50;bob@example.com;shipped;Mug",  # 6
    "1005;200;2024-01-08 09:00;A1;1;3.50;bob@example.com;refunded;Mug",  # 7: a return
    "1006;200;2024-01-09 09:00;A1;1;0;bob@example.com;shipped;Mug",  # 8: free
    "1001;17850.0;2024-01-05 10:00;B2;1;10.00;ann@example.com;shipped;Plate",  # 9: repeat of 3
    "1007;200;2024-01-10 09:00;A1;-2;3.50;bob@example.com;shipped;Mug",  # 10
    "1008;200;2024-01-11 09:00;C3;3;-1.00;bob@example.com;shipped;Cup",  # 11
    "1009;200;2024-01-12 09:00;C3;3;2.00;bob@example.com;cancelled;Cup",  # 12
    "1010;200;2024-01-13 09:00;C3;3;2.00;bob@example.com;pending;Cup",  # 13
    "1011;200;2024-01-14 09:00;C3;4;2.25;bob@example.com;delivered;Cup",  # 14
]
MAP = (
    "order_id=Invoice,customer_id=Customer,placed_at=Date,product_id=SKU,quantity=Qty,"
    "unit_price=Price,email=Email,status=Status,product_name=Name"
)


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    path = tmp_path / "shop_orders.csv"
    path.write_text("\n".join([HEADER, *LINES]) + "\n")
    return path


def test_lines_are_loaded_or_rejected_with_reason_and_line(orders_csv: Path, tmp_path: Path):
    warehouse = tmp_path / "w.duckdb"
    result = import_orders(
        orders_csv, "csv", warehouse=warehouse, mapping=parse_map_option(MAP), namespace="shop"
    )
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (13, 3, 10)
    con = duckdb.connect(str(warehouse))
    rejects = con.execute(
        "select line_number, reason from raw.import_rejects order by line_number"
    ).fetchall()
    assert rejects == [
        (4, "missing_customer"),
        (5, "bad_date"),
        (6, "bad_quantity"),
        (7, "return"),
        (8, "zero_price"),
        (9, "duplicate_line"),
        (10, "non_positive_quantity"),
        (11, "negative_price"),
        (12, "cancellation"),
        (13, "not_completed"),
    ]
    raw_line = con.execute(
        "select json_extract_string(raw_line, '$.Date') from raw.import_rejects "
        "where line_number = 5"
    ).fetchall()
    assert raw_line == [("not a date",)]
    assert con.execute(
        "select order_id, customer_id, status, subtotal, total from raw.orders order by 1"
    ).fetchall() == [
        ("shop-1001", "shop-17850", "shipped", Decimal("17.00"), Decimal("17.00")),
        ("shop-1011", "shop-200", "shipped", Decimal("9.00"), Decimal("9.00")),
    ]
    assert con.execute(
        "select order_id, line_number, product_id, quantity, unit_price from raw.order_items "
        "order by 1, 2"
    ).fetchall() == [
        ("shop-1001", 1, "shop-A1", 2, Decimal("3.50")),
        ("shop-1001", 2, "shop-B2", 1, Decimal("10.00")),
        ("shop-1011", 1, "shop-C3", 4, Decimal("2.25")),
    ]
    # the email as typed (staging normalizes it); the person's first order is their creation
    assert con.execute(
        "select customer_id, email, created_at::varchar from raw.customers order by 1"
    ).fetchall() == [
        ("shop-17850", "ann@example.com", "2024-01-05 10:00:00"),
        ("shop-200", "bob@example.com", "2024-01-14 09:00:00"),
    ]


def test_yaml_mapping_file_and_date_format(tmp_path: Path) -> None:
    source = tmp_path / "eu.csv"
    source.write_text(
        "order,buyer,when,item,n,price,land\n"
        "A-1,c1,05/01/2024 10:00,X,1,9.90,de\n"
        "A-1,c1,05/01/2024 10:00,Y,2,1.05,de\n"
        "A-2,c2,31/12/2023 23:59,X,1,9.90,France\n"
    )
    mapping = tmp_path / "eu.yaml"
    mapping.write_text(
        "namespace: eu\n"
        'date_format: "%d/%m/%Y %H:%M"\n'
        "currency: sek\n"
        "columns:\n"
        "  order_id: order\n  customer_id: buyer\n  placed_at: when\n  product_id: item\n"
        "  quantity: n\n  unit_price: price\n  country: land\n"
    )
    warehouse = tmp_path / "w.duckdb"
    result = import_orders(source, "csv", warehouse=warehouse, mapping_file=mapping)
    assert (result.rows_loaded, result.rows_rejected, result.namespace) == (3, 0, "eu")
    con = duckdb.connect(str(warehouse))
    assert con.execute(
        "select order_id, placed_at::varchar, currency, total from raw.orders order by 1"
    ).fetchall() == [
        ("eu-A-1", "2024-01-05 10:00:00", "SEK", Decimal("12.00")),
        ("eu-A-2", "2023-12-31 23:59:00", "SEK", Decimal("9.90")),
    ]
    # 'France' is not an ISO code: left empty rather than guessed
    assert con.execute("select customer_id, country from raw.customers order by 1").fetchall() == [
        ("eu-c1", "DE"),
        ("eu-c2", None),
    ]


def test_changed_file_replaces_its_orders(orders_csv: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    mapping = parse_map_option(MAP)
    import_orders(orders_csv, "csv", warehouse=warehouse, mapping=mapping)
    # the shop fixed line 4 (now has a customer) and appended an order
    lines = list(LINES)
    lines[2] = "1002;300;2024-01-06 11:00;A1;1;3.50;cy@example.com;shipped;Mug"
    lines.append("1012;300;2024-02-01 09:00;A1;1;3.50;cy@example.com;shipped;Mug")
    orders_csv.write_text("\n".join([HEADER, *lines]) + "\n")
    second = import_orders(orders_csv, "csv", warehouse=warehouse, mapping=mapping)
    assert not second.already_imported
    con = duckdb.connect(str(warehouse))
    assert con.execute("select order_id from raw.orders order by 1").fetchall() == [
        ("csv-1001",),
        ("csv-1002",),
        ("csv-1011",),
        ("csv-1012",),
    ]
    assert con.execute("select count(*) from raw.order_items").fetchall() == [(5,)]
    # the rejects are those of the file's latest import only
    assert con.execute(
        "select count(*), count(distinct import_id) from raw.import_rejects"
    ).fetchall() == [(9, 1)]


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("order_id=Invoice,customer=Customer", r"unknown field\(s\) customer .*shop_orders.csv"),
        ("order_id=Invoice", r"no column given for required field\(s\) customer_id, placed_at"),
        (
            MAP.replace("customer_id=Customer", "customer_id=CustomerID"),
            r"shop_orders.csv: line 1 \(header\) has no column 'CustomerID' \(for customer_id\)",
        ),
        ("order_id", r"--map: 'order_id' is not field=column"),
    ],
)
def test_mapping_mistakes_name_the_field_column_and_file(
    orders_csv: Path, tmp_path: Path, mapping: str, message: str
) -> None:
    with pytest.raises(UserError, match=message):
        import_orders(
            orders_csv, "csv", warehouse=tmp_path / "w.duckdb", mapping=parse_map_option(mapping)
        )


def test_bad_mapping_file_names_its_line(orders_csv: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("columns:\n  order_id: Invoice\n   customer_id: [\n")
    with pytest.raises(UserError, match=r"bad.yaml line \d+, column \d+: not valid YAML"):
        import_orders(orders_csv, "csv", warehouse=tmp_path / "w.duckdb", mapping_file=mapping)
    mapping.write_text("colums:\n  order_id: Invoice\n")
    with pytest.raises(UserError, match="unknown key\\(s\\) colums"):
        import_orders(orders_csv, "csv", warehouse=tmp_path / "w.duckdb", mapping_file=mapping)


def test_parquet_given_as_csv_is_refused(tmp_path: Path) -> None:
    from import_datasets import UCI_PARQUET_HEAD

    with pytest.raises(UserError, match="is a Parquet file, not a CSV"):
        import_orders(UCI_PARQUET_HEAD, "csv", warehouse=tmp_path / "w.duckdb", mapping={})


def test_unparsable_records_are_rejected_with_their_line(tmp_path: Path) -> None:
    """A record with too many fields is rejected; the lines after it keep their numbers."""
    source = tmp_path / "ragged.csv"
    source.write_text(
        "id;who;when;sku;n;price\n"
        "1;c1;2024-01-01;X;1;2.50\n"
        "2;c1;2024-01-02;X;1;2.50;oops\n"  # line 3
        '3;c2;2024-01-03;"Y;Z";2;1.25\n'  # a quoted delimiter is data
        "4;c2;2024-01-04;X;-1;2.50\n"  # line 5
    )
    mapping = {
        "order_id": "id",
        "customer_id": "who",
        "placed_at": "when",
        "product_id": "sku",
        "quantity": "n",
        "unit_price": "price",
    }
    warehouse = tmp_path / "w.duckdb"
    result = import_orders(source, "csv", warehouse=warehouse, mapping=mapping)
    assert (result.rows_read, result.rows_loaded) == (4, 2)
    con = duckdb.connect(str(warehouse))
    assert con.execute(
        "select line_number, reason, raw_line from raw.import_rejects order by 1"
    ).fetchall() == [
        (3, "malformed_line", "2;c1;2024-01-02;X;1;2.50;oops"),
        (
            5,
            "non_positive_quantity",
            '{"id":"4","who":"c2","when":"2024-01-04","sku":"X","n":"-1","price":"2.50"}',
        ),
    ]
    assert con.execute("select product_id from raw.order_items order by 1").fetchall() == [
        ("csv-X",),
        ("csv-Y;Z",),
    ]
