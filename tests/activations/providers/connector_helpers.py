"""Plain helpers shared by the connector tests (fixtures are in conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from activations.contract.records import Record
from activations.providers.registry import EMAIL_PROVIDERS, SMS_PROVIDERS, entry

ESPS = EMAIL_PROVIDERS  # every email provider of the registry
SMS = SMS_PROVIDERS  # every SMS provider of the registry
CONNECTORS = (*ESPS, *SMS)  # every provider the sandbox emulates
#: the audience each test syncs to, as each connector names it
DESTINATION = {
    "braze": "cart_abandoners",
    "klaviyo": "cart_abandoners",
    "mailchimp": "cart_abandoners",
    "sendgrid": "cart_abandoners",
    "customerio": "7",
    "infobip": "cart_abandoners",  # a tag
    "twilio": "cart_abandoners",  # a boolean trait
}


def is_sms(provider: str | None) -> bool:
    return provider is not None and entry(provider).channel == "sms"


def phone(i: int) -> str:
    """A distinct E.164 number per person (German mobile range)."""
    return f"+4915{i:09d}"


def person(i: int, provider: str | None = None, **extra: Any) -> Record:
    """Person ``i`` as ``provider``'s channel addresses them: by email, or for an SMS
    provider by phone (and no email, which an SMS audience may well lack)."""
    sms = is_sms(provider)
    return Record(
        key=f"u_{i}",
        email=None if sms else f"person{i}@example.com",
        phone=phone(i) if sms else None,
        fields={"first_name": f"Ann{i}", "ltv": 10 + i, **extra},
        hash=f"h{i}",
    )


def people(n: int, *, start: int = 0, provider: str | None = None, **extra: Any) -> list[Record]:
    return [person(i, provider, **extra) for i in range(start, start + n)]


def address(record: Record) -> str | None:
    """What the provider shows a member by: the phone for SMS, else the email."""
    return record.phone or record.email


def unreachable(provider: str, key: str = "u_bad") -> Record:
    """A record the provider refuses per record: a malformed address."""
    if is_sms(provider):
        return Record(key=key, email=None, phone="0151 1234", fields={"first_name": "Bad"})
    return Record(key=key, email="not-an-email", fields={"first_name": "Bad"})


def fixed(provider: str, key: str = "u_bad") -> Record:
    """``unreachable(provider, key)`` with its address put right."""
    if is_sms(provider):
        return Record(key=key, email=None, phone="+4915199999999", fields={"first_name": "Fixed"})
    return Record(key=key, email="fixed@example.com", fields={"first_name": "Fixed"})


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
    """The members' addresses: emails, or for an SMS provider phones."""
    found = audience(sandbox, provider, destination)
    field = "phone" if is_sms(provider) else "email"
    return {m[field] for m in (found or {}).get("members", [])}


def sized(key: str, size: int, provider: Any, chunk: int = 900) -> Record:
    """A record that adds exactly ``size`` bytes to a batch (``provider.record_size``),
    its bulk spread over text fields of at most ``chunk`` characters (ESPs cap a
    single value: Customer.io at 1,000 bytes)."""
    sms = is_sms(provider.name)
    email, number = (None, phone(abs(hash(key)) % 10**9)) if sms else (f"{key}@example.com", None)
    fields: dict[str, str] = {}
    while True:
        record = Record(key=key, email=email, phone=number, fields=fields)
        missing = size - provider.record_size(record)
        if missing == 0:
            return record
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
