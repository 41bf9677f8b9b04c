"""The SMS providers' events (Infobip People events, Twilio track) under every
fault the sandbox injects, through the delivery framework (batches cut to the
connector's limits, the framework's retries and pacing), each rerun until
every record has an outcome: then every event arrived exactly once, every
unreachable record was rejected alone with its reason, and no request came
before an announced wait.

Profiles and audience membership (mirror: upsert and removal) under the same
faults, and with the sync process killed, are the engine-driven fault suite's
(``test_fault_suite.py``, which syncs Infobip and Twilio in mode mirror); what
stays here is mode events, which that suite does not run: Infobip does not
deduplicate events, so a batch retried after some of its events went through
would send them twice (a resend after a crash: test_sms_connectors)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import pytest

from activations.contract.records import Outcome, Record, TransientError
from activations.providers import registry
from activations.providers.registry import SMS_PROVIDERS
from activations.sandbox.env import credentials
from activations.sandbox.server import SandboxServer
from activations.sync.delivery.batching import cut_batches
from activations.sync.delivery.dispatch import BatchResult, dispatch
from activations.sync.delivery.pacing import TokenBucket
from activations.sync.delivery.retries import RetryPolicy

POLICY = RetryPolicy(attempts=8, initial=0.01, max_wait=0.05, jitter=0.01, max_retry_after=30)
PEOPLE, BATCH, MAX_RUNS = 30, 5, 12
EVENT = "fault_event"
SCENARIOS: dict[str, dict[str, Any]] = {
    "latency": {"latency_ms": 15},
    "5xx": {"error_rate": 0.3, "status": 503, "seed": 1},
    "dropped": {"drop_rate": 0.2, "seed": 2},
    "429-storm": {"rate_limit_storm": 3},
    "partial": {},  # records the connector refuses, each with its reason
}


def _people(version: int) -> list[Record]:
    return [Record(key=f"f{i:03d}", email=None, phone=f"+4916{i:09d}",
                   fields={"first_name": f"N{i}", "version": version}, hash=f"v{version}",
                   idempotency_key=f"{version:016x}{i:016x}") for i in range(PEOPLE)]


def _provider(sandbox: SandboxServer, name: str) -> Any:
    url, key = credentials(name, sandbox.base_url)
    provider = registry.make_provider(name, registry.settings(name, key, url, timeout=10.0))
    provider.limits = dataclasses.replace(provider.limits, max_records=BATCH,
                                          remove_max_records=BATCH)
    return provider


def _deliver(provider: Any, send: Callable[[Sequence[Record]], list[Outcome]],
             records: list[Record]) -> dict[str, Outcome]:
    """What the engine does with one operation: runs until every record has an
    outcome, each rerun sending only the records still without one."""
    final: dict[str, Outcome] = {}
    limiter = TokenBucket(provider.limits.requests_per_second, provider.limits.burst)

    def done(result: BatchResult) -> None:
        for outcome in result.outcomes:
            if outcome.status == "confirmed" or not outcome.retryable or \
                    "not sent" not in (outcome.reason or ""):
                final[outcome.key] = outcome

    for _ in range(MAX_RUNS):
        todo = [r for r in records if r.key not in final]
        if not todo:
            break
        batches = cut_batches(todo, provider.limits, provider.record_size)
        try:
            dispatch(batches, send, done, concurrency=provider.limits.concurrency,
                     policy=POLICY, limiter=limiter,
                     max_record_bytes=provider.limits.max_record_bytes)
        except TransientError:
            continue  # the run failed; the next one sends what has no outcome yet
    assert {r.key for r in records} == set(final), "a record never got an outcome"
    return final


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("name", SMS_PROVIDERS)
def test_sms_events_under_faults_arrive_once_each(
    name: str, scenario: str, sandbox: SandboxServer
) -> None:
    provider = _provider(sandbox, name)
    try:
        people = _people(1)
        unreachable = [Record(key=f"x{i}", email="x@example.com", phone=None if i else "0151",
                              fields={}) for i in range(2)] if scenario == "partial" else []
        sandbox.set_faults(name, **SCENARIOS[scenario])
        events = _deliver(provider, lambda b: provider.send_events(EVENT, b),
                          [*people, *unreachable])
        sandbox.clear_faults(name)
        hit = {"5xx": 503, "dropped": 0, "429-storm": 429}.get(scenario)
        if hit is not None:  # the fault did land
            assert hit in {r["status"] for r in sandbox.requests(name)}

        assert {events[r.key].status for r in people} == {"confirmed"}
        for record in unreachable:  # rejected alone, with the reason, never sent
            assert events[record.key].status == "rejected" and events[record.key].reason
        state = sandbox.state(name, members=1_000)["providers"][name]
        assert state["events"] == len(people), "an event was sent twice or lost"
        assert {e["person"] for e in state["recent_events"]} <= {r.key for r in people}
        early = sandbox.pacing().get(name, {}).get("early", 0)
        assert early == 0, "a request came before the wait a 429 announced"
    finally:
        provider.close()
