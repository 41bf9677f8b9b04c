"""Klaviyo's suppression lists, read on the connector's own HTTP client (same auth, same
error mapping, same redaction of the key): ``GET /api/profiles?additional-
fields[profile]=subscriptions``: consent ``UNSUBSCRIBED`` and the ``UNSUBSCRIBE`` /
``HARD_BOUNCE`` / ``SPAM_REPORT`` suppressions;
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from activations.contract.signals import Signal, first_time
from activations.providers.http import ApiClient

_KLAVIYO_REASONS = {"UNSUBSCRIBE": "unsubscribed", "HARD_BOUNCE": "bounced", "SPAM_REPORT": "spam"}


def suppressions(http: ApiClient) -> Iterator[Signal]:
    url: str | None = "/api/profiles"
    params: dict[str, Any] | None = {
        "additional-fields[profile]": "subscriptions",
        "page[size]": 100,
    }
    while url:
        page = http.json(http.request("GET", url, params=params))
        for item in page.get("data") or []:
            attrs = item.get("attributes") or {}
            email = str(attrs.get("email") or "")
            marketing = (
                ((attrs.get("subscriptions") or {}).get("email") or {}).get("marketing")
            ) or {}
            kinds: dict[str, dt.datetime] = {}
            for suppression in marketing.get("suppression") or []:
                kind = _KLAVIYO_REASONS.get(str(suppression.get("reason") or "").upper())
                if kind:
                    kinds.setdefault(kind, first_time(suppression.get("timestamp")))
            if (
                str(marketing.get("consent") or "").upper() == "UNSUBSCRIBED"
                and "unsubscribed" not in kinds
            ):
                kinds["unsubscribed"] = first_time(
                    marketing.get("consent_timestamp"), attrs.get("updated")
                )
            for kind, when in kinds.items():
                yield Signal(
                    "klaviyo",
                    email,
                    kind,
                    when,  # type: ignore[arg-type]
                    bounce_type="hard" if kind == "bounced" else None,
                    provider_event_id=f"{item.get('id')}:{kind}",
                )
        url = (page.get("links") or {}).get("next")
        params = None
