"""The SMS channel on the generated shop: phones normalised (bad ones flagged,
none dropped), and the channel decision of cart_abandoners checked against
sets computed here from the email decision, the SMS policy and the email
history: nobody is sendable by SMS without SMS consent, a valid phone, or
inside quiet hours; each rule moves exactly the right people; no trigger has
two channels."""

from __future__ import annotations

import re

import pytest

from activations.warehouse.phones import E164_PATTERN

# email reasons of the email channel only: SMS may take over
EMAIL_CHANNEL_REASONS = (
    "missing_email",
    "invalid_email",
    "no_consent",
    "unconfirmed_double_opt_in",
    "unsubscribed",
    "hard_bounce",
    "spam_complaint",
    "frequency_cap",
)
CHANNEL_MODELS = ["sms_contact_policy", "int_audience_channels_decided", "cart_abandoners"]


def decisions(warehouse) -> dict[str, tuple[str | None, str]]:
    return {
        p: (c, r)
        for p, c, r in warehouse.query(
            "select person_id, channel, channel_reason from audiences.cart_abandoners"
        )
    }


def email_sent_this_entry(warehouse) -> set[str]:
    return {
        p
        for (p,) in warehouse.query(
            "select a.person_id from audiences.cart_abandoners as a "
            "join intermediate.int_email_sends_attributed as s "
            "on s.person_id = a.person_id and s.program = 'cart_abandoners' "
            "and s.sent_at >= a.entered_at"
        )
    }


def expected_sms_when_not_sendable(warehouse) -> set[str]:
    """No channel-wide block, email unsendable for an email reason, no email of
    this entry, SMS sendable (phone, consent, time zone, quiet hours, cap)."""
    marks = ", ".join(f"'{r}'" for r in EMAIL_CHANNEL_REASONS)
    rows = warehouse.query(
        "select a.person_id from audiences.cart_abandoners as a "
        "join core.sms_contact_policy as p on p.person_id = a.person_id "
        f"where not a.is_control and a.suppression_reason in ({marks}) and p.is_sms_sendable"
    )
    return {p for (p,) in rows} - email_sent_this_entry(warehouse)


def test_phones_are_e164_or_flagged_and_nobody_is_dropped(built_warehouse):
    q = built_warehouse.query
    (raw,) = q("select count(*) from raw.customers")[0]
    (staged,) = q("select count(*) from staging.stg_shop__customers")[0]
    assert raw == staged
    rows = q("select phone, phone_e164, phone_invalid_reason from staging.stg_shop__customers")
    reasons = {r for _, _, r in rows}
    assert {None, "missing", "not_a_number", "too_short"} <= reasons
    assert "not_normalised" not in reasons  # the build normalised every pair first
    for phone, e164, reason in rows:
        assert (e164 is None) == (reason is not None)
        if e164 is not None:
            assert re.fullmatch(E164_PATTERN, e164), (phone, e164)
    # national and 00-prefixed numbers became international ones
    assert any(p.startswith("0") and not p.startswith("00") and e for p, e, _ in rows if p)
    assert any(p.startswith("00") and e for p, e, _ in rows if p)


def test_the_shop_has_sms_consents_and_time_zones(built_warehouse):
    q = built_warehouse.query
    statuses = dict(q("select status, count(*) from staging.stg_shop__consents "
                      "where channel = 'sms' group by status"))  # fmt: skip
    assert statuses.get("subscribed", 0) > 0 and statuses.get("unsubscribed", 0) > 0
    zones = {z for (z,) in q("select distinct time_zone from core.sms_contact_policy")}
    assert len(zones - {None}) >= 5


def test_default_rule_moves_exactly_the_unsendable_to_sms(built_warehouse):
    decided = decisions(built_warehouse)
    sms = {p for p, (c, _) in decided.items() if c == "sms"}
    assert sms, "the generated shop has people for the SMS fallback"
    assert sms == expected_sms_when_not_sendable(built_warehouse)
    sendable = {
        p for (p,) in built_warehouse.query(
            "select person_id from audiences.cart_abandoners where is_sendable"
        )
    }  # fmt: skip
    email = {p for p, (c, _) in decided.items() if c == "email"}
    assert sendable <= email and not email & sms


