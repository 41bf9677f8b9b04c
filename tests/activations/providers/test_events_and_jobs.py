"""Events (with each ESP's idempotency), async jobs polled to their end, and
Customer.io's byte limits at the exact boundary."""

from __future__ import annotations

import pytest
from connector_helpers import DESTINATION, people

from activations.delivery.batching import cut_batches
from activations.providers.base import PermanentError, Record
from activations.providers.http import encode_json


def _events(sandbox, name: str) -> int:
    return int(sandbox.state(name)["providers"][name].get("events", 0))


@pytest.mark.parametrize("name", ["klaviyo", "customerio"])
def test_events_are_deduplicated_by_the_records_idempotency_key(name, connector, sandbox) -> None:
    provider = connector(name)
    batch = [
        Record(
            key=r.key,
            email=r.email,
            fields={"cart_value": 12.5, "items": [{"sku": "a"}]},
            hash=r.hash,
            idempotency_key=f"{i:032x}",
        )
        for i, r in enumerate(people(3), start=1)
    ]
    assert {o.status for o in provider.send_events("cart_abandoned", batch)} == {"confirmed"}
    first = _events(sandbox, name)
    assert first == 3
    provider.send_events("cart_abandoned", batch)  # a batch resent after a crash
    assert _events(sandbox, name) == first


def test_braze_events_are_sent_once_per_call(connector, sandbox) -> None:
    provider = connector("braze")
    assert {o.status for o in provider.send_events("cart_abandoned", people(2))} == {"confirmed"}
    assert _events(sandbox, "braze") == 2


def test_mailchimp_events_go_to_existing_members(connector, sandbox) -> None:
    provider = connector("mailchimp")
    members = people(2)
    provider.upsert("cart_abandoners", members)
    stranger = Record(key="u_x", email="stranger@example.com", fields={})
    outcomes = {o.key: o for o in provider.send_events("cart_abandoned", [*members, stranger])}
    assert outcomes["u_0"].status == outcomes["u_1"].status == "confirmed"
    assert outcomes["u_x"].status == "rejected" and outcomes["u_x"].reason


def test_sendgrid_refuses_events_clearly(connector) -> None:
    with pytest.raises(PermanentError, match="no custom-event API"):
        connector("sendgrid").send_events("cart_abandoned", people(1))


@pytest.mark.parametrize("name", ["klaviyo", "sendgrid"])
def test_async_import_job_is_polled_to_its_end(name, connector, sandbox) -> None:
    provider = connector(name)
    sandbox.set_faults(name, slow_jobs=2)
    outcomes = provider.upsert(DESTINATION[name], people(4))
    assert {o.status for o in outcomes} == {"confirmed"}
    assert len(provider.report.job_ids) == 1
    job_id = provider.report.job_ids[0]
    polls = [
        r for r in sandbox.requests(name) if r["method"] == "GET" and r["path"].endswith(job_id)
    ]
    assert len(polls) >= 3  # queued/pending, held back twice, then finished
    assert len({m for m in _members(sandbox, name)}) == 4


def _members(sandbox, name):
    for item in sandbox.state(name)["providers"][name]["lists"]:
        if item["name"] == DESTINATION[name]:
            return [m["email"] for m in item["members"]]
    return []


def _sized(key: str, size: int, provider) -> Record:
    """A record that adds exactly ``size`` bytes to a batch (its entry plus the
    comma), spread over attributes of at most 900 bytes (Customer.io caps a value
    at 1,000 bytes)."""
    base = Record(key=key, email=f"{key}@example.com", fields={})
    fields: dict[str, str] = {}
    while True:
        missing = size - provider.record_size(Record(key=key, email=base.email, fields=fields))
        if missing == 0:
            return Record(key=key, email=base.email, fields=fields)
        name = f"a{len(fields)}"
        overhead = len(f',"{name}":""') if fields else len(f'"{name}":""')
        if missing >= overhead + 900 + 40:
            fields[name] = "x" * 900
        elif missing > overhead:
            fields[name] = "x" * (missing - overhead)
        else:  # too close to add an attribute: grow the last one
            last = next(reversed(fields))
            fields[last] = fields[last] + "x" * missing
            assert len(fields[last]) <= 1000


def _body(provider, records) -> bytes:
    return encode_json({"batch": [provider.identify_entry(r) for r in records]})


def test_customerio_batch_at_the_byte_limit_is_accepted_and_one_byte_more_refused(
    connector, sandbox
) -> None:
    provider = connector("customerio")
    per = 30_000
    n, rest = divmod(provider.limits.max_bytes, per)
    records = [_sized(f"c{i}", per, provider) for i in range(n)]
    records.append(_sized(f"c{n}", rest, provider))
    assert len(list(cut_batches(records, provider.limits, provider.record_size))) == 1
    assert len(_body(provider, records)) == 500 * 1024
    assert {o.status for o in provider.upsert("7", records)} == {"confirmed"}

    over = [*records[:-1], _sized(f"c{n}", rest + 1, provider)]
    assert len(list(cut_batches(over, provider.limits, provider.record_size))) == 2
    assert len(_body(provider, over)) == 500 * 1024 + 1
    with pytest.raises(PermanentError) as refused:
        provider.upsert("7", over)
    assert refused.value.status == 400


def test_customerio_entry_at_32_kb_is_accepted_and_one_byte_more_rejected(
    connector, sandbox
) -> None:
    provider = connector("customerio")
    exact = _sized("big", provider.limits.max_record_bytes, provider)
    assert len(encode_json(provider.identify_entry(exact))) == 32 * 1024
    assert len(list(cut_batches([exact], provider.limits, provider.record_size))) == 1
    assert provider.upsert("7", [exact])[0].status == "confirmed"

    over = _sized("big", provider.limits.max_record_bytes + 1, provider)
    (batch,) = cut_batches([over], provider.limits, provider.record_size)
    assert batch.oversize, "the framework never sends it"
    outcome = provider.upsert("7", [over])[0]  # and the ESP refuses it, in its own words
    assert outcome.status == "rejected" and "32 KB" in (outcome.reason or "")
