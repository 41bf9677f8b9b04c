"""Per-record partial failures in each provider's own shape; good records still land."""

from __future__ import annotations

import httpx

from activations.sandbox.server import SandboxServer


def test_braze_non_fatal_errors(sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    answer = clients["braze"].post("/users/track", json={
        "attributes": [{"external_id": "u_1", "email": "ann@example.com", "tier": "gold"},
                       {"first_name": "nobody"},
                       {"external_id": "u_3", "email": "not an email"}],
        "events": [{"external_id": "u_1", "name": "viewed", "time": "2026-05-01T12:00:00Z"},
                   {"external_id": "u_1", "time": "2026-05-01T12:00:00Z"}]})
    assert answer.status_code == 201
    body = answer.json()
    assert body["message"] == "success"
    assert (body["attributes_processed"], body["events_processed"]) == (1, 1)
    assert body["errors"] == [
        {"type": "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required",
         "input_array": "attributes", "index": 1},
        {"type": "Invalid email address", "input_array": "attributes", "index": 2},
        {"type": "'name' is required and must be valid", "input_array": "events", "index": 1},
    ]
    users = clients["braze"].post("/users/export/ids",
                                  json={"external_ids": ["u_1", "u_3"]}).json()
    assert [u["external_id"] for u in users["users"]] == ["u_1"]
    assert users["invalid_user_ids"] == ["u_3"]


def test_braze_events_are_never_deduplicated(sandbox: SandboxServer,
                                             clients: dict[str, httpx.Client]) -> None:
    event = {"external_id": "u_1", "name": "viewed", "time": "2026-05-01T12:00:00Z"}
    for _ in range(2):
        clients["braze"].post("/users/track", json={"events": [event]})
    assert sandbox.state("braze")["providers"]["braze"]["events"] == 2


def test_mailchimp_batch_errors(clients: dict[str, httpx.Client]) -> None:
    mailchimp = clients["mailchimp"]
    mailchimp.post("/lists/shop1", json={"members": [
        {"email_address": "old@example.com", "status": "subscribed"}]})
    answer = mailchimp.post("/lists/shop1", json={"update_existing": False, "members": [
        {"email_address": "new@example.com", "status_if_new": "subscribed",
         "merge_fields": {"FNAME": "New"}},
        {"email_address": "x@bad", "status_if_new": "subscribed"},
        {"email_address": "old@example.com", "status_if_new": "subscribed"},
        {"email_address": "tag@example.com", "status_if_new": "subscribed",
         "merge_fields": {"LTV": 10}}]})
    body = answer.json()
    assert (body["total_created"], body["total_updated"], body["error_count"]) == (1, 0, 3)
    assert [(e["email_address"], e["error_code"], e["field"]) for e in body["errors"]] == [
        ("x@bad", "ERROR_GENERIC", "email_address"),
        ("old@example.com", "ERROR_CONTACT_EXISTS", ""),
        ("tag@example.com", "ERROR_GENERIC", "merge_fields.LTV"),
    ]
    # once the merge field exists, the same member goes through
    created = mailchimp.post("/lists/shop1/merge-fields",
                             json={"tag": "LTV", "name": "Lifetime value", "type": "number"})
    assert created.json()["tag"] == "LTV"
    retry = mailchimp.post("/lists/shop1", json={"members": [
        {"email_address": "tag@example.com", "status_if_new": "subscribed",
         "merge_fields": {"LTV": 10}}]}).json()
    assert retry["total_created"] == 1 and retry["errors"] == []


def test_customerio_207(clients: dict[str, httpx.Client]) -> None:
    answer = clients["customerio"].post("/api/v2/batch", json={"batch": [
        {"type": "person", "identifiers": {"id": "u_1"}, "action": "identify",
         "attributes": {"email": "ann@example.com"}},
        {"type": "person", "identifiers": {"id": "u_2", "email": "b@example.com"},
         "action": "identify", "attributes": {}},
        {"type": "person", "identifiers": {"id": "u_3"}, "action": "identify",
         "attributes": {"email": "broken"}},
        {"type": "person", "identifiers": {"id": "u_1"}, "action": "event",
         "id": "01HZX3Y7QK2A1B2C3D4E5F6G7H", "name": "viewed"}]})
    assert answer.status_code == 207
    errors = answer.json()["errors"]
    assert [(e["batch_index"], e["reason"], e["field"]) for e in errors] == [
        (1, "invalid", "identifiers"), (2, "invalid", "attributes.email")]
    whole = clients["customerio"].post("/api/v2/batch", json={"batch": []})
    assert whole.status_code == 400


def test_customerio_event_ids_deduplicate(sandbox: SandboxServer,
                                          clients: dict[str, httpx.Client]) -> None:
    event = {"type": "person", "identifiers": {"id": "u_1"}, "action": "event",
             "id": "01HZX3Y7QK2A1B2C3D4E5F6G7H", "name": "viewed"}
    for _ in range(2):
        assert clients["customerio"].post("/api/v2/batch",
                                          json={"batch": [event]}).status_code == 200
    assert sandbox.state("customerio")["providers"]["customerio"]["events"] == 1


def test_klaviyo_events_deduplicate_on_unique_id(sandbox: SandboxServer,
                                                 clients: dict[str, httpx.Client]) -> None:
    def event(unique: str) -> dict[str, object]:
        return {"data": {"type": "event", "attributes": {
            "properties": {"plan": "gold"}, "time": "2026-05-01T12:00:00Z", "unique_id": unique,
            "metric": {"data": {"type": "metric", "attributes": {"name": "Plan Upgraded"}}},
            "profile": {"data": {"type": "profile", "attributes": {"email": "a@example.com"}}}}}}
    for unique in ("evt_1", "evt_1", "evt_2"):
        answer = clients["klaviyo"].post("/api/events", json=event(unique))
        assert answer.status_code == 202, answer.text
    assert sandbox.state("klaviyo")["providers"]["klaviyo"]["events"] == 2


def test_sendgrid_identifier_rules_reported_by_the_job(clients: dict[str, httpx.Client]) -> None:
    sendgrid = clients["sendgrid"]
    first = sendgrid.put("/v3/marketing/contacts", json={"contacts": [
        {"email": "ann@example.com", "external_id": "u_1"}]}).json()["job_id"]
    sendgrid.get(f"/v3/marketing/contacts/imports/{first}")
    second = sendgrid.put("/v3/marketing/contacts", json={"contacts": [
        {"email": "ann@example.com"},  # existing external_id left out
        {"email": "ANN@example.com", "external_id": "u_1", "first_name": "Ann"},
        {"email": "new@example.com", "custom_fields": {"e99_T": "x"}}]}).json()["job_id"]
    status = sendgrid.get(f"/v3/marketing/contacts/imports/{second}").json()
    assert status["status"] == "errored"
    assert (status["results"]["updated_count"], status["results"]["errored_count"]) == (1, 2)
    errors = httpx.get(status["results"]["errors_url"]).text
    assert "external_id is missing" in errors and "e99_T" in errors


def test_a_body_of_the_wrong_shape_is_a_400_not_a_500(clients: dict[str, httpx.Client]) -> None:
    mailchimp = clients["mailchimp"]
    mailchimp.post("/lists/shop1", json={"members": [
        {"email_address": "ann@example.com", "status": "subscribed"}]})
    from activations.sandbox.common import md5_email

    answer = mailchimp.post(f"/lists/shop1/members/{md5_email('ann@example.com')}/tags",
                            json={"tags": ["vip"]})  # strings, not {name, status} objects
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "could not be read" in answer.json()["detail"]
    braze = clients["braze"].post("/v2/subscription/status/set",
                                  json={"subscription_groups": ["sg_1"]})
    assert braze.status_code == 400 and "could not be read" in braze.json()["message"]


def test_infobip_lists_refused_people_by_index(sandbox: SandboxServer,
                                                clients: dict[str, httpx.Client]) -> None:
    def person(key: str, number: str, **extra: object) -> dict[str, object]:
        return {"externalId": key, "contactInformation": {"phone": [{"number": number}]},
                **extra}
    answer = clients["infobip"].post("/people/2/persons/batch", json={"people": [
        person("u_1", "4915112345678", tags=["vip"]),
        person("u_2", "015112345678"),  # a national number, not E.164
        person("u_3", "4915112345678"),  # u_1's phone
        person("u_4", "4915112345679", customAttributes={"cart": [{"sku": "a"}]}),
        {"contactInformation": {}}]})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["successCount"], body["errorCount"]) == (1, 4)
    texts = {e["index"]: e["requestError"]["serviceException"]["text"] for e in body["errors"]}
    assert set(texts) == {1, 2, 3, 4}
    assert "Invalid phone number" in texts[1] and "another person" in texts[2]
    assert "Custom attribute" in texts[3] and "externalId" in texts[4]
    state = sandbox.state("infobip")["providers"]["infobip"]
    assert state["contacts"] == 1 and state["lists"][0]["members"][0]["phone"] == (
        "+4915112345678")
    untag = clients["infobip"].request("DELETE", "/people/2/tags/vip/persons", json={
        "people": [{"query": {"type": "PHONE", "identifier": "4915112345678"}},
                   {"query": {"type": "EXTERNAL_ID", "identifier": "nobody"}}]})
    assert [e["index"] for e in untag.json()["errors"]] == [1]
    assert sandbox.state("infobip")["providers"]["infobip"]["lists"][0]["member_count"] == 0


