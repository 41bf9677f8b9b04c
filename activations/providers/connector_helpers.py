"""What connectors do with a batch of records besides encoding it: split it for an
endpoint's own limit, find the ids the warehouse state already knows, pick a
list by id or name, turn per-record rejections into outcomes, and, for the SMS
providers, check a record's address (its E.164 phone) and drop consent fields."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from activations.contract.records import Outcome, Record

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def known_ids(batch: Sequence[Record]) -> tuple[dict[str, str], list[Record]]:
    """Record key -> ESP id from state (the ``destination_id`` an earlier outcome
    returned), and the records without one that have an email to look up by."""
    ids = {r.key: r.destination_id for r in batch if r.destination_id}
    return ids, [r for r in batch if r.key not in ids and r.email]


#: why a removal by email cannot be done for a record the state knows no email of
NO_EMAIL_TO_REMOVE = "no email address known for this record, so it cannot be removed by email"


def unremovable(batch: Sequence[Record], ids: Mapping[str, str] | None = None) -> dict[str, str]:
    """Records a removal by email cannot reach (no email, and no ESP id in
    ``ids``), each with the reason: rejected, never confirmed as gone."""
    known = ids or {}
    return {r.key: NO_EMAIL_TO_REMOVE for r in batch if not r.email and r.key not in known}


def id_or_name(
    items: Iterable[dict[str, Any]], ref: str, name: Callable[[dict[str, Any]], Any]
) -> str | None:
    """The id of the item whose id is ``ref`` (reading stops there), else of the first
    item named ``ref``, else ``None``."""
    found = None
    for item in items:
        if item.get("id") == ref:
            return str(item["id"])
        if found is None and name(item) == ref:
            found = str(item["id"])
    return found


def outcomes(
    batch: Sequence[Record],
    rejected: Mapping[str, str],
    destination_id: Callable[[Record], str | None],
) -> list[Outcome]:
    """Each record rejected with its reason when its key is in ``rejected``, else
    confirmed with its ESP id."""
    return [
        Outcome(r.key, "rejected", reason=rejected[r.key])
        if r.key in rejected
        else Outcome(r.key, "confirmed", destination_id=destination_id(r))
        for r in batch
    ]


#: E.164: a plus, a country code that does not start with 0, at most 15 digits in all
E164 = re.compile(r"^\+[1-9]\d{6,14}$")
NO_PHONE = "no phone number: an SMS provider reaches a person by their E.164 phone"


def phone_problem(record: Record) -> str | None:
    """Why ``record`` cannot be sent to an SMS provider (no phone, or not E.164), or None."""
    if not record.phone:
        return NO_PHONE
    if not E164.match(record.phone):
        return f"phone {record.phone!r} is not an E.164 number (+ and 7 to 15 digits)"
    return None


def unreachable_by_sms(batch: Sequence[Record]) -> dict[str, str]:
    """Records of ``batch`` an SMS provider cannot take, each with the reason."""
    return {r.key: problem for r in batch if (problem := phone_problem(r)) is not None}


def reachable_by_sms(batch: Sequence[Record]) -> tuple[list[Record], dict[str, str]]:
    """``batch`` split: the records an SMS provider can take, and the others with why."""
    rejected = unreachable_by_sms(batch)
    return [r for r in batch if r.key not in rejected], rejected


#: words that make a field a consent field, whatever the declaration calls it: SMS
#: (and email) consent is decided in the warehouse and never written to a provider
_CONSENT_WORDS = re.compile(r"consent|subscri|opt_?in|opt_?out|marketing_?status", re.IGNORECASE)


def is_consent_field(name: str) -> bool:
    return bool(_CONSENT_WORDS.search(name))


def without_consent(fields: Mapping[str, Any], also: Iterable[str] = ()) -> dict[str, Any]:
    """``fields`` without any consent field (and without the names in ``also``)."""
    skip = set(also)
    return {n: v for n, v in fields.items() if n not in skip and not is_consent_field(n)}
