"""Consent flowing back: the pull-back reads each ESP's suppression lists, the
receiver takes each ESP's reporting webhooks, and both land in raw.consents and
raw.email_events exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb
import httpx
import pytest
from consent_helpers import settings_for, signed_post

from activations.consent.pull import pull
from activations.contract.records import Record
from activations.providers.registry import make_provider

ESPS = ("braze", "klaviyo", "mailchimp", "sendgrid", "customerio")
DESTINATION = {"customerio": "7"}


def _seed_people(sandbox, name: str, emails: list[str]) -> None:
    provider = make_provider(name, settings_for(sandbox, name))
    try:
        records = [
            Record(key=f"u_{i}", email=e, fields={"first_name": "A"}) for i, e in enumerate(emails)
        ]
        provider.upsert(DESTINATION.get(name, "newsletter"), records)
    finally:
        provider.close()


def _rows(path: Path, sql: str) -> list[tuple]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("name", ESPS)
def test_pull_lands_each_unsubscribe_once(name: str, sandbox, warehouse: Path) -> None:
    emails = ["person0@example.com", "person1@example.com", "person2@example.com"]
    _seed_people(sandbox, name, emails)
    sandbox.person(name, "unsubscribe", emails[0])
    if name != "customerio":
        sandbox.person(name, "bounce", emails[1])

    conn = duckdb.connect(str(warehouse))
    try:
        first = pull(conn, name, settings_for(sandbox, name))
        again = pull(conn, name, settings_for(sandbox, name))
    finally:
        conn.close()
    assert first.consents >= 1 and again.consents == 0 and again.email_events == 0

    consents = _rows(
        warehouse, "select email, status, source, customer_id, channel from raw.consents"
    )
    assert ("person0@example.com", "unsubscribed", "esp", "c_1", "email") in consents
    if name != "customerio":
        assert any(e == emails[1] and s == "bounced" for e, s, *_ in consents)
    assert not any(e == emails[2] for e, *_ in consents), (
        "someone who did nothing is not suppressed"
    )
    events = _rows(warehouse, "select email, event_type, provider from raw.email_events")
    assert ("person0@example.com", "unsubscribed", name) in events


@pytest.mark.parametrize("name", ESPS)
def test_webhook_lands_unsubscribes_spam_and_opens(
    name: str, sandbox, receiver, warehouse: Path
) -> None:
    sandbox.configure(webhook_url=f"{receiver.url}/hooks/{{provider}}?token=hook-token-123")
    emails = ["person0@example.com", "person1@example.com", "person2@example.com"]
    _seed_people(sandbox, name, emails)
    answer = sandbox.person(name, "unsubscribe", emails[0])
    assert answer["webhook"]["status"] == 200
    sandbox.person(name, "spam", emails[1])
    sandbox.person(name, "open", emails[2])

    consents = _rows(
        warehouse, "select email, status, source, customer_id from raw.consents order by 1"
    )
    assert ("person0@example.com", "unsubscribed", "esp", "c_1") in consents
    assert any(e == emails[1] and s in ("spam_complaint", "unsubscribed") for e, s, *_ in consents)
    assert not any(e == emails[2] for e, *_ in consents), "an open changes no consent"
    events = _rows(warehouse, "select email, event_type, provider from raw.email_events")
    assert ("person0@example.com", "unsubscribed", name) in events
    if name != "mailchimp":  # Mailchimp has no open webhook
        assert (emails[2], "opened", name) in events

    # the ESP delivers the same webhook again: nothing new lands
    delivered = sandbox.webhooks()[0]
    resent = _resend(receiver, name, delivered["payload"])
    assert resent.status_code == 200 and resent.json()["consents"] == 0
    assert resent.json()["email_events"] == 0


def _resend(receiver, name: str, payload) -> httpx.Response:
    """The ESP's redelivery: the same payload, signed again at its new send time (a
    later second: the very same signature again is a replay, answered 409)."""
    return signed_post(receiver.url, name, payload, form=name == "mailchimp", now=time.time() + 2)


def test_receiver_refuses_what_it_cannot_trust_or_read(receiver) -> None:
    url = f"{receiver.url}/hooks/sendgrid"
    body = [{"email": "a@example.com", "event": "unsubscribe", "timestamp": int(time.time())}]
    assert httpx.post(url, json=body).status_code == 401
    assert httpx.post(url + "?token=wrong", json=body).status_code == 401
    unsigned = httpx.post(url + "?token=hook-token-123", json=body)
    assert unsigned.status_code == 401 and "not verified" in unsigned.json()["error"]
    bad = signed_post(receiver.url, "sendgrid", b"{not json")
    assert bad.status_code == 400 and "not JSON" in bad.json()["error"]
    shape = signed_post(receiver.url, "sendgrid", {"event": "x"})
    assert shape.status_code == 400 and "array" in shape.json()["error"]
    assert (
        httpx.post(f"{receiver.url}/hooks/hubspot?token=hook-token-123", json={}).status_code == 404
    )
    assert httpx.get(f"{receiver.url}/hooks/mailchimp").status_code == 200


def test_receiver_answers_503_while_the_warehouse_is_locked(receiver, warehouse: Path) -> None:
    import subprocess
    import sys

    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(warehouse)!r}); "
            "print('ready', flush=True); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    body = [{"email": "a@example.com", "event": "unsubscribe", "timestamp": int(time.time())}]
    try:
        assert holder.stdout.readline().strip() == "ready"
        answer = signed_post(receiver.url, "sendgrid", body)
        assert answer.status_code == 503 and answer.headers["retry-after"]
        assert "locked" in answer.json()["error"]
    finally:
        holder.stdin.close()
        holder.wait(timeout=10)
    # SendGrid's retry (signed again) gets through once the lock is gone
    again = signed_post(receiver.url, "sendgrid", body)
    assert again.status_code == 200 and again.json()["consents"] == 1
