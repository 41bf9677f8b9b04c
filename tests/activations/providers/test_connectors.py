"""Every connector against the running ESP sandbox (real HTTP on 127.0.0.1):
happy path, exact limit boundaries, 429 with the provider's own signal, 5xx
retried, partial failures, wrong keys, and the consent rule of each ESP. The
SMS providers (Infobip, Twilio) run the same set, their people addressed by phone."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from connector_helpers import (
    CONNECTORS,
    DESTINATION,
    ESPS,
    address,
    audience,
    esp_action,
    fixed,
    member_emails,
    people,
    unreachable,
)

from activations.contract.records import PermanentError, Record, TransientError
from activations.sync.delivery.retries import RetryPolicy, call_with_retries

QUICK = RetryPolicy(attempts=6, initial=0.01, max_wait=0.05, jitter=0.0, max_retry_after=60.0)


class Waits:
    """The framework's sleep, recorded: proves which wait was honoured, and
    keeps tests short by sleeping at most 50 ms of it."""

    def __init__(self) -> None:
        self.asked: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.asked.append(seconds)
        time.sleep(min(seconds, 0.05))


@pytest.mark.parametrize("name", CONNECTORS)
def test_upsert_then_remove_changes_membership(name: str, connector, sandbox) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    batch = people(5, provider=name)
    outcomes = provider.upsert(dest, batch)
    assert sorted(o.key for o in outcomes) == sorted(r.key for r in batch)
    assert {o.status for o in outcomes} == {"confirmed"}
    assert member_emails(sandbox, name, dest) == {address(r) for r in batch}

    removed = provider.remove(dest, batch[:2])
    assert {o.status for o in removed} == {"confirmed"}
    assert member_emails(sandbox, name, dest) == {address(r) for r in batch[2:]}


@pytest.mark.parametrize("name", CONNECTORS)
def test_attributes_arrive_as_mapped(name: str, connector, sandbox) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    (base,) = people(1, provider=name)
    record = Record(
        key="u_attr",
        email=base.email,
        phone=base.phone,
        fields={"first_name": "Ann", "ltv": 120.5, "cart_items": [{"sku": "cof-1", "qty": 2}]},
    )
    assert provider.upsert(dest, [record])[0].status == "confirmed"
    member = next(m for m in audience(sandbox, name, dest)["members"] if m["id"] == record.key
                  or address(record) in (m.get("email"), m.get("phone")))
    text = repr(member["attributes"])
    assert "Ann" in text and "120.5" in text and "cof-1" in text


@pytest.mark.parametrize("name", ["braze", "mailchimp", "klaviyo", "infobip"])
def test_batch_of_exactly_max_records_is_accepted_and_one_more_is_refused(
    name: str, connector, sandbox
) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    limit = provider.limits.max_records
    assert {o.status for o in provider.upsert(dest, people(limit, provider=name))} == {
        "confirmed"
    }
    with pytest.raises(PermanentError) as refused:
        provider.upsert(dest, people(limit + 1, start=limit, provider=name))
    assert refused.value.status in (400, 413)


@pytest.mark.parametrize("name", CONNECTORS)
def test_429_is_honoured_with_the_providers_own_signal(name: str, connector, sandbox) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    provider.upsert(
        dest, people(1, provider=name)
    )  # lists, fields and segments exist: one request left to throttle
    sandbox.set_faults(name, rate_limit_storm=1)
    with pytest.raises(TransientError) as throttled:
        provider.upsert(dest, people(2, provider=name))
    assert throttled.value.status == 429
    if name in ("klaviyo", "infobip"):  # Retry-After
        assert throttled.value.retry_after is not None and throttled.value.retry_after >= 0
    elif name == "twilio":  # X-RateLimit-Reset, seconds to wait
        assert throttled.value.retry_after is not None and 0 < throttled.value.retry_after <= 60
    elif name in ("braze", "sendgrid"):  # X-RateLimit-Reset, epoch seconds
        assert throttled.value.retry_after is not None and 0 <= throttled.value.retry_after <= 120
    else:  # Mailchimp and Customer.io send a bare 429: the framework backs off
        assert throttled.value.retry_after is None

    sandbox.set_faults(name, rate_limit_storm=1)
    waits = Waits()
    outcomes = call_with_retries(
        lambda: provider.upsert(dest, people(2, provider=name)), policy=QUICK, sleep=waits
    )
    assert {o.status for o in outcomes} == {"confirmed"}
    assert waits.asked, "the 429 was retried after a wait"
    if throttled.value.retry_after is not None:
        assert waits.asked[0] == pytest.approx(throttled.value.retry_after, abs=2.0)
    statuses = [r["status"] for r in sandbox.requests(name)]
    assert 429 in statuses and statuses[-1] < 300


@pytest.mark.parametrize("name", CONNECTORS)
def test_5xx_is_retried_until_accepted(name: str, connector, sandbox) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    provider.upsert(dest, people(1, provider=name))
    sandbox.set_faults(name, error_rate=1.0, status=503, seed=3)
    with pytest.raises(TransientError) as failed:
        provider.upsert(dest, people(2, provider=name))
    assert failed.value.status == 503

    sandbox.set_faults(name, error_rate=0.4, status=502, seed=11)
    outcomes = call_with_retries(
        lambda: provider.upsert(dest, people(3, provider=name)), policy=QUICK, sleep=Waits()
    )
    assert {o.status for o in outcomes} == {"confirmed"}
    sandbox.set_faults(name, error_rate=0.0)
    assert member_emails(sandbox, name, dest) >= {address(r) for r in people(3, provider=name)}


@pytest.mark.parametrize("name", CONNECTORS)
def test_dropped_connection_is_transient(name: str, connector, sandbox) -> None:
    provider = connector(name)
    sandbox.set_faults(name, drop_rate=1.0, seed=1)
    with pytest.raises(TransientError):
        provider.upsert(DESTINATION[name], people(1, provider=name))


@pytest.mark.parametrize("name", CONNECTORS)
def test_partial_failure_is_a_rejected_outcome_and_passes_when_retried(
    name: str, connector, sandbox
) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    good = people(3, provider=name)
    outcomes = {o.key: o for o in provider.upsert(dest, [*good, unreachable(name)])}
    assert outcomes["u_bad"].status == "rejected"
    assert outcomes["u_bad"].reason and outcomes["u_bad"].retryable
    assert all(outcomes[r.key].status == "confirmed" for r in good)

    right = fixed(name)
    assert provider.upsert(dest, [right])[0].status == "confirmed"
    assert address(right) in member_emails(sandbox, name, dest)


@pytest.mark.parametrize("name", CONNECTORS)
def test_wrong_key_is_permanent_and_never_echoed(name: str, connector) -> None:
    secret = (
        "sk-wrong-4f9a8b7c6d5e:also-secret-1234"
        if name == "customerio"
        else "sk-wrong-4f9a8b7c6d5e"
    )
    provider = connector(name, api_key=secret)
    with pytest.raises(PermanentError) as refused:
        provider.upsert(DESTINATION[name], people(1, provider=name))
    assert refused.value.status in (401, 403, 404)
    for part in secret.split(":"):
        assert part not in str(refused.value)


def _consent(sandbox: Any, name: str, email: str) -> Any:
    state = sandbox.state(name)["providers"][name]
    for item in state.get("lists", []):
        for member in item.get("members", []):
            if member["email"] == email:
                return member.get("consent")
    return None


@pytest.mark.parametrize("name", ESPS)
def test_unsubscribed_person_is_never_resubscribed(name: str, connector, sandbox) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    person = people(1)[0]
    provider.upsert(dest, [person])
    esp_action(sandbox, name, "unsubscribe", person.email)
    before = _consent(sandbox, name, person.email)
    # the warehouse still says "subscribed", and a careless mapping sends consent fields
    stale = Record(
        key=person.key,
        email=person.email,
        fields={
            **person.fields,
            "email_subscribe": "subscribed",
            "unsubscribed": False,
            "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}},
        },
    )
    outcomes = provider.upsert(dest, [stale])
    assert outcomes[0].status in ("confirmed", "rejected")
    after = _consent(sandbox, name, person.email)
    assert after == before
    assert "unsubscri" in repr(after).lower() or "suppressed" in repr(after).lower()
    if name == "sendgrid":
        suppressed = sandbox.state("sendgrid")["providers"]["sendgrid"]["suppressions"]
        assert any(s["email"] == person.email for s in suppressed)
    forbidden = {
        "/api/profile-subscription-bulk-create-jobs",
        "/v2/subscription/status/set",
        "/email/status",
    }
    assert not [r for r in sandbox.requests(name) if any(r["path"].endswith(f) for f in forbidden)]
    assert not [
        r for r in sandbox.requests(name) if r["method"] == "DELETE" and "suppression" in r["path"]
    ]


def test_sendgrid_upsert_of_exactly_30000_contacts_is_accepted_and_one_more_refused(
    connector, sandbox
) -> None:
    provider = connector("sendgrid")
    limit = provider.limits.max_records
    assert limit == 30_000
    slim = [Record(key=f"u{i}", email=f"p{i}@example.com", fields={}) for i in range(limit + 1)]
    outcomes = provider.upsert("cart_abandoners", slim[:limit])
    assert len(outcomes) == limit and {o.status for o in outcomes} == {"confirmed"}
    with pytest.raises(PermanentError) as refused:
        provider.upsert("cart_abandoners", slim)
    assert refused.value.status == 400


@pytest.mark.parametrize("name", ["klaviyo", "braze"])
def test_removal_batch_limit_is_exact(name: str, connector, sandbox) -> None:
    provider = connector(name)
    limit = provider.limits.remove_max_records or provider.limits.max_records
    members = people(limit + 1)
    for start in range(0, len(members), provider.limits.max_records):
        provider.upsert("cart_abandoners", members[start : start + provider.limits.max_records])
    assert {o.status for o in provider.remove("cart_abandoners", members[:limit])} == {"confirmed"}
    with pytest.raises(PermanentError) as refused:
        provider.remove("cart_abandoners", members)
    assert refused.value.status == 400


def test_mailchimp_never_exceeds_its_10_connections(connector, sandbox) -> None:
    """Mailchimp answers 429 to an 11th request in flight. The framework runs
    ``Limits.concurrency`` (10) batches at once, and the connector's own pool holds
    at most 10 connections, so even more threads never trip the limit."""
    provider = connector("mailchimp")
    assert provider.limits.concurrency == 10
    provider.upsert("cart_abandoners", people(1))  # list, merge fields and tag exist
    sandbox.set_faults("mailchimp", latency_ms=150)
    batches = [people(2, start=10 + 2 * i) for i in range(16)]
    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(lambda b: provider.upsert("cart_abandoners", b), batches))
    assert all(o.status == "confirmed" for outcomes in results for o in outcomes)
    assert 429 not in {r["status"] for r in sandbox.requests("mailchimp")}

    # while 16 bare connections at once do trip it: the limit is real
    auth = ("any", "sandbox-mailchimp-key-us6")
    with httpx.Client(limits=httpx.Limits(max_connections=16), timeout=10) as raw:
        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(
                pool.map(
                    lambda _: raw.get(sandbox.url("mailchimp") + "/lists", auth=auth).status_code,
                    range(16),
                )
            )
    assert 429 in codes
