"""The collector's Segment contract over HTTP: auth, limits, idempotency,
batches, clock skew, aliases, and refused calls kept with their reason."""

from __future__ import annotations

import base64
import gzip
import json
from datetime import datetime, timedelta

import httpx
from collect_helpers import WRITE_KEY, Collector

from activations.collect.client import iso
from activations.collect.segment import now_utc


def track(mid: str, **extra: object) -> dict:
    return {"messageId": mid, "anonymousId": "anon-1", "event": "Product Viewed", **extra}


# ---------------------------------------------------------------- auth


def test_write_key_as_basic_username_with_empty_password(collector: Collector) -> None:
    answer = collector.post("track", track("m-auth"))
    assert answer.status_code == 200
    assert answer.json() == {"success": True}
    assert collector.count("events", "message_id = 'm-auth'") == 1


def test_missing_or_wrong_key_is_401_and_stores_nothing(collector: Collector) -> None:
    bare = httpx.post(f"{collector.url}/v1/track", json=track("m-none"))
    wrong = httpx.post(f"{collector.url}/v1/track", json=track("m-wrong"), auth=("nope", ""))
    garbled = httpx.post(
        f"{collector.url}/v1/track",
        json=track("m-garbled"),
        headers={"Authorization": "Basic %%%"},
    )
    for answer in (bare, wrong, garbled):
        assert answer.status_code == 401
        assert answer.json()["success"] is False
    assert collector.count("events") == 0
    assert collector.count("collector_rejects") == 0


def test_write_key_in_the_body_is_accepted(collector: Collector) -> None:
    answer = httpx.post(
        f"{collector.url}/v1/track", json={**track("m-body"), "writeKey": WRITE_KEY}
    )
    assert answer.status_code == 200
    assert collector.count("events", "message_id = 'm-body'") == 1


def test_hand_built_basic_header(collector: Collector) -> None:
    token = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    answer = httpx.post(
        f"{collector.url}/v1/t", json=track("m-hand"), headers={"Authorization": f"Basic {token}"}
    )
    assert answer.status_code == 200


# ---------------------------------------------------------------- limits


def test_a_call_over_32kb_is_refused_and_kept(collector: Collector) -> None:
    big = track("m-big", properties={"blob": "x" * (33 * 1024)})
    answer = collector.post("track", big)
    assert answer.status_code == 400
    assert answer.json() == {"success": False, "message": "Exceed payload limit"}
    assert collector.count("events") == 0
    (reason,) = collector.query("select reason from raw.collector_rejects")[0]
    assert reason.startswith("Exceed payload limit")


