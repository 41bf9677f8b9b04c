"""Consent as each provider really behaves (contract section 8.6), dangers included."""

from __future__ import annotations

from typing import Any

import httpx
from sandbox_helpers import klaviyo_job, poll

from activations.sandbox.common import md5_email
from activations.sandbox.server import SandboxServer


def klaviyo_marketing(klaviyo: httpx.Client, email: str) -> dict[str, Any]:
    found = klaviyo.get("/api/profiles", params={
        "filter": f'equals(email,"{email}")', "additional-fields[profile]": "subscriptions"})
    assert found.status_code == 200, found.text
    data = found.json()["data"]
    assert len(data) == 1
    return dict(data[0]["attributes"]["subscriptions"]["email"]["marketing"])


def subscribe_job(email: str, list_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"data": {"type": "profile-subscription-bulk-create-job",
                                     "attributes": {"custom_source": "warehouse-sync",
                                                    "profiles": {"data": [{
        "type": "profile", "attributes": {"email": email, "subscriptions": {"email": {
            "marketing": {"consent": "SUBSCRIBED"}}}}}]}}}}
    if list_id:
        body["data"]["relationships"] = {"list": {"data": {"type": "list", "id": list_id}}}
    return body


def test_klaviyo_unsubscribe_survives_imports_and_list_adds(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    klaviyo = clients["klaviyo"]
    job = klaviyo_job(klaviyo, ["ann@example.com"], "L1st01")
    poll(klaviyo, job), poll(klaviyo, job)
    sandbox.person("klaviyo", "unsubscribe", "ann@example.com")
    marketing = klaviyo_marketing(klaviyo, "ann@example.com")
    assert marketing["consent"] == "UNSUBSCRIBED"
    assert [s["reason"] for s in marketing["suppression"]] == ["UNSUBSCRIBE"]
    assert marketing["can_receive_email_marketing"] is False
    # a later import and a list add never change consent
    job = klaviyo_job(klaviyo, ["ann@example.com"], "L1st02")
    poll(klaviyo, job), poll(klaviyo, job)
    profile_id = klaviyo.get("/api/profiles", params={
        "filter": 'equals(email,"ann@example.com")'}).json()["data"][0]["id"]
    added = klaviyo.post("/api/lists/L1st03/relationships/profiles",
                         json={"data": [{"type": "profile", "id": profile_id}]})
    assert added.status_code == 204
    assert klaviyo_marketing(klaviyo, "ann@example.com")["consent"] == "UNSUBSCRIBED"


def test_klaviyo_subscribe_job_clears_suppressions_the_documented_danger(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    klaviyo = clients["klaviyo"]
    sandbox.person("klaviyo", "unsubscribe", "ann@example.com")
    sandbox.person("klaviyo", "spam", "bob@example.com")
    sandbox.person("klaviyo", "bounce", "bob@example.com")
    for email in ("ann@example.com", "bob@example.com"):
        assert klaviyo.post("/api/profile-subscription-bulk-create-jobs",
                            json=subscribe_job(email, "L1st01")).status_code == 202
    ann = klaviyo_marketing(klaviyo, "ann@example.com")
    assert (ann["consent"], ann["suppression"], ann["can_receive_email_marketing"]) == (
        "SUBSCRIBED", [], True)  # re-subscribed: exactly why a sync must never call this
    bob = klaviyo_marketing(klaviyo, "bob@example.com")
    assert bob["consent"] == "SUBSCRIBED"
    assert [s["reason"] for s in bob["suppression"]] == ["HARD_BOUNCE"]  # bounces stay


def test_klaviyo_unsubscribe_job_outside_the_list_is_global(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    klaviyo = clients["klaviyo"]
    for email, list_id in (("in@example.com", "L1st01"), ("out@example.com", "L1st02")):
        klaviyo.post("/api/profile-subscription-bulk-create-jobs",
                     json=subscribe_job(email, list_id))
    body = {"data": {"type": "profile-subscription-bulk-delete-job", "attributes": {
        "profiles": {"data": [{"type": "profile", "attributes": {
            "email": e, "subscriptions": {"email": {"marketing": {"consent": "UNSUBSCRIBED"}}}}}
            for e in ("in@example.com", "out@example.com")]}},
        "relationships": {"list": {"data": {"type": "list", "id": "L1st01"}}}}}
    assert klaviyo.post("/api/profile-subscription-bulk-delete-jobs", json=body).status_code == 202
    inside = klaviyo_marketing(klaviyo, "in@example.com")
    assert inside["consent"] == "SUBSCRIBED"  # only left the list
    assert [s["list_id"] for s in inside["list_suppressions"]] == ["L1st01"]
    assert klaviyo.get("/api/lists/L1st01/profiles").json()["data"] == []
    outside = klaviyo_marketing(klaviyo, "out@example.com")
    assert outside["consent"] == "UNSUBSCRIBED"  # "globally unsubscribed"


def mailchimp_batch(mailchimp: httpx.Client, member: dict[str, Any]) -> dict[str, Any]:
    answer = mailchimp.post("/lists/shop1", json={"members": [member], "update_existing": True})
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_mailchimp_member_in_compliance_state(sandbox: SandboxServer,
                                              clients: dict[str, httpx.Client]) -> None:
    mailchimp = clients["mailchimp"]
    email, member_hash = "ann@example.com", md5_email("ann@example.com")
    created = mailchimp_batch(mailchimp, {"email_address": email, "status_if_new": "subscribed"})
    assert created["total_created"] == 1
    sandbox.person("mailchimp", "unsubscribe", email, "shop1")
    # status "subscribed" through the batch: refused, member untouched
    refused = mailchimp_batch(mailchimp, {"email_address": email, "status": "subscribed"})
    assert refused["error_count"] == 1
    error = refused["errors"][0]
    assert (error["field_message"], error["error_code"]) == ("Member In Compliance State",
                                                             "ERROR_GENERIC")
    assert "compliance state" in error["error"]
    # status_if_new only touches new members: the sync's way
    kept = mailchimp_batch(mailchimp, {"email_address": email, "status_if_new": "subscribed",
                                       "merge_fields": {"FNAME": "Ann"}})
    assert kept["total_updated"] == 1
    assert kept["updated_members"][0]["status"] == "unsubscribed"
    # the per-member PUT refuses too
    put = mailchimp.put(f"/lists/shop1/members/{member_hash}", json={
        "email_address": email, "status_if_new": "subscribed", "status": "subscribed"})
    assert put.status_code == 400
    assert put.json()["title"] == "Member In Compliance State"
    member = mailchimp.get(f"/lists/shop1/members/{member_hash}").json()
    assert (member["status"], member["merge_fields"]["FNAME"]) == ("unsubscribed", "Ann")
    # a real re-opt-in goes through pending (a confirmation email)
    pending = mailchimp_batch(mailchimp, {"email_address": email, "status": "pending"})
    assert pending["updated_members"][0]["status"] == "pending"


def test_mailchimp_cleaned_member_cannot_be_resubscribed(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    mailchimp = clients["mailchimp"]
    mailchimp_batch(mailchimp, {"email_address": "bob@example.com", "status": "subscribed"})
    sandbox.person("mailchimp", "bounce", "bob@example.com")
    for status in ("subscribed", "pending"):
        refused = mailchimp_batch(mailchimp, {"email_address": "bob@example.com",
                                              "status": status})
        assert refused["errors"][0]["field_message"] == "Member In Compliance State"
    listed = mailchimp.get("/lists/shop1/members", params={"status": "cleaned"}).json()
    assert [m["email_address"] for m in listed["members"]] == ["bob@example.com"]


def test_sendgrid_suppressions_are_independent_of_contacts(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    sendgrid = clients["sendgrid"]

    def upsert() -> None:
        job = sendgrid.put("/v3/marketing/contacts", json={"contacts": [
            {"email": e} for e in ("ann@example.com", "bob@example.com", "cat@example.com")]})
        assert sendgrid.get(f"/v3/marketing/contacts/imports/{job.json()['job_id']}").json()[
            "status"] == "completed"
    upsert()
    sandbox.person("sendgrid", "unsubscribe", "ann@example.com")
    sandbox.person("sendgrid", "bounce", "bob@example.com")
    sandbox.person("sendgrid", "spam", "cat@example.com")
    upsert()  # re-upserting the contacts changes nothing
    assert [r["email"] for r in sendgrid.get("/v3/asm/suppressions/global").json()] == [
        "ann@example.com"]
    assert [r["email"] for r in sendgrid.get("/v3/suppression/unsubscribes").json()] == [
        "ann@example.com"]
    bounce = sendgrid.get("/v3/suppression/bounces").json()
    assert [(r["email"], r["status"]) for r in bounce] == [("bob@example.com", "5.1.1")]
    assert [r["email"] for r in sendgrid.get("/v3/suppression/spam_reports").json()] == [
        "cat@example.com"]
    found = sendgrid.post("/v3/marketing/contacts/search/identifiers/email",
                          json={"identifiers": ["ann@example.com"]}).json()
    assert found["result"]["ann@example.com"]["contact"]["email"] == "ann@example.com"


def test_braze_last_write_wins(sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    braze = clients["braze"]
    braze.post("/users/track", json={"attributes": [
        {"external_id": "u_1", "email": "ann@example.com", "email_subscribe": "opted_in"}]})
    sandbox.person("braze", "unsubscribe", "ann@example.com")
    unsubscribed = braze.get("/email/unsubscribes").json()
    assert [e["email"] for e in unsubscribed["emails"]] == ["ann@example.com"]
    # Braze does not protect the unsubscribe: a stale write re-subscribes
    braze.post("/users/track", json={"attributes": [
        {"external_id": "u_1", "email_subscribe": "subscribed"}]})
    exported = braze.post("/users/export/ids", json={"external_ids": ["u_1"]}).json()
    assert exported["users"][0]["email_subscribe"] == "subscribed"
    assert braze.get("/email/unsubscribes").json()["emails"] == []


def test_customerio_unsubscribed_is_an_attribute_the_esp_sets(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    cio = clients["customerio"]
    assert cio.put("/api/v1/customers/u_1", json={"email": "ann@example.com",
                                                  "plan": "gold"}).status_code == 200
    sandbox.person("customerio", "unsubscribe", "ann@example.com")
    pulled = cio.get("/api/v1/customers", params={"unsubscribed": "true"}).json()
    assert [(c["id"], c["email"], c["unsubscribed"]) for c in pulled["customers"]] == [
        ("u_1", "ann@example.com", True)]
    # a write without the attribute keeps it; an explicit false overwrites (last write wins)
    cio.put("/api/v1/customers/u_1", json={"plan": "silver"})
    assert cio.get("/api/v1/customers", params={"unsubscribed": "true"}).json()["customers"]
    cio.post("/api/v2/batch", json={"batch": [{"type": "person", "identifiers": {"id": "u_1"},
                                               "action": "identify",
                                               "attributes": {"unsubscribed": False}}]})
    assert cio.get("/api/v1/customers", params={"unsubscribed": "true"}).json()[
        "customers"] == []
