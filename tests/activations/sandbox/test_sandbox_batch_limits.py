"""Record and byte limits exactly at the maximum and one past it, each refused
with the provider's own error shape."""

from __future__ import annotations

import json
from typing import Any

import httpx

LIST_UUID = "6c6f9a55-64b6-4b8f-9f4c-5a1d1c6f0c0e"


def braze_attrs(n: int) -> list[dict[str, Any]]:
    return [{"external_id": f"u_{i}", "email": f"p{i}@example.com"} for i in range(n)]


def test_braze_75_per_array(clients: dict[str, httpx.Client]) -> None:
    braze = clients["braze"]
    ok = braze.post("/users/track", json={"attributes": braze_attrs(75)})
    assert ok.status_code == 201
    assert ok.json()["attributes_processed"] == 75
    events = [{"external_id": f"u_{i}", "name": "viewed", "time": "2026-05-01T12:00:00Z"}
              for i in range(76)]
    too_many = braze.post("/users/track", json={"events": events})
    assert too_many.status_code == 400
    assert too_many.json()["message"] == "Max Input Length Exceeded"


def klaviyo_import(n: int) -> dict[str, Any]:
    return {"data": {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": [
        {"type": "profile", "attributes": {"email": f"p{i}@example.com"}} for i in range(n)]}}}}


def test_klaviyo_import_takes_10000_profiles(clients: dict[str, httpx.Client]) -> None:
    klaviyo = clients["klaviyo"]
    ok = klaviyo.post("/api/profile-bulk-import-jobs", json=klaviyo_import(10_000))
    assert ok.status_code == 202
    assert ok.json()["data"]["attributes"]["total_count"] == 10_000
    too_many = klaviyo.post("/api/profile-bulk-import-jobs", json=klaviyo_import(10_001))
    assert too_many.status_code == 400
    error = too_many.json()["errors"][0]
    assert error["code"] == "invalid"
    assert error["source"]["pointer"] == "/data/attributes/profiles/data"


def test_klaviyo_list_add_1000_and_unsubscribe_100(clients: dict[str, httpx.Client]) -> None:
    klaviyo = clients["klaviyo"]
    job = klaviyo.post("/api/profile-bulk-import-jobs", json=klaviyo_import(1_001)).json()
    for _ in range(2):
        klaviyo.get(f"/api/profile-bulk-import-jobs/{job['data']['id']}")
    ids: list[str] = []
    url = f"/api/profile-bulk-import-jobs/{job['data']['id']}/relationships/profiles"
    params: dict[str, str] | None = {"page[size]": "100"}
    next_url: str | None = url
    while next_url:
        page = klaviyo.get(next_url, params=params).json()
        ids += [item["id"] for item in page["data"]]
        next_url, params = page["links"]["next"], None
    assert len(ids) == 1_001
    list_id = klaviyo.post("/api/lists", json={"data": {"type": "list", "attributes": {
        "name": "vip"}}}).json()["data"]["id"]
    refs = [{"type": "profile", "id": i} for i in ids]
    assert klaviyo.post(f"/api/lists/{list_id}/relationships/profiles",
                        json={"data": refs[:1000]}).status_code == 204
    over = klaviyo.post(f"/api/lists/{list_id}/relationships/profiles", json={"data": refs})
    assert over.status_code == 400
    assert over.json()["errors"][0]["code"] == "invalid"

    def unsubscribe(n: int) -> httpx.Response:
        return klaviyo.post("/api/profile-subscription-bulk-delete-jobs", json={"data": {
            "type": "profile-subscription-bulk-delete-job", "attributes": {"profiles": {
                "data": [{"type": "profile", "attributes": {
                    "email": f"p{i}@example.com", "subscriptions": {
                        "email": {"marketing": {"consent": "UNSUBSCRIBED"}}}}}
                    for i in range(n)]}}}})
    assert unsubscribe(100).status_code == 202
    assert unsubscribe(101).status_code == 400


def test_klaviyo_5_mb_payload_is_413(clients: dict[str, httpx.Client]) -> None:
    body = klaviyo_import(1)
    body["data"]["attributes"]["profiles"]["data"][0]["attributes"]["properties"] = {
        "blob": "x" * (5 * 1024 * 1024)}
    answer = clients["klaviyo"].post("/api/profile-bulk-import-jobs", json=body)
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["code"] == "request_too_large"


def test_mailchimp_500_members_per_batch(clients: dict[str, httpx.Client]) -> None:
    mailchimp = clients["mailchimp"]

    def batch(n: int) -> httpx.Response:
        return mailchimp.post("/lists/shop1", json={"update_existing": True, "members": [
            {"email_address": f"p{i}@example.com", "status_if_new": "subscribed"}
            for i in range(n)]})
    ok = batch(500)
    assert ok.status_code == 200
    assert ok.json()["total_created"] == 500
    over = batch(501)
    assert over.status_code == 400
    assert over.headers["content-type"].startswith("application/problem+json")
    assert over.json()["title"] == "Invalid Resource"
    assert over.json()["errors"][0]["field"] == "members"


def test_sendgrid_30000_contacts(clients: dict[str, httpx.Client]) -> None:
    sendgrid = clients["sendgrid"]

    def upsert(n: int) -> httpx.Response:
        return sendgrid.put("/v3/marketing/contacts", json={"list_ids": [LIST_UUID], "contacts": [
            {"email": f"p{i}@example.com"} for i in range(n)]})
    ok = upsert(30_000)
    assert ok.status_code == 202
    assert "job_id" in ok.json()
    over = upsert(30_001)
    assert over.status_code == 400
    assert over.json()["errors"][0]["field"] == "contacts"


