"""Each provider's own answer to a wrong or missing key, and Klaviyo's revision header."""

from __future__ import annotations

import httpx
import pytest
from sandbox_helpers import AUTH, KLAVIYO_HEADERS, PROBES, basic

from activations.sandbox.server import SandboxServer

WRONG = {
    "braze": {"Authorization": "Bearer wrong-key-123"},
    "klaviyo": {**KLAVIYO_HEADERS, "Authorization": "Klaviyo-API-Key wrong-key-123"},
    "mailchimp": {"Authorization": basic("anyuser", "wrong-key-123")},
    "sendgrid": {"Authorization": "Bearer wrong-key-123"},
    "customerio": {"Authorization": basic("sandbox-site", "wrong-key-123")},
    "infobip": {"Authorization": "App wrong-key-123"},
    "twilio": {"Authorization": basic("wrong-key-123", "")},
}


def expected_401(provider: str, answer: httpx.Response) -> None:
    body = answer.json()
    if provider == "braze":
        assert body == {"message": "Invalid API Key", "errors": []}
    elif provider == "klaviyo":
        error = body["errors"][0]
        assert (error["status"], error["code"]) == (401, "not_authenticated")
        assert error["detail"] == "Missing or invalid private key."
    elif provider == "mailchimp":
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert (body["status"], body["title"]) == (401, "API Key Invalid")
    elif provider == "sendgrid":
        assert body == {"errors": [{"field": None, "message": "authorization required"}]}
    elif provider == "infobip":
        assert body == {"requestError": {"serviceException": {
            "messageId": "UNAUTHORIZED", "text": "Invalid login details"}}}
    elif provider == "twilio":
        assert body == {"success": False, "message": "Invalid write key"}
    else:
        assert body == {"meta": {"error": "Unauthorized request"}}


@pytest.mark.parametrize("provider", sorted(PROBES))
def test_right_key_is_accepted(provider: str, sandbox: SandboxServer) -> None:
    method, path = PROBES[provider]
    answer = httpx.request(method, sandbox.url(provider) + path, headers=AUTH[provider])
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize("provider", sorted(PROBES))
def test_wrong_key_gets_the_providers_401(provider: str, sandbox: SandboxServer) -> None:
    method, path = PROBES[provider]
    answer = httpx.request(method, sandbox.url(provider) + path, headers=WRONG[provider])
    assert answer.status_code == 401
    expected_401(provider, answer)
    assert "wrong-key-123" not in answer.text


@pytest.mark.parametrize("provider", sorted(PROBES))
def test_missing_key_gets_the_providers_401(provider: str, sandbox: SandboxServer) -> None:
    method, path = PROBES[provider]
    headers = {"revision": "2026-07-15"} if provider == "klaviyo" else {}
    answer = httpx.request(method, sandbox.url(provider) + path, headers=headers)
    assert answer.status_code == 401
    expected_401(provider, answer)


def test_keys_never_reach_the_request_log(sandbox: SandboxServer) -> None:
    for provider, (method, path) in PROBES.items():
        httpx.request(method, sandbox.url(provider) + path, headers=AUTH[provider])
        httpx.request(method, sandbox.url(provider) + path, headers=WRONG[provider])
    log = sandbox.requests()
    assert {row["status"] for row in log} == {200, 401}
    text = repr(log) + repr(sandbox.state())
    for secret in ("sandbox-braze-key", "pk_sandbox_klaviyo", "sandbox-mailchimp-key-us6",
                   "SG.sandbox-sendgrid-key", "sandbox-cio-key", "sandbox-infobip-key",
                   "sandbox-twilio-write-key", "wrong-key-123"):
        assert secret not in text


def test_klaviyo_needs_a_revision_header(sandbox: SandboxServer) -> None:
    headers = {k: v for k, v in KLAVIYO_HEADERS.items() if k != "revision"}
    answer = httpx.get(sandbox.url("klaviyo") + "/api/lists", headers=headers)
    assert answer.status_code == 400
    error = answer.json()["errors"][0]
    assert (error["code"], error["source"]) == ("invalid", {"parameter": "revision"})
    assert "revision" in error["detail"]
    bad = httpx.get(sandbox.url("klaviyo") + "/api/lists",
                    headers={**KLAVIYO_HEADERS, "revision": "July 2026"})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"] == {"parameter": "revision"}
