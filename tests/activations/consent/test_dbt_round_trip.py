"""The consent round trip on the real project: a built warehouse, a sync of an
audience to the sandbox, an unsubscribe in the ESP, the pull-back, ``dbt run``
of the contact policy and what depends on it, and the next sync, which takes
the person out and never re-subscribes them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from consent_helpers import settings_for
from sandbox_syncs import run_and_close, sandbox_credentials

from activations.consent.pull import pull
from activations.sync import engine
from activations.sync.specs import SyncSpec

pytestmark = pytest.mark.slow


def _sync(warehouse: Any, spec: SyncSpec) -> engine.RunReport:
    return run_and_close(warehouse.connect(), spec, "DBT_ROUND_TRIP_KEY")


def test_unsubscribe_pulled_back_is_excluded_by_the_contact_policy(warehouse_copy, sandbox) -> None:
    # the unsubscribe happens now, so the warehouse is computed as of a moment after it
    as_of = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).strftime("%Y-%m-%d %H:00:00")
    warehouse_copy.dbt("run", select=["+dormant_customers"], vars={"as_of": as_of})
    sendable = warehouse_copy.query(
        "select person_id, email from audiences.dormant_customers where is_sendable order by 1"
    )
    assert len(sendable) >= 5, "the dormant audience has sendable people at this as_of"
    spec = SyncSpec(
        name="dormant_klaviyo",
        audience="dormant_customers",
        provider="klaviyo",
        destination="dormant",
        mode="mirror",
        fields={"coupon_value": "coupon_value", "recency": "recency_bucket"},
        guards={"max_removal_share": 1.0},
        credentials=sandbox_credentials(sandbox, "klaviyo", "DBT_ROUND_TRIP_KEY"),
    )
    first = _sync(warehouse_copy, spec)
    assert first.confirmed == len(sendable)

    person, email = sendable[0]
    sandbox.person("klaviyo", "unsubscribe", email)
    conn = warehouse_copy.connect()
    try:
        assert pull(conn, "klaviyo", settings_for(sandbox, "klaviyo")).consents == 1
    finally:
        conn.close()
    # the contact policy and the audience, rebuilt by dbt
    warehouse_copy.dbt("run", select=["contact_policy+,+dormant_customers"], vars={"as_of": as_of})
    ((can_email, reason),) = warehouse_copy.query(
        "select can_email_marketing, reason from core.contact_policy where person_id = ?", [person]
    )
    assert can_email is False and reason == "unsubscribed"
    ((is_sendable,),) = warehouse_copy.query(
        "select is_sendable from audiences.dormant_customers where person_id = ?", [person]
    )
    assert is_sendable is False

    second = _sync(warehouse_copy, spec)
    assert second.removed == 1
    (shown,) = sandbox.state("klaviyo", members=10_000)["providers"]["klaviyo"]["lists"]
    assert email not in {m["email"] for m in shown["members"]}
    assert shown["member_count"] == len(sendable) - 1
    assert _sync(warehouse_copy, spec).sent == 0
    assert not [r for r in sandbox.requests("klaviyo") if "subscription-bulk-create" in r["path"]]
