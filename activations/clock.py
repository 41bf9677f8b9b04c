"""One clock for a build: ``as_of``, in UTC, fixed once when the build starts.

Every dbt model of one build computes audiences and metrics as of the same
moment: the dbt var ``as_of``. The command line, Dagster and the demo fix it
here (UTC, whole seconds) before dbt starts and pass it as that var, so the
machine's time zone and the minutes a build takes change nothing. A moment
given by a user is checked here, before it reaches SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from activations.errors import UserError

AS_OF_FORMAT = "%Y-%m-%d %H:%M:%S"
_HINT = (
    "write a date or a UTC time, e.g. as_of: '2026-06-30' or '2026-06-30 12:00:00' "
    "(an explicit offset such as '2026-06-30T14:00:00+02:00' is converted to UTC)"
)


def utc_now() -> datetime:
    """Now, UTC, as a naive timestamp in whole seconds (the warehouse's convention)."""
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def parse_as_of(value: Any, what: str = "as_of") -> datetime:
    """A user's ``as_of`` (a date, a datetime or ISO text) as naive UTC; ``UserError`` if not one
    (``what`` names the value in the message, e.g. ``--end``).

    A date means its midnight (the start of that day); an aware time is converted
    to UTC; a naive time is taken as UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise UserError(f"{what} {value!r} is not a date or a time", hint=_HINT) from None
    else:
        raise UserError(f"{what} {value!r} is not a date or a time", hint=_HINT)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    if not 1900 <= moment.year <= 9999:
        raise UserError(f"{what} {value!r} is out of range (years 1900 to 9999)", hint=_HINT)
    return moment.replace(microsecond=0)


def format_as_of(moment: datetime) -> str:
    return moment.strftime(AS_OF_FORMAT)


def with_as_of(vars: Mapping[str, Any] | None, now: datetime | None = None) -> dict[str, Any]:
    """dbt vars with ``as_of`` fixed: the given one checked and written in UTC, else now (UTC)."""
    values = dict(vars or {})
    given = values.get("as_of")
    moment = parse_as_of(given) if given not in (None, "") else (now or utc_now())
    values["as_of"] = format_as_of(moment)
    return values
