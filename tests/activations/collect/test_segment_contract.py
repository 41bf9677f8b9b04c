"""The Segment contract as pure functions: clock-skew correction, time parsing,
and how track, page and identify calls map onto raw.events / raw.identifies."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from activations.collect.segment import (
    Invalid,
    Rows,
    corrected_timestamp,
    loads,
    parse_time,
    to_rows,
)

RECEIVED = datetime(2026, 12, 3, 12, 0, 0)


def test_skew_correction_is_received_minus_the_devices_delay() -> None:
    # the device clock runs 1 h fast: it stamps 13:59:50 and sends at 14:00:00
    original = datetime(2026, 12, 3, 13, 59, 50)
    sent = datetime(2026, 12, 3, 14, 0, 0)
    assert corrected_timestamp(RECEIVED, original, sent) == RECEIVED - timedelta(seconds=10)
    assert corrected_timestamp(RECEIVED, original, None) == original  # no sentAt: as sent
    assert corrected_timestamp(RECEIVED, None, sent) == RECEIVED  # no timestamp: received


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-03T12:00:00Z", datetime(2026, 12, 3, 12)),
        ("2026-12-03T12:00:00.250Z", datetime(2026, 12, 3, 12, 0, 0, 250_000)),
        ("2026-12-03T14:00:00+02:00", datetime(2026, 12, 3, 12)),
        ("2026-12-03T12:00:00", datetime(2026, 12, 3, 12)),
    ],
)
def test_times_become_naive_utc(text: str, expected: datetime) -> None:
    assert parse_time(text, "timestamp") == expected


@pytest.mark.parametrize("value", ["yesterday", 1733227200, "", {"t": 1}])
def test_bad_times_are_refused_with_the_field(value: object) -> None:
    with pytest.raises(Invalid, match="timestamp"):
        parse_time(value, "timestamp")


def test_json_must_be_strict() -> None:
    with pytest.raises(Invalid, match="Invalid JSON"):
        loads(b'{"a": NaN}')
    with pytest.raises(Invalid, match="Invalid JSON"):
        loads(b"{not json")


def test_track_maps_onto_the_events_columns() -> None:
    rows = Rows()
    call = {
        "messageId": "m1",
        "anonymousId": "a1",
        "userId": 42,
        "event": "Product Added",
        "properties": {"cart_id": "c1", "price": 3.5},
        "context": {"page": {"path": "/p/1"}},
        "timestamp": "2026-12-03T11:00:00Z",
    }
    to_rows(call, "track", RECEIVED, rows)
    assert rows.events == [
        (
            "m1",
            "a1",
            "42",
            "Product Added",
            datetime(2026, 12, 3, 11),
            RECEIVED,
            '{"cart_id":"c1","price":3.5}',
            '{"page":{"path":"/p/1"}}',
        )
    ]


def test_page_is_a_page_viewed_event_with_context_page() -> None:
    rows = Rows()
    to_rows(
        {"anonymousId": "a1", "name": "Home", "properties": {"path": "/", "url": "https://s/"}},
        "page",
        RECEIVED,
        rows,
    )
    (row,) = rows.events
    assert row[3] == "Page Viewed"
    assert json.loads(row[6]) == {"path": "/", "url": "https://s/", "name": "Home"}
    assert json.loads(row[7]) == {"page": {"url": "https://s/", "path": "/"}}
    assert row[0].startswith("col-")  # no messageId: one is made


def test_identify_takes_traits_and_batch_context_and_sent_at() -> None:
    rows = Rows()
    to_rows(
        {
            "type": "identify",
            "userId": "cus_1",
            "context": {"traits": {"email": "a@b.c"}},
            "timestamp": "2026-12-03T11:00:00Z",
        },
        None,
        RECEIVED,
        rows,
        batch_sent_at=datetime(2026, 12, 3, 11, 0, 5),
        batch_context={"library": {"name": "x"}},
    )
    (row,) = rows.identifies
    assert row[1:4] == ("cus_1", None, '{"email":"a@b.c"}')
    assert row[4] == RECEIVED - timedelta(seconds=5)


def test_a_retry_without_message_id_gets_the_same_id() -> None:
    first, retry = Rows(), Rows()
    call = {"userId": "u", "event": "E", "timestamp": "2026-12-03T11:00:00Z"}
    to_rows({**call, "sentAt": "2026-12-03T11:00:01Z"}, "track", RECEIVED, first)
    to_rows({**call, "sentAt": "2026-12-03T11:05:00Z"}, "track", RECEIVED, retry)
    assert first.events[0][0] == retry.events[0][0]


@pytest.mark.parametrize(
    ("call", "kind", "reason"),
    [
        ({"event": "E"}, "track", "missing userId or anonymousId"),
        ({"userId": "u"}, "track", "missing event"),
        ({"userId": "u", "event": "E", "properties": [1]}, "track", "properties must be an object"),
        ({"userId": "u", "type": "group"}, None, "type 'group' is not collected"),
        ({"userId": "u"}, None, "missing type"),
        ({"userId": {"id": 1}, "event": "E"}, "track", "userId must be a string"),
    ],
)
def test_malformed_calls_say_why(call: dict, kind: str | None, reason: str) -> None:
    with pytest.raises(Invalid, match=reason):
        to_rows({"messageId": "m9", **call}, kind, RECEIVED, Rows())
