"""Read endpoints: profile lookups, list lookups by name, paging, the state and
the request log the connectors and tests rely on."""

from __future__ import annotations

import httpx
from sandbox_helpers import klaviyo_job, poll

from activations.sandbox.server import SandboxServer


def test_klaviyo_profile_filters(clients: dict[str, httpx.Client]) -> None:
    klaviyo = clients["klaviyo"]
    job = klaviyo_job(klaviyo, [f"p{i}@example.com" for i in range(5)])
    poll(klaviyo, job), poll(klaviyo, job)
    found = klaviyo.get("/api/profiles", params={
        "filter": 'any(email,["P1@example.com","p3@example.com","nobody@example.com"])',
        "page[size]": "100"}).json()["data"]
    assert sorted(p["attributes"]["email"] for p in found) == ["p1@example.com",
                                                                "p3@example.com"]
    one = klaviyo.get("/api/profiles", params={"filter": f'equals(id,"{found[0]["id"]}")'})
    assert [p["id"] for p in one.json()["data"]] == [found[0]["id"]]
    bad = klaviyo.get("/api/profiles", params={"filter": 'greater-than(created,"2026")'})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"] == {"parameter": "filter"}
    paged = klaviyo.get("/api/profiles", params={"page[size]": "2"}).json()
    assert len(paged["data"]) == 2 and "page%5Bcursor%5D=2" in paged["links"]["next"]


def test_lists_by_name(clients: dict[str, httpx.Client]) -> None:
    klaviyo, sendgrid, mailchimp = clients["klaviyo"], clients["sendgrid"], clients["mailchimp"]
    made = klaviyo.post("/api/lists", json={"data": {"type": "list", "attributes": {
        "name": "cart_abandoners"}}}).json()["data"]["id"]
    listed = klaviyo.get("/api/lists", params={"filter": 'equals(name,"cart_abandoners")'})
    assert [row["id"] for row in listed.json()["data"]] == [made]
    sg = sendgrid.post("/v3/marketing/lists", json={"name": "lapsed"})
    assert sg.status_code == 201
    assert sendgrid.post("/v3/marketing/lists", json={"name": "lapsed"}).status_code == 400
    assert [r["name"] for r in sendgrid.get("/v3/marketing/lists").json()["result"]] == ["lapsed"]
    mc = mailchimp.post("/lists", json={"name": "Shop"}).json()
    assert [(r["id"], r["name"]) for r in mailchimp.get("/lists").json()["lists"]] == [
        (mc["id"], "Shop")]
    assert mailchimp.get("/lists/nope").status_code == 404


def test_mailchimp_members_paging_and_status(sandbox: SandboxServer,
                                             clients: dict[str, httpx.Client]) -> None:
    mailchimp = clients["mailchimp"]
    mailchimp.post("/lists/shop1", json={"members": [
        {"email_address": f"p{i}@example.com", "status_if_new": "subscribed"}
        for i in range(7)]})
    sandbox.person("mailchimp", "unsubscribe", "p4@example.com", "shop1")
    page = mailchimp.get("/lists/shop1/members", params={"count": 3, "offset": 3}).json()
    assert page["total_items"] == 7
    assert [m["email_address"] for m in page["members"]] == [
        "p3@example.com", "p4@example.com", "p5@example.com"]
    unsubscribed = mailchimp.get("/lists/shop1/members", params={"status": "unsubscribed"})
    assert [m["email_address"] for m in unsubscribed.json()["members"]] == ["p4@example.com"]
    stats = mailchimp.get("/lists/shop1").json()["stats"]
    assert (stats["member_count"], stats["unsubscribe_count"]) == (6, 1)


def test_state_and_request_log(sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    clients["braze"].post("/users/track", json={"attributes": [
        {"external_id": f"u_{i}", "email": f"p{i}@example.com",
         "audiences": {"add": ["vip"]}} for i in range(3)]})
    clients["braze"].post("/users/track", json={"attributes": [
        {"external_id": "u_0", "audiences": {"remove": ["vip"]}}]})
    state = sandbox.state("braze", members=1)["providers"]
    assert list(state) == ["braze"]
    vip = state["braze"]["lists"][0]
    assert (vip["name"], vip["member_count"], len(vip["members"])) == ("vip", 2, 1)
    assert vip["members"][0]["attributes"]["external_id"] == "u_1"
    log = sandbox.requests("braze")
    assert [(r["method"], r["path"], r["status"], r["records"]) for r in log] == [
        ("POST", "/braze/users/track", 201, 3), ("POST", "/braze/users/track", 201, 1)]
    assert all(r["body_bytes"] > 0 for r in log)
    assert sandbox.requests("klaviyo") == []
