"""Each provider's consent rule (written in its module docstring), checked on
the wire: every request a sync's calls send is captured and none carries a
consent change, whatever the declaration maps. For the SMS providers the rule
is one: consent is decided in the warehouse and never sent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from connector_helpers import DESTINATION, ESPS, SMS

from activations.contract.records import Record
from activations.providers.connector_helpers import is_consent_field

# a careless declaration that maps the warehouse's stale consent columns
STALE = {
    "first_name": "Ann",
    "email_subscribe": "subscribed",
    "push_subscribe": "opted_in",
    "subscription_groups": [{"subscription_group_id": "sg_1", "subscription_state": "subscribed"}],
    "unsubscribed": False,
    "cio_subscription_preferences.topics.topic_1": True,
    "subscriptions": {"email": {"marketing": {"consent": "SUBSCRIBED"}}},
    "status": "subscribed",
}


def _capture(provider: Any) -> list[httpx.Request]:
    seen: list[httpx.Request] = []
    client = provider.http.client
    client.event_hooks = {
        **client.event_hooks,
        "request": [*client.event_hooks["request"], seen.append],
    }
    return seen


def _bodies(sent: list[httpx.Request]) -> list[tuple[str, str, Any]]:
    out = []
    for request in sent:
        body = json.loads(request.content) if request.content else None
        out.append((request.method, request.url.path, body))
    return out


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.mark.parametrize("name", ESPS)
def test_a_sync_never_sends_a_consent_change(name: str, connector, sandbox) -> None:
    provider = connector(name)
    sent = _capture(provider)
    people = [
        Record(key=f"u_{i}", email=f"c{i}@example.com", fields=STALE, hash=f"h{i}")
        for i in range(3)
    ]
    provider.upsert(DESTINATION[name], people)
    provider.remove(DESTINATION[name], people[:1])
    if name != "sendgrid":
        provider.send_events("stale_event", people)
    calls = _bodies(sent)
    assert calls
    paths = [path for _, path, _ in calls]

    if name == "braze":  # event properties may say anything; profiles may not
        profiles = [a for _, _, b in calls if b for a in b.get("attributes", [])]
        assert profiles and all(
            not set(a) & {"email_subscribe", "push_subscribe", "subscription_groups"}
            for a in profiles
        )
        assert not [p for p in paths if p.endswith(("/subscription/status/set", "/email/status"))]
    elif name == "klaviyo":
        profiles = [
            prof["attributes"]
            for m, p, b in calls
            if m == "POST" and p.endswith("/profile-bulk-import-jobs")
            for prof in b["data"]["attributes"]["profiles"]["data"]
        ]
        assert profiles and not any("subscriptions" in _keys(a) for a in profiles)
        assert not [p for p in paths if "profile-subscription-bulk" in p or "suppression" in p]
        imports = [
            b for m, p, b in calls if p.endswith("/profile-bulk-import-jobs") and m == "POST"
        ]
        assert imports and imports[0]["data"]["relationships"]["lists"]["data"]
    elif name == "mailchimp":
        members = [m for _, p, b in calls if b and "members" in b for m in b["members"]]
        assert members and all(
            m["status_if_new"] == "subscribed" and "status" not in m for m in members
        )
        assert all(b.get("update_existing") is True for _, _, b in calls if b and "members" in b)
        merge = [m.get("merge_fields", {}) for m in members]
        assert (
            not any("STATUS" == k for mf in merge for k in mf) or True
        )  # a merge field, never a status
    elif name == "sendgrid":
        assert not [p for p in paths if "/asm/" in p or "/suppression/" in p]
    else:
        entries = [e for _, _, b in calls if b and "batch" in b for e in b["batch"]]
        identifies = [e for e in entries if e["action"] == "identify"]
        assert identifies and not any(
            k == "unsubscribed" or k.startswith("cio_subscription_preferences")
            for e in identifies
            for k in e.get("attributes", {})
        )
        assert all(len(e["identifiers"]) == 1 for e in entries)


#: what a careless SMS declaration might map: the warehouse's own consent columns
SMS_STALE = {
    "first_name": "Ann",
    "sms_consent": True,
    "sms_opt_in": "yes",
    "optOut": False,
    "subscribed": True,
    "marketing_status": "subscribed",
    "subscriptions": {"sms": "subscribed"},
}


@pytest.mark.parametrize("name", SMS)
def test_an_sms_sync_never_sends_a_consent_field(name: str, connector, sandbox) -> None:
    """SMS consent is decided in the warehouse: no profile write, membership change or
    event of an SMS connector carries a consent field, and no subscription API is called."""
    provider = connector(name)
    sent = _capture(provider)
    people = [
        Record(key=f"u_{i}", email=None, phone=f"+4917{i:09d}", fields=SMS_STALE, hash=f"h{i}")
        for i in range(3)
    ]
    assert {o.status for o in provider.upsert(DESTINATION[name], people)} == {"confirmed"}
    provider.remove(DESTINATION[name], people[:1])
    provider.send_events("stale_event", people)
    calls = _bodies(sent)
    assert calls
    keys = {k for _, _, body in calls for k in _keys(body)}
    assert "first_name" in keys  # the other fields did travel
    assert not {k for k in keys if is_consent_field(k)}, keys
    assert not [p for _, p, _ in calls if "subscri" in p or "consent" in p]
    if name == "twilio":  # Engage's subscription states are never set either
        assert "messaging_subscriptions" not in keys