def test_a_call_just_under_32kb_lands(collector: Collector) -> None:
    call = track("m-fits", properties={"blob": ""})
    room = 32 * 1024 - len(json.dumps(call).encode())
    call["properties"]["blob"] = "x" * room
    body = json.dumps(call).encode()
    assert len(body) == 32 * 1024
    answer = collector.post("track", content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 200


def test_a_batch_over_500kb_is_refused(collector: Collector) -> None:
    calls = [
        {"type": "track", **track(f"m-{i}", properties={"blob": "y" * 20_000})} for i in range(30)
    ]
    answer = collector.post("batch", {"batch": calls})
    assert answer.status_code == 400
    assert answer.json()["message"] == "Exceed payload limit"
    assert collector.count("events") == 0
    assert collector.count("collector_rejects", "endpoint = '/v1/batch'") == 1


def test_in_a_batch_a_call_over_32kb_is_refused_the_rest_lands(collector: Collector) -> None:
    calls = [
        {"type": "track", **call}
        for call in (track("m-ok-1"), track("m-huge", properties={"blob": "z" * 40_000}))
    ] + [{"type": "track", **track("m-ok-2")}]
    answer = collector.post("batch", {"batch": calls})
    assert answer.status_code == 400
    body = answer.json()
    assert body["accepted"] == 2
    assert body["refused"][0]["index"] == 1
    assert body["refused"][0]["messageId"] == "m-huge"
    assert "Exceed payload limit" in body["refused"][0]["message"]
    assert collector.count("events") == 2
    assert collector.count("collector_rejects", "message_id = 'm-huge'") == 1


def test_gzip_bodies_are_inflated(collector: Collector) -> None:
    body = gzip.compress(json.dumps({"batch": [{**track("m-gz"), "type": "track"}]}).encode())
    answer = collector.post(
        "batch",
        content=body,
        headers={"content-type": "application/json", "content-encoding": "gzip"},
    )
    assert answer.status_code == 200
    assert collector.count("events", "message_id = 'm-gz'") == 1


# ---------------------------------------------------------------- idempotency


def test_a_retried_call_is_stored_once(collector: Collector) -> None:
    for _ in range(3):
        assert collector.post("track", track("m-retry")).status_code == 200
    identify = {"messageId": "i-retry", "userId": "cus_1", "traits": {"email": "a@b.c"}}
    for _ in range(2):
        assert collector.post("identify", identify).status_code == 200
    assert collector.count("events", "message_id = 'm-retry'") == 1
    assert collector.count("identifies", "message_id = 'i-retry'") == 1


def test_duplicates_inside_one_batch_and_across_batches(collector: Collector) -> None:
    calls = [{**track("m-dup"), "type": "track"}] * 3 + [{**track("m-solo"), "type": "track"}]
    assert collector.post("batch", {"batch": calls}).status_code == 200
    assert collector.post("batch", {"batch": calls}).status_code == 200
    assert collector.count("events") == 2


# ---------------------------------------------------------------- batch


def test_batch_of_mixed_types_lands_in_the_right_tables(collector: Collector) -> None:
    calls = [
        {"type": "track", **track("b-1")},
        {"type": "page", "messageId": "b-2", "anonymousId": "anon-1", "name": "Home",
         "properties": {"path": "/", "url": "https://shop/"}},
        {"type": "identify", "messageId": "b-3", "userId": "cus_7", "anonymousId": "anon-1",
         "traits": {"email": "x@y.z", "first_name": "Ann"}},
    ]  # fmt: skip
    answer = collector.post("batch", {"batch": calls, "context": {"library": {"name": "t"}}})
    assert answer.status_code == 200, answer.text
    events = dict(collector.query("select message_id, event from raw.events"))
    assert events == {"b-1": "Product Viewed", "b-2": "Page Viewed"}
    ((traits, user),) = collector.query("select traits, user_id from raw.identifies")
    assert json.loads(traits) == {"email": "x@y.z", "first_name": "Ann"} and user == "cus_7"
    ((context,),) = collector.query("select context from raw.events where message_id = 'b-2'")
    assert json.loads(context) == {
        "library": {"name": "t"},
        "page": {"path": "/", "url": "https://shop/"},
    }


def test_aliases_t_i_p(collector: Collector) -> None:
    assert collector.post("t", track("a-t")).status_code == 200
    assert collector.post("i", {"messageId": "a-i", "userId": "cus_1"}).status_code == 200
    assert collector.post("p", {"messageId": "a-p", "anonymousId": "x"}).status_code == 200
    assert collector.count("events") == 2 and collector.count("identifies") == 1


# ---------------------------------------------------------------- clock skew


def test_sent_at_corrects_a_wrong_device_clock(collector: Collector) -> None:
    device_now = now_utc() + timedelta(hours=3)  # the phone's clock is 3 h ahead
    call = track(
        "skew-1",
        timestamp=(device_now - timedelta(minutes=10)).isoformat() + "Z",
        sentAt=device_now.isoformat() + "Z",
    )
    assert collector.post("track", call).status_code == 200
    ((timestamp, received),) = collector.query(
        "select timestamp, received_at from raw.events where message_id = 'skew-1'"
    )
    assert received - timestamp == timedelta(minutes=10)


def test_batch_level_sent_at_applies_to_each_call(collector: Collector) -> None:
    sent = now_utc().replace(microsecond=0) - timedelta(days=2)  # a clock two days behind
    calls = [
        {"type": "track", **track(f"skew-b{i}", timestamp=iso(sent - timedelta(seconds=i)))}
        for i in (1, 30)
    ]
    answer = collector.post("batch", {"batch": calls, "sentAt": iso(sent)})
    assert answer.status_code == 200
    rows = dict(
        collector.query(
            "select message_id, received_at - timestamp from raw.events order by message_id"
        )
    )
    assert rows == {"skew-b1": timedelta(seconds=1), "skew-b30": timedelta(seconds=30)}


def test_without_sent_at_the_timestamp_is_kept(collector: Collector) -> None:
    call = track("hist-1", timestamp="2026-06-30T08:00:00Z")
    assert collector.post("track", call).status_code == 200
    ((timestamp,),) = collector.query("select timestamp from raw.events")
    assert timestamp == datetime(2026, 6, 30, 8)


def test_received_at_never_goes_backwards(collector: Collector) -> None:
    for i in range(20):
        assert collector.post("track", track(f"order-{i}")).status_code == 200
    received = [r[0] for r in collector.query("select received_at from raw.events order by rowid")]
    assert received == sorted(received)


# ---------------------------------------------------------------- refused calls


def test_malformed_calls_are_400_and_kept_with_the_reason(collector: Collector) -> None:
    cases = [
        ("track", b"{not json", "Invalid JSON"),
        ("track", b'["a list"]', "the body must be a JSON object"),
        ("track", json.dumps({"messageId": "r-1", "event": "E"}).encode(),
         "missing userId or anonymousId"),
        ("track", json.dumps({"messageId": "r-2", "userId": "u"}).encode(), "missing event"),
        ("identify", json.dumps({"messageId": "r-3", "userId": "u", "timestamp": "soon"}).encode(),
         "timestamp is not an ISO 8601"),
        ("batch", json.dumps({"batch": {"not": "a list"}}).encode(), "batch must be an array"),
        ("screen", json.dumps({"messageId": "r-4", "userId": "u"}).encode(), "not collected"),
    ]  # fmt: skip
    for route, body, reason in cases:
        answer = collector.post(route, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400, (route, body)
        assert answer.json()["success"] is False
        assert reason in answer.json()["message"]
    kept = collector.query(
        "select endpoint, message_id, reason, payload from raw.collector_rejects"
    )
    assert len(kept) == len(cases)
    assert {r[1] for r in kept} >= {"r-1", "r-2", "r-3", "r-4"}
    assert any(r[3] == "{not json" for r in kept)
    assert collector.count("events") == 0 and collector.count("identifies") == 0


def test_unknown_route_is_404(collector: Collector) -> None:
    assert collector.post("nothing", track("x")).status_code == 404
