"""Hostile import files, as a user meets them on the command line: a truncated,
binary or wrongly encoded file is refused whole with one message naming the file
and the line, exit code 2, and no raw table changes. Plus the value defects that
loaded wrong data without a reject. Rows of docs/reliability.md point here."""

from __future__ import annotations

import gzip
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from import_datasets import UCI_PARQUET

from activations.cli import main
from activations.imports import import_orders
from tests.activations.sync.conftest import table_digest

HEADER = "id,who,when,sku,n,price\n"
GOOD = "".join(f"{i},c{i % 7},2024-01-{1 + i % 28:02d},X{i % 5},1,2.50\n" for i in range(1, 400))
MAP = "order_id=id,customer_id=who,placed_at=when,product_id=sku,quantity=n,unit_price=price"
MAPPING = dict(pair.split("=") for pair in MAP.split(","))


def cli(monkeypatch: pytest.MonkeyPatch, capsys, *args: str | Path) -> tuple[int, str]:
    """Run ``activations ARGS`` in-process: (exit code, stdout + stderr on one line)."""
    monkeypatch.setattr(sys, "argv", ["activations", *map(str, args)])
    monkeypatch.setenv("COLUMNS", "400")
    code = 0
    try:
        main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    captured = capsys.readouterr()
    return code, " ".join((captured.out + captured.err).split())


def digest(warehouse: Path) -> dict[str, str]:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return table_digest(con)
    finally:
        con.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    """A warehouse that already holds an import (so every raw table exists)."""
    path = tmp_path / "wh.duckdb"
    first = tmp_path / "first.csv"
    first.write_text(HEADER + GOOD)
    import_orders(first, "csv", warehouse=path, mapping=MAPPING, namespace="first")
    return path


def _latin1_on_line_3() -> bytes:
    return (HEADER + "1,c1,2024-01-01,X,1,2.5\n2,c1,2024-01-02,Caf\xe9,1,2.5\n").encode("latin-1")


# (name, file name, bytes, --format, the message's telling part)
CASES = [
    (
        "latin1_byte_on_line_3",  # reported as 'line 1' before
        "latin1.csv",
        _latin1_on_line_3(),
        "csv",
        "latin1.csv: line 3, byte 20: byte 0xe9 is not UTF-8 text",
    ),
    (
        "bad_byte_far_down",  # past the header the CSV reader kept a '?' in its place
        "late.csv",
        (HEADER + GOOD).encode() + b"400,c1,2024-01-01,\xff,1,2.5\n",
        "csv",
        "late.csv: line 401, byte 19: byte 0xff is not UTF-8 text",
    ),
    (
        "nul_byte_in_a_field",  # loaded with a \u0000 in the customer id before
        "nul.csv",
        (HEADER + "1,c1,2024-01-01,X,1,2.5\n").encode() + b"2,c\x001,2024-01-02,X,1,2.5\n",
        "csv",
        "nul.csv: line 3, byte 4: a NUL byte (0x00): this is a binary file, not text",
    ),
    (
        "binary_file",
        "photo.csv",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        "csv",
        "photo.csv: line 3, byte 1: a NUL byte (0x00): this is a binary file",
    ),
    (
        "utf16_file",
        "utf16.csv",
        (HEADER + "1,c1,2024-01-01,X,1,2.5\n").encode("utf-16"),
        "csv",
        "utf16.csv: line 1: the file is UTF-16 text, not UTF-8",
    ),
    (
        "excel_workbook",
        "orders.csv",
        b"PK\x03\x04" + b"\x00" * 60,
        "csv",
        "orders.csv: line 1: a ZIP archive (an Excel .xlsx workbook?), not text",
    ),
    (
        "truncated_csv_in_a_quote",  # loaded all but the last line before
        "cut.csv",
        (HEADER + GOOD).encode() + b'400,c1,2024-01-01,"X',
        "csv",
        "cut.csv: line 401 (the last) is cut short and has no line break: the file looks truncated",
    ),
    (
        "truncated_csv_mid_record",
        "cut2.csv",
        (HEADER + GOOD).encode() + b"400,c1,2024-01",
        "csv",
        "cut2.csv: line 401 (the last) is cut short",
    ),
    (
        "truncated_gzip",
        "cut.csv.gz",
        gzip.compress((HEADER + GOOD * 40).encode())[:3000],
        "csv",
        "cut.csv.gz: line ",
    ),
    (
        "latin1_cdnow",
        "cdnow.txt",
        b"00001 19970101 1 11.77\n00002 19970102 1 12.00\n00003 1997010\xe9 1 12.00\n",
        "cdnow",
        "cdnow.txt: line 3, byte 14: byte 0xe9 is not UTF-8 text",
    ),
    (
        "truncated_cdnow",
        "cdnow_cut.txt",
        b"00001 19970101 1 11.77\n00002 19970102 1 12.00\n00004 1997",
        "cdnow",
        "cdnow_cut.txt: line 3 (the last) is cut short",
    ),
]


