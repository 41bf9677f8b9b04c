"""Events (with each provider's idempotency), async jobs polled to their end, and
Customer.io's and Twilio's (Segment's) byte limits at the exact boundary."""

from __future__ import annotations

import pytest
from connector_helpers import DESTINATION, is_sms, people, sized

from activations.contract.records import PermanentError, Record, TransientError
from activations.providers.http import encode_json
from activations.providers.klaviyo.connector import import_body
from activations.providers.sendgrid.connector import upsert_body
from activations.sync.delivery.batching import cut_batches


def _events(sandbox, name: str) -> int:
    return int(sandbox.state(name)["providers"][name].get("events", 0))


@pytest.mark.parametrize("name", ["klaviyo", "customerio", "twilio"])
def test_events_are_deduplicated_by_the_records_idempotency_key(name, connector, sandbox) -> None:
    provider = connector(name)
    batch = [
        Record(
            key=r.key,
            email=r.email,
            phone=r.phone,
            fields={"cart_value": 12.5, "items": [{"sku": "a"}]},
            hash=r.hash,
            idempotency_key=f"{i:032x}",
        )
        for i, r in enumerate(people(3, provider=name), start=1)
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


@pytest.mark.parametrize("name", ["klaviyo", "sendgrid"])
def test_a_job_that_fails_as_a_whole_is_retried_not_charged_to_its_records(
    name, connector, sandbox
) -> None:
    """Found by the fault suite: a SendGrid job ``failed`` with no row errors
    (it "could not be processed") used to reject every record it held, so a
    transient failure counted against the rejects guard and max_attempts."""
    provider = connector(name)
    sandbox.set_faults(name, failing_jobs=1)
    with pytest.raises(TransientError, match="cancelled|could not be processed"):
        provider.upsert(DESTINATION[name], people(3))
    outcomes = provider.upsert(DESTINATION[name], people(3))  # the engine's retry
    assert {o.status for o in outcomes} == {"confirmed"}
    assert len(_members(sandbox, name)) == 3


def test_sendgrid_failed_job_with_row_errors_rejects_each_row_with_its_reason(
    connector, sandbox
) -> None:
    provider = connector("sendgrid")
    bad = [Record(key=f"b{i}", email=f"b{i}@shop.c0m", fields={}, hash="h") for i in range(2)]
    outcomes = provider.upsert(DESTINATION["sendgrid"], bad)
    assert [o.status for o in outcomes] == ["rejected", "rejected"]
    assert all(o.reason and "failed" not in o.reason for o in outcomes)  # the row's own words


def _members(sandbox, name):
    for item in sandbox.state(name)["providers"][name]["lists"]:
        if item["name"] == DESTINATION[name]:
            return [m["email"] for m in item["members"]]
    return []


#: where the byte-limit tests sync to: a Customer.io segment id; a Twilio audience trait
#: as long as the one ``record_size`` counts with, so sizes are exact
BYTES_DEST = {"customerio": "7", "twilio": "x" * 32}


def _body(provider, records) -> bytes:
    if is_sms(provider.name):  # Segment's batch: identify messages joining the audience
        membership = {BYTES_DEST["twilio"]: True}
        return encode_json({"batch": [provider.identify(r, membership) for r in records]})
    return encode_json({"batch": [provider.identify_entry(r) for r in records]})


@pytest.mark.parametrize("name", ["customerio", "twilio"])
def test_batch_at_500_kb_is_accepted_and_one_byte_more_refused(name, connector, sandbox) -> None:
    """Customer.io's v2 batch and Segment's /v1/batch: 500 KB a request, envelope included."""
    provider, dest = connector(name), BYTES_DEST[name]
    per = 30_000
    n, rest = divmod(provider.limits.max_bytes, per)
    records = [sized(f"c{i}", per, provider) for i in range(n)]
    records.append(sized(f"c{n}", rest, provider))
    assert len(list(cut_batches(records, provider.limits, provider.record_size))) == 1
    assert len(_body(provider, records)) == 500 * 1024
    assert {o.status for o in provider.upsert(dest, records)} == {"confirmed"}

    over = [*records[:-1], sized(f"c{n}", rest + 1, provider)]
    assert len(list(cut_batches(over, provider.limits, provider.record_size))) == 2
    assert len(_body(provider, over)) == 500 * 1024 + 1
    with pytest.raises(PermanentError) as refused:
        provider.upsert(dest, over)
    assert refused.value.status == 400


@pytest.mark.parametrize("name", ["customerio", "twilio"])
def test_entry_at_32_kb_is_accepted_and_one_byte_more_rejected(name, connector, sandbox) -> None:
    provider, dest = connector(name), BYTES_DEST[name]
    exact = sized("big", provider.limits.max_record_bytes, provider)
    assert len(_body(provider, [exact])) - len(b'{"batch":[]}') == 32 * 1024
    assert len(list(cut_batches([exact], provider.limits, provider.record_size))) == 1
    assert provider.upsert(dest, [exact])[0].status == "confirmed"

    over = sized("big", provider.limits.max_record_bytes + 1, provider)
    (batch,) = cut_batches([over], provider.limits, provider.record_size)
    assert batch.oversize, "the framework never sends it"
    outcome = provider.upsert(dest, [over])[0]  # and it is refused, in the provider's words
    assert outcome.status == "rejected" and "32 KB" in (outcome.reason or "")


def test_klaviyo_import_at_5_mb_is_accepted_and_one_byte_more_refused(connector, sandbox) -> None:
    provider = connector("klaviyo")
    list_id = provider.list_id("big_import")
    assert len(list_id) == 6
    per = 100_000
    n, rest = divmod(provider.limits.max_bytes, per)
    records = [sized(f"k{i}", per, provider, chunk=4000) for i in range(n)]
    records.append(sized(f"k{n}", rest, provider, chunk=4000))
    assert len(list(cut_batches(records, provider.limits, provider.record_size))) == 1
    body = encode_json(import_body([provider.profile(r) for r in records], list_id))
    assert len(body) == 5 * 1024 * 1024
    assert {o.status for o in provider.upsert("big_import", records)} == {"confirmed"}

    over = [*records[:-1], sized(f"k{n}", rest + 1, provider, chunk=4000)]
    assert len(list(cut_batches(over, provider.limits, provider.record_size))) == 2
    with pytest.raises(PermanentError) as refused:
        provider.upsert("big_import", over)
    assert refused.value.status == 413


def test_klaviyo_profile_at_100_kb_is_accepted_and_one_byte_more_rejected(
    connector, sandbox
) -> None:
    provider = connector("klaviyo")
    exact = sized("big", provider.limits.max_record_bytes, provider, chunk=4000)
    assert len(encode_json(provider.profile(exact))) == 100 * 1024
    assert provider.upsert("big_profile", [exact])[0].status == "confirmed"
    over = sized("big", provider.limits.max_record_bytes + 1, provider, chunk=4000)
    (batch,) = cut_batches([over], provider.limits, provider.record_size)
    assert batch.oversize, "the framework never sends it"
    outcome = provider.upsert("big_profile", [over])[0]  # and Klaviyo refuses it, in its own words
    assert outcome.status == "rejected" and "100 KB" in (outcome.reason or "")


def test_sendgrid_upsert_at_6_mb_is_accepted_and_one_byte_more_refused(connector, sandbox) -> None:
    provider = connector("sendgrid")
    list_id = provider.list_id("big_upsert")
    per = 200_000
    n, rest = divmod(provider.limits.max_bytes, per)
    # one custom field "note", created first so that its id is what is counted
    provider.upsert(
        "big_upsert", [Record(key="seed", email="seed@example.com", fields={"note": "x"})]
    )
    records = [sized_note(provider, f"s{i}", per) for i in range(n)]
    records.append(sized_note(provider, f"s{n}", rest))
    assert len(list(cut_batches(records, provider.limits, provider.record_size))) == 1
    body = encode_json(
        upsert_body([provider.contact(r, provider._fields) for r in records], list_id)
    )
    assert len(body) == 6 * 1024 * 1024
    assert {o.status for o in provider.upsert("big_upsert", records)} == {"confirmed"}

    over = [*records[:-1], sized_note(provider, f"s{n}", rest + 1)]
    assert len(list(cut_batches(over, provider.limits, provider.record_size))) == 2
    with pytest.raises(PermanentError) as refused:
        provider.upsert("big_upsert", over)
    assert refused.value.status == 413


def sized_note(provider, key: str, size: int) -> Record:
    """A contact of exactly ``size`` bytes (with its comma) holding one custom field."""
    record = Record(key=key, email=f"{key}@example.com", fields={"note": ""})
    pad = size - provider.record_size(record)
    return Record(key=key, email=record.email, fields={"note": "x" * pad})
