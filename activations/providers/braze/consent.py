"""Braze's suppression lists, read on the connector's own HTTP client (same auth, same
error mapping, same redaction of the key): ``GET /email/unsubscribes``, ``GET
/email/hard_bounces``;
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from activations.contract.signals import Signal, first_time
from activations.providers.http import ApiClient

PAGE = 500


def suppressions(http: ApiClient) -> Iterator[Signal]:
    today = dt.date.today()
    for path, kind, stamp in (
        ("/email/unsubscribes", "unsubscribed", "unsubscribed_at"),
        ("/email/hard_bounces", "bounced", "hard_bounced_at"),
    ):
        offset = 0
        while True:
            params = {
                "start_date": "2000-01-01",
                "end_date": (today + dt.timedelta(days=1)).isoformat(),
                "limit": PAGE,
                "offset": offset,
            }
            emails = http.json(http.request("GET", path, params=params)).get("emails") or []
            for item in emails:
                yield Signal(
                    "braze",
                    str(item.get("email") or ""),
                    kind,
                    first_time(item.get(stamp)),
                    bounce_type="hard" if kind == "bounced" else None,
                )
            if len(emails) < PAGE:
                break
            offset += len(emails)