@pytest.mark.parametrize(
    ("name", "data", "fmt", "message"),
    [(case[1], case[2], case[3], case[4]) for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_a_hostile_file_is_one_message_exit_2_and_changes_nothing(
    monkeypatch, capsys, tmp_path: Path, warehouse: Path, name: str, data: bytes, fmt: str,
    message: str,
) -> None:  # fmt: skip
    source = tmp_path / name
    source.write_bytes(data)
    before = digest(warehouse)
    extra = ["--map", MAP] if fmt == "csv" else []
    code, out = cli(
        monkeypatch, capsys, "import", "orders", source, "--format", fmt, *extra,
        "--warehouse", warehouse,
    )  # fmt: skip
    assert code == 2, out
    assert message in out, out
    assert "nothing was imported" in out
    assert "Traceback" not in out
    assert digest(warehouse) == before


def test_a_truncated_gzip_names_the_last_whole_line(tmp_path: Path) -> None:
    from activations.errors import UserError
    from activations.imports.files import check_readable

    source = tmp_path / "cut.csv.gz"
    text = (HEADER + GOOD * 40).encode()
    source.write_bytes(gzip.compress(text)[:3000])
    with pytest.raises(UserError, match=r"line (\d+): the gzip file ends early") as caught:
        check_readable(source)
    line = int(str(caught.value).split("line ")[1].split(":")[0])
    assert 1 < line < text.count(b"\n")


def test_a_truncated_parquet_file_is_refused(
    monkeypatch, capsys, tmp_path: Path, warehouse: Path
) -> None:
    if not UCI_PARQUET.exists():
        pytest.skip(f"dataset {UCI_PARQUET} is not on this machine")
    source = tmp_path / "online_retail.parquet"
    data = UCI_PARQUET.read_bytes()
    source.write_bytes(data[: len(data) // 2])
    before = digest(warehouse)
    code, out = cli(
        monkeypatch, capsys, "import", "orders", source, "--format", "online-retail",
        "--warehouse", warehouse,
    )  # fmt: skip
    assert code == 2
    assert "online_retail.parquet: the Parquet file is truncated (it has no footer" in out
    assert digest(warehouse) == before


def test_a_complete_last_line_without_a_line_break_loads(tmp_path: Path) -> None:
    source = tmp_path / "no_eol.csv"
    source.write_text(HEADER + "1,c1,2024-01-01,X,1,2.5\n2,c1,2024-01-02,X,1,2.5")
    result = import_orders(source, "csv", warehouse=tmp_path / "w.duckdb", mapping=MAPPING)
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)


def test_value_defects_are_rejected_or_converted(tmp_path: Path) -> None:
    """quantity 2.5 was stored as 3; '+05:00' kept its wall time; years 0001 and 9999
    loaded. Now: a reject, UTC, a reject."""
    source = tmp_path / "values.csv"
    source.write_text(
        HEADER
        + "1,c1,2024-01-01,X,2.5,2.00\n"  # line 2
        + "2,c1,2024-01-01 10:00+05:00,X,1,2.00\n"  # 05:00 UTC
        + "3,c1,2024-01-01T10:00:00Z,X,1,2.00\n"
        + "4,c1,0001-01-01,X,1,2.00\n"  # line 5
        + "5,c1,9999-12-31 23:59:59,X,1,2.00\n"  # line 6
        + "6,c1,2024-01-02 08:30:00-03:30,X,2.0,2.00\n"  # a spreadsheet's 2.0 is 2
        + "7,c1,2024-01-03,X,2.50,2.00\n"  # line 8
    )
    warehouse = tmp_path / "w.duckdb"
    result = import_orders(source, "csv", warehouse=warehouse, mapping=MAPPING)
    assert result.rejected_by_reason == {"fractional_quantity": 2, "date_out_of_range": 2}
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute(
        "select line_number, reason from raw.import_rejects order by 1"
    ).fetchall() == [
        (2, "fractional_quantity"),
        (5, "date_out_of_range"),
        (6, "date_out_of_range"),
        (8, "fractional_quantity"),
    ]
    assert con.execute(
        "select o.order_id, o.placed_at::varchar, i.quantity, o.total "
        "from raw.orders o join raw.order_items i using (order_id) order by 1"
    ).fetchall() == [
        ("csv-2", "2024-01-01 05:00:00", 1, Decimal("2.00")),
        ("csv-3", "2024-01-01 10:00:00", 1, Decimal("2.00")),
        ("csv-6", "2024-01-02 12:00:00", 2, Decimal("4.00")),
    ]


def test_an_offset_in_a_date_format_is_converted(tmp_path: Path) -> None:
    source = tmp_path / "eu.csv"
    source.write_text(HEADER + "1,c1,05/01/2024 10:00 +0100,X,1,2.00\n")
    warehouse = tmp_path / "w.duckdb"
    import_orders(
        source, "csv", warehouse=warehouse, mapping=MAPPING, date_format="%d/%m/%Y %H:%M %z"
    )
    con = duckdb.connect(str(warehouse), read_only=True)
    assert con.execute("select placed_at::varchar from raw.orders").fetchall() == [
        ("2024-01-05 09:00:00",)
    ]
