"""Pull-back: read each ESP's unsubscribe, bounce and spam lists and land them.

One reader per provider, each on the connector's own HTTP client (same auth,
same error mapping, same redaction of the key):

- Braze: ``GET /email/unsubscribes``, ``GET /email/hard_bounces``;
- Klaviyo: ``GET /api/profiles?additional-fields[profile]=subscriptions``: consent
  ``UNSUBSCRIBED`` and the ``UNSUBSCRIBE`` / ``HARD_BOUNCE`` / ``SPAM_REPORT`` suppressions;
- Mailchimp: ``GET /lists/{id}/members?status=unsubscribed`` and ``status=cleaned``, every list;
- SendGrid: ``GET /v3/asm/suppressions/global``, ``/v3/suppression/unsubscribes``,
  ``/bounces``, ``/spam_reports``;
- Customer.io: ``GET /api/v1/customers?unsubscribed=true`` (the sandbox's stand-in for the
  reporting webhooks / App API; the Track API has no read).

Pulling is idempotent: the same suppression pulled twice lands once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

from activations.consent.signals import Landed, Signal, first_time, land
from activations.contract.records import ProviderSettings
from activations.errors import UserError
from activations.providers.http import ApiClient

Reader = Callable[[ApiClient], Iterator[Signal]]
PAGE = 500


def braze(http: ApiClient) -> Iterator[Signal]:
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


_KLAVIYO_REASONS = {"UNSUBSCRIBE": "unsubscribed", "HARD_BOUNCE": "bounced", "SPAM_REPORT": "spam"}


def klaviyo(http: ApiClient) -> Iterator[Signal]:
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


def mailchimp(http: ApiClient) -> Iterator[Signal]:
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


def sendgrid(http: ApiClient) -> Iterator[Signal]:
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


def customerio(http: ApiClient) -> Iterator[Signal]:
    answer = http.json(http.request("GET", "/api/v1/customers", params={"unsubscribed": "true"}))
    for c in answer.get("customers") or []:
        if c.get("email") and str(c.get("unsubscribed")).lower() in ("true", "1"):
            yield Signal(
                "customerio", str(c["email"]), "unsubscribed", first_time(c.get("updated_at"))
            )


READERS: dict[str, Reader] = {
    "braze": braze,
    "klaviyo": klaviyo,
    "mailchimp": mailchimp,
    "sendgrid": sendgrid,
    "customerio": customerio,
}


def pull(conn: Any, name: str, settings: ProviderSettings) -> Landed:
    """Read ``name``'s suppression lists with ``settings`` and land them in ``conn``
    (a DuckDB or PostgreSQL connection)."""
    from activations.providers.registry import make_provider

    if name not in READERS:
        raise UserError(
            f"no consent pull-back for provider {name!r}", hint=f"use one of: {', '.join(READERS)}"
        )
    provider = make_provider(name, settings)
    try:
        signals = list(READERS[name](provider.http))  # type: ignore[attr-defined]
    finally:
        provider.close()  # type: ignore[attr-defined]
    return land(conn, signals)
