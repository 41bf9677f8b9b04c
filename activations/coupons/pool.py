"""Importing a campaign's pool of codes: ``activations coupons import FILE
--campaign C``.

The file is CSV (UTF-8), one code a line: ``code[,value[,expires_at]]``, with
an optional header line naming those columns (in any order). Codes are stored
trimmed and upper case. ``value`` is a number above 0; ``expires_at`` an ISO
date or date-time (UTC when it carries no offset; a date alone is midnight at
the start of that day). Idempotent: a code already in this campaign's pool is
counted as such and left as it is. Bad lines are rejected with their line
number and the reason (an empty or malformed code, a bad value or date, an
expiry already past, a code twice in the file, a code in another campaign's
pool or already used); the good lines are imported. Small on purpose: the
order-import machinery (``activations.imports``) stages large files in
DuckDB, a pool is a few thousand short lines that must also land on
PostgreSQL.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from activations.coupons.codes import CODE_PATTERN, normalise
from activations.coupons.ledger import ASSIGNMENTS, POOL, ensure_ledger, now
from activations.errors import UserError
from activations.warehouse.db import Db

COLUMNS = ("code", "value", "expires_at")
MAX_VALUE = Decimal("9999999999.99")


@dataclass(frozen=True)
class Reject:
    line: int
    reason: str
    text: str


@dataclass
class PoolImport:
    campaign: str
    file: Path
    imported: int = 0
    already: int = 0  # in this campaign's pool before (a file imported again)
    rejects: list[Reject] = field(default_factory=list)


@dataclass(frozen=True)
class PoolCode:
    line: int
    code: str
    value: Decimal | None
    expires_at: datetime | None


def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UserError(f"no file {path}", hint="give the path of the CSV of codes") from None
    except OSError as exc:
        raise UserError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise UserError(
            f"{path}:{line}: not UTF-8 text (byte 0x{data[exc.start]:02x}); nothing was imported",
            hint="save the file as UTF-8 CSV",
        ) from None


def _value(text: str) -> Decimal | None:
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"value {text!r} is not a number") from None
    if not value.is_finite() or value <= 0 or value > MAX_VALUE:
        raise ValueError(f"value {text!r} must be above 0 (and below {MAX_VALUE})")
    if value != value.quantize(Decimal("0.01")):
        raise ValueError(f"value {text!r} has more than 2 decimals")
    return value


def _expiry(text: str) -> datetime | None:
    if not text:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), datetime.min.time())
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"expires_at {text!r} is not an ISO date or date-time (2026-08-01, "
            "2026-08-01T23:59:59Z)"
        ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def parse(path: Path, text: str, at: datetime) -> tuple[list[PoolCode], list[Reject]]:
    """The file's codes and its rejected lines."""
    reader = csv.reader(io.StringIO(text))
    order = list(COLUMNS)
    codes: list[PoolCode] = []
    rejects: list[Reject] = []
    seen: dict[str, int] = {}
    first = True
    for row in reader:
        line = reader.line_num
        cells = [c.strip() for c in row]
        if not any(cells):
            continue
        shown = ",".join(row)[:200]
        if first:
            first = False
            if cells[0].lower() == "code":
                unknown = [c for c in cells if c.lower() not in COLUMNS]
                if unknown or len(set(c.lower() for c in cells)) != len(cells):
                    raise UserError(
                        f"{path}:{line}: the header names {', '.join(cells)}; the columns are "
                        "code, value, expires_at (each at most once); nothing was imported"
                    )
                order = [c.lower() for c in cells]
                continue
        if len(cells) > len(order):
            rejects.append(
                Reject(
                    line,
                    f"{len(cells)} columns, expected at most {len(order)} ({', '.join(order)})",
                    shown,
                )
            )
            continue
        values = dict(zip(order, cells + [""] * (len(order) - len(cells)), strict=True))
        code = normalise(values.get("code", ""))
        try:
            if not code:
                raise ValueError("no code")
            if not CODE_PATTERN.fullmatch(code):
                raise ValueError(f"code {code!r} is not 3 to 64 letters, digits, '-' or '_'")
            if code in seen:
                raise ValueError(f"code {code} is also on line {seen[code]}")
            value = _value(values.get("value", ""))
            expires = _expiry(values.get("expires_at", ""))
            if expires is not None and expires <= at:
                raise ValueError(f"code {code} expired at {expires:%Y-%m-%d %H:%M:%S} UTC")
        except ValueError as exc:
            rejects.append(Reject(line, str(exc), shown))
            continue
        seen[code] = line
        codes.append(PoolCode(line, code, value, expires))
    return codes, rejects


def import_pool(db: Db, path: Path, campaign: str) -> PoolImport:
    """Add the codes of ``path`` to ``campaign``'s pool (see the module docstring)."""
    from activations.coupons.spec import CouponSpec

    try:
        CouponSpec(campaign=campaign, source="pool")
    except ValueError:
        raise UserError(
            f"campaign {campaign!r} is not a campaign name",
            hint="lower case letters, digits, '-' or '_' (at most 64), e.g. --campaign cart-24h",
        ) from None
    at = now()
    codes, rejects = parse(path, _text(path), at)
    result = PoolImport(campaign=campaign, file=path, rejects=rejects)
    ensure_ledger(db)
    known: dict[str, str] = {}
    used: dict[str, str] = {}
    if codes:
        wanted = [c.code for c in codes]
        for chunk in range(0, len(wanted), 1000):
            part = wanted[chunk : chunk + 1000]
            marks = ", ".join("?" for _ in part)
            known.update(
                db.query(f"select code, campaign from {POOL} where code in ({marks})", part)
            )
            used.update(
                db.query(f"select code, campaign from {ASSIGNMENTS} where code in ({marks})", part)
            )
    fresh: list[PoolCode] = []
    for c in codes:
        if known.get(c.code) == campaign:
            result.already += 1
        elif c.code in known:
            result.rejects.append(
                Reject(
                    c.line, f"code {c.code} is in the pool of campaign {known[c.code]!r}", c.code
                )
            )
        elif c.code in used:
            result.rejects.append(
                Reject(
                    c.line,
                    f"code {c.code} was already given out (campaign {used[c.code]!r})",
                    c.code,
                )
            )
        else:
            fresh.append(c)
    result.rejects.sort(key=lambda r: r.line)
    with db.transaction():
        db.insert_rows(
            POOL,
            ["code", "campaign", "value", "expires_at", "source_file", "line_number"],
            [(c.code, campaign, c.value, c.expires_at, str(path), c.line) for c in fresh],
            conflict=["code"],
            types=["varchar", "varchar", "decimal(12, 2)", "timestamp", "varchar", "integer"],
            constants={"imported_at": at},
        )
    result.imported = len(fresh)
    return result
