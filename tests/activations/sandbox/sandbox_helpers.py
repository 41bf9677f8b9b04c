"""Shared pieces of the sandbox tests: each provider's valid auth headers and probes."""

from __future__ import annotations

import base64
from typing import Any

import httpx

KLAVIYO_HEADERS = {"Authorization": "Klaviyo-API-Key pk_sandbox_klaviyo",
                   "revision": "2026-07-15", "Content-Type": "application/vnd.api+json",
                   "Accept": "application/vnd.api+json"}


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


AUTH = {
    "braze": {"Authorization": "Bearer sandbox-braze-key"},
    "klaviyo": KLAVIYO_HEADERS,
    "mailchimp": {"Authorization": basic("anyuser", "sandbox-mailchimp-key-us6")},
    "sendgrid": {"Authorization": "Bearer SG.sandbox-sendgrid-key"},
    "customerio": {"Authorization": basic("sandbox-site", "sandbox-cio-key")},
    "infobip": {"Authorization": "App sandbox-infobip-key"},
    "twilio": {"Authorization": basic("sandbox-twilio-write-key", "")},  # key as user name
}


# a cheap authenticated read per provider
PROBES = {
    "braze": ("GET", "/email/unsubscribes"),
    "klaviyo": ("GET", "/api/lists"),
    "mailchimp": ("GET", "/lists"),
    "sendgrid": ("GET", "/v3/marketing/lists"),
    "customerio": ("GET", "/api/v1/customers"),
    "infobip": ("GET", "/people/2/tags"),
    "twilio": ("GET", "/v1/profiles"),  # sandbox-only: the Tracking API has no reads
}


def klaviyo_job(klaviyo: httpx.Client, emails: list[str], list_id: str | None = None) -> str:
    body: dict[str, Any] = {"data": {"type": "profile-bulk-import-job", "attributes": {
        "profiles": {"data": [{"type": "profile", "attributes": {"email": e, "first_name": "A"}}
                              for e in emails]}}}}
    if list_id:
        body["data"]["relationships"] = {"lists": {"data": [{"type": "list", "id": list_id}]}}
    answer = klaviyo.post("/api/profile-bulk-import-jobs", json=body)
    assert answer.status_code == 202, answer.text
    assert answer.json()["data"]["attributes"]["status"] == "queued"
    return str(answer.json()["data"]["id"])


def poll(klaviyo: httpx.Client, job_id: str) -> dict[str, Any]:
    answer = klaviyo.get(f"/api/profile-bulk-import-jobs/{job_id}")
    assert answer.status_code == 200
    return dict(answer.json()["data"]["attributes"])
