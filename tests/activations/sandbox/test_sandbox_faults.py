"""Fault injection: seeded and reproducible, per provider, in the provider's shapes."""

from __future__ import annotations

import time

import httpx
import pytest
from sandbox_helpers import AUTH, PROBES

from activations.sandbox.faults import FaultInjector, Faults
from activations.sandbox.server import SandboxServer


def outcomes(sandbox: SandboxServer, provider: str, n: int) -> list[int | str]:
    method, path = PROBES[provider]
    seen: list[int | str] = []
    with httpx.Client(headers=AUTH[provider], timeout=10) as client:
        for _ in range(n):
            try:
                seen.append(client.request(method, sandbox.url(provider) + path).status_code)
            except httpx.TransportError:
                seen.append("dropped")
    return seen


def test_same_seed_same_faults(sandbox: SandboxServer) -> None:
    faults = {"error_rate": 0.3, "drop_rate": 0.2, "status": 502, "seed": 42}
    sandbox.set_faults("sendgrid", **faults)
    first = outcomes(sandbox, "sendgrid", 20)
    sandbox.reset()
    sandbox.set_faults("sendgrid", **faults)
    again = outcomes(sandbox, "sendgrid", 20)
    assert first == again
    assert {200, 502, "dropped"} == set(first)  # all three happen with this seed
    sandbox.reset()
    sandbox.set_faults("sendgrid", **{**faults, "seed": 7})
    assert outcomes(sandbox, "sendgrid", 20) != first


def test_injector_is_deterministic_per_provider() -> None:
    injector = FaultInjector()
    injector.configure("klaviyo", Faults(error_rate=0.5, seed=3))
    injector.configure("braze", Faults(error_rate=0.5, seed=3))
    klaviyo = [injector.decide("klaviyo").action for _ in range(10)]
    braze = [injector.decide("braze").action for _ in range(10)]
    assert klaviyo == braze  # own generator each: one provider's traffic does not shift another's
    assert injector.decide("mailchimp").action == "pass"


def test_dropped_connection_closes_without_an_answer(sandbox: SandboxServer) -> None:
    sandbox.set_faults("klaviyo", drop_rate=1.0)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(sandbox.url("klaviyo") + "/api/lists", headers=AUTH["klaviyo"])
    assert sandbox.requests("klaviyo")[-1]["status"] == 0
    sandbox.set_faults("klaviyo")  # cleared: answers again
    assert httpx.get(sandbox.url("klaviyo") + "/api/lists",
                     headers=AUTH["klaviyo"]).status_code == 200


@pytest.mark.parametrize("provider", sorted(PROBES))
def test_5xx_in_the_providers_shape(provider: str, sandbox: SandboxServer) -> None:
    sandbox.set_faults(provider, error_rate=1.0, status=503)
    method, path = PROBES[provider]
    answer = httpx.request(method, sandbox.url(provider) + path, headers=AUTH[provider])
    assert answer.status_code == 503
    body = answer.json()
    shape = {"braze": lambda b: b["message"] == "Service Unavailable",
             "klaviyo": lambda b: b["errors"][0]["status"] == 503,
             "mailchimp": lambda b: b["status"] == 503 and b["title"] == "Service Unavailable",
             "sendgrid": lambda b: b["errors"][0]["field"] is None,
             "customerio": lambda b: "error" in b["meta"],
             "infobip": lambda b: b["requestError"]["serviceException"]["messageId"]
             == "GENERAL_ERROR",
             "twilio": lambda b: b == {"success": False, "message": "Service Unavailable"},
             }[provider]
    assert shape(body)


def test_latency_is_added(sandbox: SandboxServer) -> None:
    sandbox.set_faults("customerio", latency_ms=300)
    started = time.monotonic()
    answer = httpx.get(sandbox.url("customerio") + "/api/v1/customers",
                       headers=AUTH["customerio"])
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_faults_for_all_providers_and_unknown_provider(sandbox: SandboxServer) -> None:
    sandbox.set_faults("all", error_rate=1.0, status=500)
    assert {o for p in PROBES for o in outcomes(sandbox, p, 1)} == {500}
    unknown = httpx.post(sandbox.base_url + "/_sandbox/faults", json={"provider": "hubspot"})
    assert unknown.status_code == 404
    assert "hubspot" in unknown.json()["detail"]
    bad = httpx.post(sandbox.base_url + "/_sandbox/faults",
                     json={"provider": "braze", "error_rate": 2})
    assert bad.status_code == 422
