"""Importing a campaign's pool of codes: the CSV format, bad lines with their
line numbers, idempotence, codes that belong elsewhere; and the command line
as a user runs it (the import, the status, the run a dry pool stops)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from activations.coupons.pool import import_pool
from activations.errors import UserError
from activations.warehouse.db import Db
from tests.activations.coupons.conftest import coupon_spec
from tests.activations.sync.conftest import make_audience, people


def pool_rows(con) -> dict[str, tuple]:
    return {
        code: (campaign, value, expires, line)
        for code, campaign, value, expires, line in con.execute(
            "select code, campaign, cast(value as varchar), cast(expires_at as varchar), "
            "line_number from activations.coupon_pool"
        ).fetchall()
    }


def test_good_lines_are_imported_and_bad_ones_named_by_line(db, tmp_path: Path) -> None:
    file = tmp_path / "codes.csv"
    file.write_text(
        "code,expires_at,value\n"  # a header, columns in any order
        " spring-001 ,2099-08-01,10\n"  # line 2: trimmed, upper-cased
        "SPRING-002,2099-08-01T23:59:59+02:00,\n"  # 3: offset -> UTC, no value
        "\n"  # 4: blank, skipped
        "SPRING-003,,abc\n"  # 5: bad value
        "SPRING-004,not a date,5\n"  # 6: bad date
        "SPRING-005,2001-01-01,5\n"  # 7: already expired
        "spring-001,,\n"  # 8: twice in the file
        "S!,,\n"  # 9: malformed
        ",,5\n"  # 10: no code
        "SPRING-006,,0\n"  # 11: value not above 0
        "SPRING-007,,1.005\n"  # 12: more than 2 decimals
        "SPRING-008,,,extra\n"  # 13: too many columns
        "SPRING-009\n"  # 14: code only
    )
    result = import_pool(Db(db), file, "spring")
    assert result.imported == 3 and result.already == 0
    assert [(r.line, r.reason) for r in result.rejects] == [
        (5, "value 'abc' is not a number"),
        (6, "expires_at 'not a date' is not an ISO date or date-time (2026-08-01, "
            "2026-08-01T23:59:59Z)"),
        (7, "code SPRING-005 expired at 2001-01-01 00:00:00 UTC"),
        (8, "code SPRING-001 is also on line 2"),
        (9, "code 'S!' is not 3 to 64 letters, digits, '-' or '_'"),
        (10, "no code"),
        (11, "value '0' must be above 0 (and below 9999999999.99)"),
        (12, "value '1.005' has more than 2 decimals"),
        (13, "4 columns, expected at most 3 (code, expires_at, value)"),
    ]  # fmt: skip
    assert pool_rows(db) == {
        "SPRING-001": ("spring", "10.00", "2099-08-01 00:00:00", 2),
        "SPRING-002": ("spring", None, "2099-08-01 21:59:59", 3),
        "SPRING-009": ("spring", None, None, 14),
    }


def test_importing_again_adds_nothing(db, tmp_path: Path) -> None:
    file = tmp_path / "codes.csv"
    file.write_text("A-001\nA-002\n")
    assert import_pool(Db(db), file, "c1").imported == 2
    again = import_pool(Db(db), file, "c1")
    assert (again.imported, again.already, again.rejects) == (0, 2, [])
    assert len(pool_rows(db)) == 2


def test_codes_of_another_campaign_or_already_given_are_refused(db, tmp_path: Path) -> None:
    file = tmp_path / "codes.csv"
    file.write_text("A-001\n")
    import_pool(Db(db), file, "c1")
    db.execute(
        "insert into activations.coupon_assignments (campaign, person_id, code, source, "
        "assigned_at) values ('c9', 'p1', 'GEN-1', 'generated', now())"
    )
    file.write_text("A-001\nGEN-1\nB-001\n")
    result = import_pool(Db(db), file, "c2")
    assert result.imported == 1
    assert [(r.line, r.reason) for r in result.rejects] == [
        (1, "code A-001 is in the pool of campaign 'c1'"),
        (2, "code GEN-1 was already given out (campaign 'c9')"),
    ]


@pytest.mark.parametrize(
    ("content", "campaign", "message"),
    [
        (b"code,amount\nA-1,5\n", "c1", "codes.csv:1: the header names code, amount"),
        (b"A-1\n\xff\xfe\n", "c1", "codes.csv:2: not UTF-8 text"),
        (b"A-1\n", "Not A Name", "campaign 'Not A Name' is not a campaign name"),
    ],
)
def test_unreadable_files_import_nothing(db, tmp_path: Path, content, campaign, message):
    file = tmp_path / "codes.csv"
    file.write_bytes(content)
    with pytest.raises(UserError, match=message):
        import_pool(Db(db), file, campaign)
    assert db.execute(  # read and checked before anything is written
        "select count(*) from information_schema.tables where table_name = 'coupon_pool'"
    ).fetchone() == (0,)


def _cli(args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "activations.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    return proc.returncode, " ".join((proc.stdout + proc.stderr).split())  # unwrapped


def test_command_line_import_status_and_a_dry_pool(tmp_path: Path) -> None:
    wh = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(wh))
    make_audience(con, people(4, start=1))
    con.close()
    coupon_spec(tmp_path, "{campaign: dormant-q3, source: pool, value: 15}")
    codes = tmp_path / "codes.csv"
    codes.write_text("D-001\nD-002\nD-!!\n")

    code, out = _cli(["coupons", "import", str(codes), "--campaign", "dormant-q3",
                      "--warehouse", str(wh)])  # fmt: skip
    assert code == 0, out
    assert "imported 2 codes, 0 already in its pool, 1 lines rejected" in out
    assert f"{codes}:3: code 'D-!!' is not 3 to 64 letters" in out

    env = {"HOOK_SECRET": "x" * 12, "HOOK_URL": "http://127.0.0.1:9"}
    syncs = str(tmp_path / "syncs.yml")
    code, out = _cli(["run", "carts_hook", "--syncs", syncs, "--warehouse", str(wh), "--force"],
                     env)  # fmt: skip
    assert code == 3, out
    assert "campaign 'dormant-q3': the coupon pool ran dry: 4 people need a code, 2" in out
    assert "2 codes missing" in out and "--force does not override" in out
    assert "Traceback" not in out

    code, out = _cli(["coupons", "status", "--warehouse", str(wh)])
    assert code == 0 and "dormant-q3" in out, out
    code, out = _cli(["coupons", "import", str(tmp_path / "nope.csv"), "--campaign", "c1",
                      "--warehouse", str(wh)])  # fmt: skip
    assert code == 2 and "no file" in out and "Traceback" not in out
