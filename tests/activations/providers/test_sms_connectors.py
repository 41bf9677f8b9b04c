"""What only the SMS connectors (Infobip, Twilio through Segment) do, against the
sandbox over real HTTP: the phone is the address (a record without one, or with
one that is not E.164, is rejected on its own), Infobip's per-person refusals,
removal by untag or delete, events that need a person, a batch stopped half-way
by a 429, and a batch resent after a crash."""

from __future__ import annotations

import dataclasses

import pytest
from connector_helpers import DESTINATION, SMS, audience, member_emails, people

from activations.contract.records import Record, TransientError
from activations.providers.connector_helpers import NO_PHONE


@pytest.mark.parametrize("name", SMS)
def test_a_record_without_a_phone_is_rejected_alone(name: str, connector, sandbox) -> None:
    provider = connector(name)
    dest = DESTINATION[name]
    good = people(2, provider=name)
    no_phone = Record(key="u_mail", email="mail@example.com", fields={"first_name": "Mo"})
    not_e164 = dataclasses.replace(good[0], key="u_local", phone="015112345678")
    for call in (provider.upsert, provider.send_events):
        outcomes = {o.key: o for o in call(dest, [*good, no_phone, not_e164])}
        assert len(outcomes) == 4
        assert outcomes["u_mail"].status == "rejected" and outcomes["u_mail"].reason == NO_PHONE
        assert outcomes["u_local"].status == "rejected"
        assert "E.164" in (outcomes["u_local"].reason or "")
        assert {outcomes[r.key].status for r in good} == {"confirmed"}
    assert member_emails(sandbox, name, dest) == {r.phone for r in good}
    # a removal needs only the person key: no phone, still removed
    outcomes = provider.remove(dest, [dataclasses.replace(good[0], phone=None)])
    assert [o.status for o in outcomes] == ["confirmed"]
    assert member_emails(sandbox, name, dest) == {good[1].phone}


def test_infobip_refuses_a_phone_another_person_holds_in_its_own_words(
    connector, sandbox
) -> None:
    provider = connector("infobip")
    first, second = people(2, provider="infobip")
    assert provider.upsert("vip", [first])[0].status == "confirmed"
    taken = dataclasses.replace(second, phone=first.phone)
    outcomes = {o.key: o for o in provider.upsert("vip", [taken, dataclasses.replace(
        second, key="u_9", phone="+4915000000009")])}
    assert outcomes[taken.key].status == "rejected" and outcomes[taken.key].retryable
    assert "already belongs to another person" in (outcomes[taken.key].reason or "")
    assert outcomes["u_9"].status == "confirmed"


def test_infobip_removal_untags_by_default_and_deletes_when_asked(connector, sandbox) -> None:
    batch = people(3, provider="infobip")
    untag = connector("infobip")
    untag.upsert("vip", batch)
    untag.upsert("newsletter_sms", batch[:1])
    assert {o.status for o in untag.remove("vip", batch[:1])} == {"confirmed"}
    state = sandbox.state("infobip")["providers"]["infobip"]
    assert state["contacts"] == 3  # untagged, not deleted: the other tag stays
    assert member_emails(sandbox, "infobip", "newsletter_sms") == {batch[0].phone}

    delete = connector("infobip", removal="delete")
    gone = [batch[1], dataclasses.replace(batch[0], key="u_never_there")]
    assert {o.status for o in delete.remove("vip", gone)} == {"confirmed"}
    assert sandbox.state("infobip")["providers"]["infobip"]["contacts"] == 2
    assert member_emails(sandbox, "infobip", "vip") == {batch[2].phone}


def test_infobip_events_go_to_people_it_creates_first(connector, sandbox) -> None:
    provider = connector("infobip")
    batch = people(3, provider="infobip", cart_value=12.5)
    assert {o.status for o in provider.send_events("cart_abandoned", batch)} == {"confirmed"}
    state = sandbox.state("infobip")["providers"]["infobip"]
    assert (state["contacts"], state["events"]) == (3, 3)
    paths = [r["path"] for r in sandbox.requests("infobip")]
    assert paths[0].endswith("/people/2/persons/batch")
    assert sum("/definitions/cart_abandoned/events" in p for p in paths) == 3
    assert not audience(sandbox, "infobip", "cart_abandoned")  # events tag nobody


