"""Customer.io's suppression lists, read on the connector's own HTTP client (same auth,
same error mapping, same redaction of the key): ``GET
/api/v1/customers?unsubscribed=true`` (the sandbox's stand-in for the reporting webhooks
/ App API; the Track API has no read).
"""

from __future__ import annotations

from collections.abc import Iterator

from activations.contract.signals import Signal, first_time
from activations.providers.http import ApiClient


def suppressions(http: ApiClient) -> Iterator[Signal]:
    answer = http.json(http.request("GET", "/api/v1/customers", params={"unsubscribed": "true"}))
    for c in answer.get("customers") or []:
        if c.get("email") and str(c.get("unsubscribed")).lower() in ("true", "1"):
            yield Signal(
                "customerio", str(c["email"]), "unsubscribed", first_time(c.get("updated_at"))
            )
