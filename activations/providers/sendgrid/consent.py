"""SendGrid's suppression lists, read on the connector's own HTTP client (same auth, same
error mapping, same redaction of the key): ``GET /v3/asm/suppressions/global``,
``/v3/suppression/unsubscribes``, ``/bounces``, ``/spam_reports``;
"""

from __future__ import annotations

from collections.abc import Iterator

from activations.contract.signals import Signal, first_time
from activations.providers.http import ApiClient

PAGE = 500


def suppressions(http: ApiClient) -> Iterator[Signal]:
    for path, kind in (
        ("/v3/asm/suppressions/global", "unsubscribed"),
        ("/v3/suppression/unsubscribes", "unsubscribed"),
        ("/v3/suppression/bounces", "bounced"),
        ("/v3/suppression/spam_reports", "spam"),
    ):
        offset = 0
        while True:
            rows = http.json(http.request("GET", path, params={"limit": PAGE, "offset": offset}))
            rows = rows if isinstance(rows, list) else rows.get("result") or []
            for row in rows:
                yield Signal(
                    "sendgrid",
                    str(row.get("email") or ""),
                    kind,  # type: ignore[arg-type]
                    first_time(row.get("created")),
                    bounce_type="hard" if kind == "bounced" else None,
                )
            if len(rows) < PAGE:
                break
            offset += len(rows)
