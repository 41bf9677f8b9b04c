"""Per-key rate limits and 429 signalling, each provider its own way."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sandbox_helpers import AUTH, PROBES

from activations.sandbox.limits import RateLimiter
from activations.sandbox.server import SandboxServer
from activations.sandbox.settings import ProviderLimits, Window

NEVER_RESETS = 10_000_000.0  # a window that cannot roll over during a test


def get(sandbox: SandboxServer, provider: str) -> httpx.Response:
    method, path = PROBES[provider]
    return httpx.request(method, sandbox.url(provider) + path, headers=AUTH[provider])


def rate_headers(answer: httpx.Response, prefix: str) -> dict[str, str]:
    return {k.lower(): v for k, v in answer.headers.items()
            if k.lower().startswith(prefix.lower())}


def test_braze_sends_x_ratelimit_on_every_response(sandbox: SandboxServer) -> None:
    sandbox.set_limits("braze", windows=[(2, NEVER_RESETS)])
    first, second, third = (get(sandbox, "braze") for _ in range(3))
    assert [first.status_code, second.status_code, third.status_code] == [200, 200, 429]
    assert rate_headers(first, "x-ratelimit-")["x-ratelimit-remaining"] == "1"
    assert rate_headers(second, "x-ratelimit-")["x-ratelimit-remaining"] == "0"
    limited = rate_headers(third, "x-ratelimit-")
    assert limited["x-ratelimit-limit"] == "2" and limited["x-ratelimit-remaining"] == "0"
    assert int(limited["x-ratelimit-reset"]) > time.time()  # epoch seconds
    assert "retry-after" not in third.headers
    assert third.json()["message"] == "Rate Limited"


def test_sendgrid_sends_x_ratelimit_and_its_429_body(sandbox: SandboxServer) -> None:
    sandbox.set_limits("sendgrid", windows=[(1, NEVER_RESETS)])
    ok, limited = get(sandbox, "sendgrid"), get(sandbox, "sendgrid")
    assert (ok.status_code, limited.status_code) == (200, 429)
    assert rate_headers(ok, "x-ratelimit-")["x-ratelimit-limit"] == "1"
    assert int(rate_headers(limited, "x-ratelimit-")["x-ratelimit-reset"]) > time.time()
    assert "retry-after" not in limited.headers
    assert limited.json() == {"errors": [{"field": None, "message": "too many requests"}]}


def test_klaviyo_ratelimit_headers_only_on_success_and_retry_after_on_429(
        sandbox: SandboxServer) -> None:
    sandbox.set_limits("klaviyo", windows=[(2, NEVER_RESETS), (100, NEVER_RESETS * 2)])
    answers = [get(sandbox, "klaviyo") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert rate_headers(answers[0], "ratelimit-") == {
        "ratelimit-limit": "2", "ratelimit-remaining": "1",
        "ratelimit-reset": rate_headers(answers[0], "ratelimit-")["ratelimit-reset"]}
    assert int(rate_headers(answers[0], "ratelimit-")["ratelimit-reset"]) > 0  # seconds
    limited = answers[2]
    assert rate_headers(limited, "ratelimit-") == {}
    assert int(limited.headers["retry-after"]) >= 1
    error = limited.json()["errors"][0]
    assert (error["status"], error["code"]) == (429, "throttled")


def test_klaviyo_burst_and_steady_windows_are_separate() -> None:
    limiter = RateLimiter()
    limits = ProviderLimits(windows=[Window(limit=2, seconds=1), Window(limit=3, seconds=60)])
    start = 1_000_020.0  # aligned to both windows
    allowed = [limiter.check("klaviyo", "k", limits, start + dt).allowed
               for dt in (0.0, 0.1, 0.2, 1.0, 2.0, 3.0)]
    # burst: the third request in the first second waits; steady: the 4th in the minute waits
    assert allowed == [True, True, False, True, False, False]
    later = limiter.check("klaviyo", "k", limits, start + 60.0)
    assert later.allowed and later.remaining == 1


def test_mailchimp_caps_requests_in_flight_at_10(sandbox: SandboxServer) -> None:
    sandbox.set_faults("mailchimp", latency_ms=1500)
    with ThreadPoolExecutor(max_workers=11) as pool:
        answers = list(pool.map(lambda _: get(sandbox, "mailchimp"), range(11)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] * 10 + [429]
    limited = next(a for a in answers if a.status_code == 429)
    assert limited.headers["content-type"].startswith("application/problem+json")
    assert limited.json()["detail"] == ("You have exceeded the limit of 10 simultaneous "
                                        "connections.")
    assert not rate_headers(limited, "x-ratelimit") and "retry-after" not in limited.headers


@pytest.mark.parametrize("provider", sorted(PROBES))
def test_a_429_storm_uses_the_providers_signal(provider: str, sandbox: SandboxServer) -> None:
    sandbox.set_faults(provider, rate_limit_storm=2)
    answers = [get(sandbox, provider) for _ in range(3)]
    assert [a.status_code for a in answers] == [429, 429, 200]
    limited = answers[0]
    headers = {k.lower() for k in limited.headers}
    if provider in ("braze", "sendgrid"):
        assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= headers
        assert "retry-after" not in headers
    elif provider in ("klaviyo", "infobip"):
        assert "retry-after" in headers and "ratelimit-limit" not in headers
        assert int(limited.headers["retry-after"]) >= 1
    elif provider == "twilio":  # Segment: seconds to wait, nothing else
        assert {h for h in headers if "ratelimit" in h or h == "retry-after"} == {
            "x-ratelimit-reset"}
        assert 1 <= int(limited.headers["x-ratelimit-reset"]) <= 60
    else:
        assert not {h for h in headers if "ratelimit" in h or h == "retry-after"}
    if provider == "customerio":
        assert limited.json() == {"meta": {"error": "rate limit exceeded"}}
    if provider == "mailchimp":
        assert limited.json()["status"] == 429
    if provider == "infobip":
        assert limited.json()["requestError"]["serviceException"]["messageId"] == (
            "TOO_MANY_REQUESTS")


def test_a_wrong_key_gets_its_401_even_when_the_key_is_throttled(sandbox: SandboxServer) -> None:
    sandbox.set_limits("sendgrid", windows=[(1, NEVER_RESETS)])
    assert get(sandbox, "sendgrid").status_code == 200
    assert get(sandbox, "sendgrid").status_code == 429
    # auth comes before the rate limit: a wrong key learns nothing about the real one
    wrong = httpx.get(sandbox.url("sendgrid") + "/v3/marketing/lists",
                      headers={"Authorization": "Bearer other"})
    assert wrong.status_code == 401
