"""The marketer page: lists with member counts and members with attributes,
checked as HTML and as a person would see it in headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from activations.sandbox.server import SandboxServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def populate(sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    klaviyo = clients["klaviyo"]
    list_id = klaviyo.post("/api/lists", json={"data": {"type": "list", "attributes": {
        "name": "cart_abandoners"}}}).json()["data"]["id"]
    job = klaviyo.post("/api/profile-bulk-import-jobs", json={"data": {
        "type": "profile-bulk-import-job", "attributes": {"profiles": {"data": [
            {"type": "profile", "attributes": {"email": f"cart{i}@example.com",
                                               "first_name": f"Cara{i}",
                                               "properties": {"cart_value": 40 + i}}}
            for i in range(3)]}},
        "relationships": {"lists": {"data": [{"type": "list", "id": list_id}]}}}}).json()
    for _ in range(2):
        klaviyo.get(f"/api/profile-bulk-import-jobs/{job['data']['id']}")
    sandbox.person("klaviyo", "unsubscribe", "cart2@example.com")
    clients["mailchimp"].post("/lists/shop1", json={"members": [
        {"email_address": f"lapsed{i}@example.com", "status_if_new": "subscribed",
         "merge_fields": {"FNAME": f"Lee{i}"}, "tags": ["lapsed_customers"]}
        for i in range(5)]})
    clients["braze"].post("/users/track", json={"attributes": [
        {"external_id": f"u_{i}", "email": f"vip{i}@example.com", "tier": "gold",
         "audiences": {"add": ["vip_customers"]}} for i in range(2)]})
    clients["customerio"].post("/api/v2/batch", json={"batch": [
        {"type": "person", "identifiers": {"id": f"c_{i}"}, "action": "identify",
         "attributes": {"email": f"win{i}@example.com", "plan": "basic"}} for i in range(4)]})
    clients["customerio"].post("/api/v1/segments/42/add_customers",
                               json={"ids": [f"c_{i}" for i in range(4)]})
    sendgrid = clients["sendgrid"]
    sg_list = sendgrid.post("/v3/marketing/lists", json={"name": "<b>new</b> & buyers"}).json()
    job_id = sendgrid.put("/v3/marketing/contacts", json={"list_ids": [sg_list["id"]], "contacts": [
        {"email": "new@example.com", "first_name": "Nia"}]}).json()["job_id"]
    sendgrid.get(f"/v3/marketing/contacts/imports/{job_id}")


EXPECTED = [("cart_abandoners", 3), ("shop1", 5), ("shop1 › lapsed_customers", 5),
            ("vip_customers", 2), ("segment 42", 4), ("<b>new</b> & buyers", 1)]


def test_page_lists_members_and_counts(sandbox: SandboxServer,
                                       clients: dict[str, httpx.Client]) -> None:
    populate(sandbox, clients)
    page = httpx.get(sandbox.base_url + "/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    found = re.findall(r'data-list="([^"]*)" data-count="(\d+)"', html)
    unescaped = [(name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">"),
                  int(count)) for name, count in found]
    assert sorted(unescaped) == sorted(EXPECTED)
    assert "<b>new</b>" not in html  # list names are escaped, never markup
    assert "Cara1" in html and "cart_value" in html and "Lee4" in html
    assert "UNSUBSCRIBE" in html  # the unsubscribed member shows as such
    assert "http://" not in html.split("<main>")[0] and "<link" not in html  # no network


def test_page_limits_members_shown(sandbox: SandboxServer,
                                   clients: dict[str, httpx.Client]) -> None:
    populate(sandbox, clients)
    html = httpx.get(sandbox.base_url + "/", params={"members": 2}).text
    assert "3 members" in html and "1 more not shown" in html


@pytest.mark.browser
def test_page_as_a_person_sees_it(sandbox: SandboxServer, clients: dict[str, httpx.Client],
                                  tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("headless Chromium not installed at /usr/bin/chromium "
                    "(apt-get install -y chromium)")
    populate(sandbox, clients)
    shot = tmp_path / "page.png"
    profile = tmp_path / "profile"
    common = [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
    env = {**os.environ, "HOME": str(tmp_path)}
    subprocess.run([*common, f"--screenshot={shot}", "--window-size=1280,900",
                    sandbox.base_url + "/"], check=True, capture_output=True, timeout=90,
                   env=env)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000  # a real rendering, not a blank page
    keep = os.environ.get("SANDBOX_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)
    dom = subprocess.run([*common, "--dump-dom", sandbox.base_url + "/"], check=True,
                         capture_output=True, text=True, timeout=90, env=env).stdout
    for name, count in EXPECTED:
        escaped = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert f'data-list="{escaped}" data-count="{count}"' in dom
        assert f"{count} member{'' if count == 1 else 's'}" in dom


def test_page_shows_sms_people_by_phone_with_their_tags_audiences_and_events(
        sandbox: SandboxServer, clients: dict[str, httpx.Client]) -> None:
    clients["infobip"].post("/people/2/persons/batch", json={"people": [
        {"externalId": f"p_{i}", "customAttributes": {"tier": "gold"}, "tags": ["vip_sms"],
         "contactInformation": {"phone": [{"number": f"49151000000{i}"}]}} for i in range(2)]})
    clients["infobip"].post("/peopleevents/2/persons/p_0/definitions/cart_abandoned/events",
                            params={"identifierType": "EXTERNAL_ID"},
                            json={"properties": {"value": 9}})
    clients["twilio"].post("/v1/batch", json={"batch": [
        {"type": "identify", "userId": "t_1", "traits": {"phone": "+14155550100",
                                                         "winback_sms": True}},
        {"type": "track", "userId": "t_1", "event": "Winback Started"},
        {"type": "track", "event": "nobody"}]})
    html = httpx.get(sandbox.base_url + "/").text
    found = dict(re.findall(r'data-provider="(?:infobip|twilio)" data-list="([^"]*)" '
                            r'data-count="(\d+)"', html))
    assert found == {"vip_sms": "2", "winback_sms": "1"}
    assert "+491510000001" in html and "+14155550100" in html  # shown by phone
    assert "decided in the warehouse" in html  # no consent lives in an SMS provider
    assert "cart_abandoned" in html and "Winback Started" in html  # events received
    assert "Identifier is not present" in html  # Segment's answer was 200: the debugger says