def test_sendgrid_6_mb_is_refused(clients: dict[str, httpx.Client]) -> None:
    contacts = [{"email": f"p{i}@example.com", "first_name": "x" * 40,
                 "address_line_1": "y" * 100, "city": "z" * 60} for i in range(29_000)]
    body = json.dumps({"contacts": contacts})
    assert len(body) > 6 * 1024 * 1024
    answer = clients["sendgrid"].put("/v3/marketing/contacts", content=body,
                                     headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert answer.json()["errors"][0]["message"].endswith("exceeds the 6 MB limit")


def cio_entry(i: int, pad: int = 0) -> dict[str, Any]:
    return {"type": "person", "identifiers": {"id": f"u_{i}"}, "action": "identify",
            "attributes": {"email": f"p{i}@example.com", "note": "n" * pad}}


def cio_event(i: int) -> tuple[dict[str, Any], dict[str, str]]:
    """A Customer.io v2 event entry and the dict its padding goes into."""
    entry = {"type": "person", "identifiers": {"id": f"u_{i}"}, "action": "event",
             "name": "viewed", "attributes": {"note": ""}}
    return entry, entry["attributes"]


def exact_batch(size: int, message=cio_event) -> str:
    """A ``{"batch": [...]}`` body of exactly ``size`` bytes (Customer.io's v2 batch, or
    Segment's with ``message=segment_identify``), no entry above 32 KB."""
    made = [message(i) for i in range(20)]
    entries = [entry for entry, _ in made]
    remaining = size - len(json.dumps({"batch": entries}))
    for _, pad_into in made:
        pad = min(remaining, 30_000)
        pad_into["note"] = "n" * pad
        remaining -= pad
    body = json.dumps({"batch": entries})
    assert len(body) == size
    return body


def test_customerio_batch_500_kb(clients: dict[str, httpx.Client]) -> None:
    cio = clients["customerio"]
    headers = {"content-type": "application/json"}
    ok = cio.post("/api/v2/batch", content=exact_batch(500 * 1024), headers=headers)
    assert ok.status_code == 200, ok.text
    over = cio.post("/api/v2/batch", content=exact_batch(500 * 1024 + 1), headers=headers)
    assert over.status_code == 400
    assert over.json()["errors"][0]["reason"] == "too_large"


def test_customerio_entry_32_kb(clients: dict[str, httpx.Client]) -> None:
    big = {"type": "person", "identifiers": {"id": "u_big"}, "action": "event",
           "name": "viewed", "attributes": {f"k{i}": "v" * 990 for i in range(33)}}
    assert len(json.dumps(big)) > 32 * 1024
    answer = clients["customerio"].post("/api/v2/batch", json={"batch": [cio_entry(1), big]})
    assert answer.status_code == 207
    assert answer.json()["errors"] == [{"batch_index": 1, "reason": "too_large", "field": "",
                                        "message": "an entry is at most 32 KB"}]


def infobip_people(n: int) -> dict[str, Any]:
    return {"people": [{"externalId": f"u_{i}", "contactInformation": {
        "phone": [{"number": f"4915{i:09d}"}]}} for i in range(n)]}


def test_infobip_1000_people_per_batch_and_per_tag_batch(
        clients: dict[str, httpx.Client]) -> None:
    infobip = clients["infobip"]
    ok = infobip.post("/people/2/persons/batch", json=infobip_people(1_000))
    assert ok.status_code == 200 and ok.json()["successCount"] == 1_000
    over = infobip.post("/people/2/persons/batch", json=infobip_people(1_001))
    assert over.status_code == 400
    assert over.json()["requestError"]["serviceException"]["messageId"] == "BAD_REQUEST"
    queries = [{"query": {"type": "EXTERNAL_ID", "identifier": f"u_{i}"}} for i in range(1_001)]
    assert infobip.patch("/people/2/tags/vip/persons",
                         json={"people": queries[:1_000]}).status_code == 200
    assert infobip.patch("/people/2/tags/vip/persons",
                         json={"people": queries}).status_code == 400


def segment_identify(i: int) -> tuple[dict[str, Any], dict[str, str]]:
    """A Segment identify message and the dict its padding goes into (its traits)."""
    message = {"type": "identify", "userId": f"u_{i}", "traits": {"note": ""}}
    return message, message["traits"]


def test_twilio_segment_batch_500_kb_and_message_32_kb(clients: dict[str, httpx.Client]) -> None:
    twilio = clients["twilio"]
    headers = {"content-type": "application/json"}
    ok = twilio.post("/v1/batch", content=exact_batch(500 * 1024, segment_identify),
                     headers=headers)
    assert ok.status_code == 200 and ok.json() == {"success": True}
    over = twilio.post("/v1/batch", content=exact_batch(500 * 1024 + 1, segment_identify),
                       headers=headers)
    assert over.status_code == 400 and over.json()["success"] is False
    big = {"type": "track", "userId": "u_big", "event": "viewed",
           "properties": {"blob": "b" * (32 * 1024)}}
    whole = twilio.post("/v1/batch", json={"batch": [
        {"type": "identify", "userId": "u_1", "traits": {}}, big]})
    assert whole.status_code == 400  # one message over 32 KB refuses the whole request
    assert "index 1" in whole.json()["message"]