def test_infobip_events_stopped_half_way_are_not_sent_twice(connector, sandbox) -> None:
    """A 429 after some events went through: those are confirmed, the rest rejected
    (retryable) instead of an exception that would make the whole batch go again."""
    provider = connector("infobip")
    sandbox.set_limits("infobip", windows=[(3, 10_000_000.0)])  # people + 2 events
    outcomes = {o.key: o for o in provider.send_events("cart", people(4, provider="infobip"))}
    assert [outcomes[f"u_{i}"].status for i in range(4)] == [
        "confirmed", "confirmed", "rejected", "rejected"]
    assert outcomes["u_2"].retryable and "429" in (outcomes["u_2"].reason or "")
    assert sandbox.state("infobip")["providers"]["infobip"]["events"] == 2

    sandbox.set_limits("infobip", windows=[(1, 10_000_000.0)])  # nothing gets through
    with pytest.raises(TransientError) as throttled:
        connector("infobip").send_events("cart", people(2, provider="infobip"))
    assert throttled.value.status == 429 and throttled.value.retry_after is not None


def test_twilio_membership_is_a_trait_and_leaving_keeps_the_profile(connector, sandbox) -> None:
    provider = connector("twilio")
    batch = people(3, provider="twilio")
    provider.upsert("winback_sms", batch)
    provider.remove("winback_sms", batch[:1])
    assert member_emails(sandbox, "twilio", "winback_sms") == {r.phone for r in batch[1:]}
    state = sandbox.state("twilio")["providers"]["twilio"]
    assert state["contacts"] == 3 and state["debugger"] == []
    profiles = {p["user_id"]: p for p in sandbox_profiles(sandbox)}
    assert profiles["u_0"]["traits"]["winback_sms"] is False
    assert profiles["u_1"]["traits"] == {"first_name": "Ann1", "ltv": 11,
                                         "phone": batch[1].phone, "winback_sms": True}


@pytest.mark.parametrize("name", SMS)
def test_a_batch_resent_after_a_crash_changes_nothing(name: str, connector, sandbox) -> None:
    """The engine resends a batch whose outcomes it never committed: the same people,
    the same membership, and for Twilio no event twice (messageId)."""
    provider = connector(name)
    dest = DESTINATION[name]
    batch = [dataclasses.replace(r, idempotency_key=f"{i:032x}")
             for i, r in enumerate(people(3, provider=name), 1)]
    for _ in range(2):
        assert {o.status for o in provider.upsert(dest, batch)} == {"confirmed"}
    state = sandbox.state(name)["providers"][name]
    assert state["contacts"] == 3
    assert member_emails(sandbox, name, dest) == {r.phone for r in batch}
    if name == "twilio":
        for _ in range(2):
            provider.send_events("cart_abandoned", batch)
        assert sandbox.state(name)["providers"][name]["events"] == 3


def sandbox_profiles(sandbox) -> list[dict]:
    import httpx

    from activations.sandbox.settings import DEFAULT_KEYS

    answer = httpx.get(sandbox.url("twilio") + "/v1/profiles",
                       auth=(DEFAULT_KEYS["twilio"], ""), timeout=10)
    answer.raise_for_status()
    return list(answer.json()["profiles"])


def test_the_registry_keeps_sms_providers_apart_from_the_esps() -> None:
    from activations.errors import UserError
    from activations.providers import registry
    from activations.providers.destinations import destination_problem

    assert registry.SMS_PROVIDERS == ("infobip", "twilio")
    assert not set(registry.SMS_PROVIDERS) & set(registry.EMAIL_PROVIDERS)
    for name in registry.SMS_PROVIDERS:
        assert registry.entry(name).channel == "sms"
        assert registry.hook_parser(name) is None and registry.hook_verifier(name) is None
        with pytest.raises(UserError, match="no consent pull-back"):
            registry.consent_reader(name)
    assert registry.entry("infobip").key_variable == "INFOBIP_API_KEY"
    assert registry.entry("twilio").key_variable == "TWILIO_SEGMENT_WRITE_KEY"
    assert registry.destination_page("infobip", "vip sms").endswith("tag=vip%20sms")
    assert destination_problem("infobip", "t" * 257)
    assert destination_problem("twilio", "phone") and not destination_problem("twilio", "vip")


def test_a_segment_write_key_never_leaks_through_its_basic_encoding() -> None:
    import base64

    from activations.providers.http import redact, secret_variants

    key = "wk_0123456789abcdef"
    header = base64.b64encode(f"{key}:".encode()).decode()  # write key as user, no password
    assert redact(f"Authorization: Basic {header}", secret_variants(key)) == (
        "Authorization: Basic ***")
