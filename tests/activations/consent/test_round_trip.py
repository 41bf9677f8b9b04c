"""The consent round trip through the sync engine, per provider: sync an
audience to the sandbox, the person unsubscribes in the ESP, the unsubscribe
comes back (pull-back or webhook) into raw.consents, the audience is recomputed
from consent, and the next sync takes the person out and never re-subscribes
them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from asgi_server import AsgiServer
from consent_helpers import raw_warehouse, settings_for
from sandbox_syncs import run_and_close, sandbox_credentials

from activations.consent.pull import pull
from activations.consent.receiver import create_app
from activations.sandbox.signing import verification_secrets
from activations.sync import engine
from activations.sync.specs import SyncSpec

ESPS = ("braze", "klaviyo", "mailchimp", "sendgrid", "customerio")
DESTINATION = {"customerio": "11"}
PEOPLE = [
    ("c_1", "ann@example.com", "Ann"),
    ("c_2", "bo@example.com", "Bo"),
    ("c_3", "cy@example.com", "Cy"),
]

# a tiny audience whose sendability comes from consent, as the contact policy's does
AUDIENCE_SQL = """
create or replace view demo.newsletter as
with latest as (
    select
        lower(trim(email)) as email,
        status,
        row_number() over (partition by lower(trim(email)) order by changed_at desc) as change_rank
    from raw.consents
    where channel = 'email'
)
select
    customers.customer_id as person_id,
    customers.email,
    customers.first_name,
    coalesce(latest.status = 'subscribed', false) as is_sendable
from raw.customers as customers
left join latest
    on latest.email = lower(trim(customers.email)) and latest.change_rank = 1
"""


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    path = tmp_path / "shop.duckdb"
    conn = raw_warehouse(path)
    conn.executemany(
        "insert into raw.customers (customer_id, email, first_name) values (?, ?, ?)", PEOPLE
    )
    conn.executemany(
        "insert into raw.consents values (?, ?, ?, 'email', 'subscribed', 'popup', "
        "timestamp '2026-01-01 10:00:00', timestamp '2026-01-01 09:00:00')",
        [(f"pop_{cid}", cid, email) for cid, email, _ in PEOPLE],
    )
    conn.execute("create schema demo")
    conn.execute(AUDIENCE_SQL)
    conn.close()
    return path


def _spec(sandbox: Any, name: str) -> SyncSpec:
    return SyncSpec(
        name=f"newsletter_{name}",
        audience="demo.newsletter",
        provider=name,
        destination=DESTINATION.get(name, "newsletter"),
        mode="mirror",
        fields={"first_name": "first_name"},
        guards={"max_removal_share": 1.0},
        credentials=sandbox_credentials(sandbox, name, "ROUND_TRIP_KEY"),
    )


def _sync(shop: Path, spec: SyncSpec) -> engine.RunReport:
    return run_and_close(duckdb.connect(str(shop)), spec, "ROUND_TRIP_KEY")


def _members(sandbox: Any, name: str, destination: str) -> dict[str, Any]:
    for item in sandbox.state(name)["providers"][name]["lists"]:
        label = str(item["name"])
        if destination in (label, str(item["id"])) or label.endswith(f" › {destination}"):
            return {m["email"]: m for m in item["members"]}
    return {}


def _consent_of(sandbox: Any, name: str, email: str) -> str:
    """The person's email consent as the ESP itself reports it (its own read API)."""
    import hashlib

    import httpx

    from activations.providers.registry import make_provider

    provider = make_provider(name, settings_for(sandbox, name))
    http = provider.http
    try:
        if name == "braze":
            body = {"email_address": email, "fields_to_export": ["email_subscribe"]}
            users = http.json(http.request("POST", "/users/export/ids", body=body))["users"]
            return str(users[0]["email_subscribe"])
        if name == "klaviyo":
            params = {
                "filter": f'equals(email,"{email}")',
                "additional-fields[profile]": "subscriptions",
            }
            (profile,) = http.json(http.request("GET", "/api/profiles", params=params))["data"]
            return str(profile["attributes"]["subscriptions"]["email"]["marketing"]["consent"])
        if name == "mailchimp":
            list_id = provider.list_id("Shop")
            member_hash = hashlib.md5(email.encode()).hexdigest()  # noqa: S324
            return str(
                http.json(http.request("GET", f"/lists/{list_id}/members/{member_hash}"))["status"]
            )
        if name == "sendgrid":
            rows = http.json(http.request("GET", "/v3/asm/suppressions/global"))
            return "unsubscribed" if any(r["email"] == email for r in rows) else "subscribed"
        customers = httpx.get(
            f"{sandbox.url('customerio')}/api/v1/customers",
            params={"unsubscribed": "true"},
            auth=("sandbox-site", "sandbox-cio-key"),
        ).json()["customers"]
        return "unsubscribed" if any(c["email"] == email for c in customers) else "subscribed"
    finally:
        provider.close()


# every provider through the pull-back; the webhook path (each provider's body is
# covered in test_consent.py) end to end for the JSON and the form-encoded kinds
CASES = [(name, "pull") for name in ESPS] + [("klaviyo", "webhook"), ("mailchimp", "webhook")]


@pytest.mark.parametrize(("name", "via"), CASES)
def test_unsubscribe_in_the_esp_takes_the_person_out_and_never_back(
    name: str, via: str, sandbox, shop: Path
) -> None:
    spec = _spec(sandbox, name)
    destination = spec.destination
    first = _sync(shop, spec)
    assert first.confirmed == 3
    assert set(_members(sandbox, name, destination)) == {e for _, e, _ in PEOPLE}

    # Ann unsubscribes in the ESP; the unsubscribe comes back to the warehouse
    if via == "webhook":
        receiver = AsgiServer(create_app(shop, secrets=verification_secrets()))
        sandbox.configure(webhook_url=f"{receiver.url}/hooks/{{provider}}")
        try:
            unsubscribed = sandbox.person(name, "unsubscribe", "ann@example.com")
        finally:
            receiver.stop()
        assert unsubscribed["webhook"]["status"] == 200
    else:
        sandbox.person(name, "unsubscribe", "ann@example.com")
        conn = duckdb.connect(str(shop))
        try:
            assert pull(conn, name, settings_for(sandbox, name)).consents >= 1
        finally:
            conn.close()
    consent_before = _consent_of(sandbox, name, "ann@example.com")

    # Bo changes his name: the next sync has a real change to send alongside
    conn = duckdb.connect(str(shop))
    conn.execute("update raw.customers set first_name = 'Bob' where customer_id = 'c_2'")
    sendable = dict(conn.execute("select email, is_sendable from demo.newsletter").fetchall())
    conn.close()
    assert sendable == {"ann@example.com": False, "bo@example.com": True, "cy@example.com": True}

    before = len(sandbox.requests(name))
    second = _sync(shop, spec)
    assert second.removed == 1 and second.changed == 1
    members = _members(sandbox, name, destination)
    assert set(members) == {"bo@example.com", "cy@example.com"}
    assert "Bob" in repr(members["bo@example.com"]["attributes"])

    third = _sync(shop, spec)
    assert third.sent == 0, "nothing left to do: Ann is not sent again"
    assert _consent_of(sandbox, name, "ann@example.com") == consent_before
    assert consent_before.lower() == "unsubscribed"
    assert "ann@example.com" not in _members(sandbox, name, destination)
    forbidden = ("subscription-bulk-create", "/subscription/status/set", "/email/status")
    after = sandbox.requests(name)[before:]
    assert not [r for r in after if any(f in r["path"] for f in forbidden)]
