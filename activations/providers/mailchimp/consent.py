"""Mailchimp's suppression lists, read on the connector's own HTTP client (same auth, same
error mapping, same redaction of the key): ``GET
/lists/{id}/members?status=unsubscribed`` and ``status=cleaned``, every list;
"""

from __future__ import annotations

from collections.abc import Iterator

from activations.contract.signals import Signal, first_time
from activations.providers.http import ApiClient


def suppressions(http: ApiClient) -> Iterator[Signal]:
    lists = http.json(http.request("GET", "/lists", params={"count": 1000})).get("lists") or []
    for item in lists:
        list_id = item["id"]
        for status, kind in (("unsubscribed", "unsubscribed"), ("cleaned", "bounced")):
            offset = 0
            while True:
                page = http.json(
                    http.request(
                        "GET",
                        f"/lists/{list_id}/members",
                        params={"status": status, "count": 1000, "offset": offset},
                    )
                )
                members = page.get("members") or []
                for m in members:
                    yield Signal(
                        "mailchimp",
                        str(m.get("email_address") or ""),
                        kind,  # type: ignore[arg-type]
                        first_time(m.get("last_changed"), m.get("timestamp_opt")),
                        bounce_type="hard" if kind == "bounced" else None,
                        campaign_id=None,
                    )
                offset += len(members)
                if not members or offset >= int(page.get("total_items") or 0):
                    break