def test_nobody_without_sms_consent_or_a_valid_phone_is_sms(built_warehouse):
    rows = built_warehouse.query(
        """select a.person_id, c.phone_e164,
                  (select s.status from staging.stg_shop__consents as s
                   where s.customer_id = a.person_id and s.channel = 'sms'
                   order by s.changed_at desc limit 1)
           from audiences.cart_abandoners as a
           join staging.stg_shop__customers as c on c.customer_id = a.person_id
           where a.channel = 'sms'"""
    )
    assert rows
    for person, phone, consent in rows:
        assert consent == "subscribed", person
        assert phone and re.fullmatch(E164_PATTERN, phone), person


def test_nobody_inside_quiet_hours_is_sms(warehouse_copy):
    """The as_of (12:00 UTC) inside a quiet window on every European clock:
    the people the default rule sends by SMS now get nothing, for that reason."""
    before = {p for p, (c, _) in decisions(warehouse_copy).items() if c == "sms"}
    warehouse_copy.dbt(
        "build",
        select=[*CHANNEL_MODELS, "assert_audiences_sms_channel_respects_sms_policy"],
        vars={**warehouse_copy.vars, "sms_quiet_hours": {"start": 11, "end": 18}},
    )
    after = decisions(warehouse_copy)
    assert not [p for p, (c, _) in after.items() if c == "sms"]
    assert {after[p] for p in before} == {(None, "sms_quiet_hours")}
    (quiet,) = warehouse_copy.query(
        "select count(*) from core.sms_contact_policy where not is_quiet_hours "
        "and time_zone is not null"
    )[0]
    assert quiet == 0


def test_email_first_never_uses_sms(warehouse_copy):
    before = decisions(warehouse_copy)
    warehouse_copy.dbt("build", select=CHANNEL_MODELS,
                       vars={**warehouse_copy.vars, "channel_rule": "email_first"})  # fmt: skip
    after = decisions(warehouse_copy)
    assert not [p for p, (c, _) in after.items() if c == "sms"]
    # email goes to exactly the same people
    assert {p for p, (c, _) in after.items() if c == "email"} == {
        p for p, (c, _) in before.items() if c == "email"
    }


@pytest.mark.parametrize("hours", [1, 24])
def test_not_opened_rule_adds_exactly_the_unopened(warehouse_copy, hours):
    """sms_when_email_not_opened: the not-sendable fallback, plus the people whose
    cart email of this entry went out at least `hours` before as_of, unopened
    since, SMS sendable; everyone else keeps their channel."""
    before = decisions(warehouse_copy)
    base = expected_sms_when_not_sendable(warehouse_copy)
    as_of = warehouse_copy.as_of.strftime("%Y-%m-%d %H:%M:%S")
    unopened = dict(
        warehouse_copy.query(
            f"""with sent as (
                    select a.person_id, a.is_control, a.suppression_reason,
                           min(s.sent_at) as sent_at
                    from audiences.cart_abandoners as a
                    join intermediate.int_email_sends_attributed as s
                      on s.person_id = a.person_id and s.program = 'cart_abandoners'
                     and s.sent_at >= a.entered_at
                    group by all)
                select sent.person_id, coalesce(p.is_sms_sendable, false) from sent
                left join core.sms_contact_policy as p on p.person_id = sent.person_id
                where not sent.is_control
                  and coalesce(sent.suppression_reason, '') not in
                      ('cooldown', 'lower_priority_audience')
                  and sent.sent_at <= timestamp '{as_of}' - interval {hours} hour
                  and not exists (
                    select 1 from staging.stg_esp__email_events as e
                    join staging.stg_esp__campaigns as c on c.campaign_id = e.campaign_id
                    where e.customer_id = sent.person_id and c.program = 'cart_abandoners'
                      and e.event_type = 'opened' and e.occurred_at >= sent.sent_at
                      and e.occurred_at <= timestamp '{as_of}')"""
        )
    )
    warehouse_copy.dbt(
        "build",
        select=[*CHANNEL_MODELS, "assert_audiences_sms_channel_respects_sms_policy"],
        vars={
            **warehouse_copy.vars,
            "channel_rule": "sms_when_email_not_opened",
            "sms_fallback_after_hours": hours,
        },
    )
    after = decisions(warehouse_copy)
    sms = {p for p, (c, _) in after.items() if c == "sms"}
    moved = {p for p, sms_ok in unopened.items() if sms_ok}
    assert sms == base | moved
    assert {after[p] for p in moved} <= {("sms", "sms_email_not_opened")}
    # unopened but not sendable by SMS: the email went, no second channel
    assert {after[p][0] for p in set(unopened) - moved} <= {None}
    # nobody else changed channel
    for person, (channel, _) in before.items():
        if person not in unopened:
            assert after[person][0] == channel, person
