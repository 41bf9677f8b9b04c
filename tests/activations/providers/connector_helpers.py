"""Plain helpers shared by the connector tests (fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from activations.contract.records import Record
from activations.providers.registry import EMAIL_PROVIDERS

ESPS = EMAIL_PROVIDERS  # every email provider of the registry
#: the audience each test syncs to, as each connector names it
DESTINATION = {
    "braze": "cart_abandoners",
    "klaviyo": "cart_abandoners",
    "mailchimp": "cart_abandoners",
    "sendgrid": "cart_abandoners",
    "customerio": "7",
}


def people(n: int, *, start: int = 0, **extra: Any) -> list[Record]:
    return [
        Record(
            key=f"u_{i}",
            email=f"person{i}@example.com",
            fields={"first_name": f"Ann{i}", "ltv": 10 + i, **extra},
            hash=f"h{i}",
        )
        for i in range(start, start + n)
    ]


def esp_action(
    sandbox: Any, provider: str, action: str, email: str, **extra: Any
) -> dict[str, Any]:
    """A person's own action in the ESP (unsubscribe, bounce, spam, open, click)."""
    response = httpx.post(
        f"{sandbox.base_url}/_sandbox/{provider}/{action}",
        json={"email": email, **extra},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


def audience(sandbox: Any, provider: str, destination: str) -> dict[str, Any] | None:
    """The list/segment shown in the sandbox for ``destination`` (by name or id)."""
    state = sandbox.state(provider)
    for item in state["providers"][provider].get("lists", []):
        name = str(item.get("name"))
        # Mailchimp shows a tag as "<list> › <tag>"
        if destination in (name, str(item.get("id"))) or name.endswith(f" › {destination}"):
            return item
    return None


def member_emails(sandbox: Any, provider: str, destination: str) -> set[str]:
    found = audience(sandbox, provider, destination)
    return {m["email"] for m in (found or {}).get("members", [])}


def sized(key: str, size: int, provider: Any, chunk: int = 900) -> Record:
    """A record that adds exactly ``size`` bytes to a batch (``provider.record_size``),
    its bulk spread over text fields of at most ``chunk`` characters (ESPs cap a
    single value: Customer.io at 1,000 bytes)."""
    email = f"{key}@example.com"
    fields: dict[str, str] = {}
    while True:
        missing = size - provider.record_size(Record(key=key, email=email, fields=fields))
        if missing == 0:
            return Record(key=key, email=email, fields=fields)
        name = f"a{len(fields)}"
        overhead = len(f',"{name}":""') if fields else len(f'"{name}":""')
        if missing >= overhead + chunk + 40 or not fields:
            fields[name] = "x" * min(chunk, max(0, missing - overhead - 40))
        elif missing > overhead:
            fields[name] = "x" * (missing - overhead)
        else:  # too close to add a field: grow the last one
            last = next(reversed(fields))
            fields[last] = fields[last] + "x" * missing
            assert len(fields[last]) <= chunk + overhead