def test_infobip_event_needs_an_existing_person(clients: dict[str, httpx.Client]) -> None:
    infobip = clients["infobip"]
    path = "/peopleevents/2/persons/u_1/definitions/cart_abandoned/events"
    missing = infobip.post(path, params={"identifierType": "EXTERNAL_ID"}, json={})
    assert missing.status_code == 404
    infobip.post("/people/2/persons/batch", json={"people": [
        {"externalId": "u_1", "contactInformation": {"phone": [{"number": "4915112345678"}]}}]})
    assert infobip.post(path, json={}).status_code == 400  # identifierType is required
    sent = infobip.post(path, params={"identifierType": "EXTERNAL_ID"},
                        json={"properties": {"value": 3}})
    assert sent.status_code == 201 and sent.json()["eventId"]


def test_segment_answers_200_and_drops_what_it_cannot_take(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    answer = clients["twilio"].post("/v1/batch", json={"batch": [
        {"type": "identify", "userId": "u_1", "traits": {"phone": "+4915112345678"}},
        {"type": "identify", "traits": {"phone": "+4915112345679"}},  # no identifier
        {"type": "track", "userId": "u_1"},  # no event name
        {"type": "identify", "userId": "u_2", "traits": {"phone": "0151 123"}},
        {"type": "track", "userId": "u_1", "event": "viewed", "messageId": "m-1"},
        {"type": "track", "userId": "u_1", "event": "viewed", "messageId": "m-1"}]})
    assert answer.status_code == 200 and answer.json() == {"success": True}
    state = sandbox.state("twilio")["providers"]["twilio"]
    assert (state["contacts"], state["events"]) == (2, 1)  # m-1 once: messageId dedupe
    debugger = [(d["kind"], d["reason"].split(":")[0]) for d in state["debugger"]]
    assert debugger == [("dropped", "Identifier is not present"),
                        ("dropped", "Track event is missing name"),
                        ("warning", "phone '0151 123' is not E.164")]
