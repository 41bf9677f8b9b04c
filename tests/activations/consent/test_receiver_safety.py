"""Inbound safety: the receiver takes only what each ESP's own scheme proves it
sent, once, of a sane size, shape and time, and loses nothing under a burst."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import duckdb
import httpx
import pytest
from asgi_server import AsgiServer
from consent_helpers import signed_post

from activations.consent.receiver import create_app
from activations.providers.registry import EMAIL_PROVIDERS, hook_secret_variable
from activations.sandbox.signing import verification_secrets

NOW = int(time.time())


def _unsubscribe(provider: str, email: str, when: object = NOW) -> tuple[object, bool]:
    """An unsubscribe as ``provider`` posts it: (payload, form-encoded?)."""
    if provider == "braze":
        event = {"id": f"ev-{email}", "event_type": "users.messages.email.Unsubscribe",
                 "time": when, "user": {"email_address": email}}
        return {"events": [event]}, False
    if provider == "klaviyo":
        attributes = {"metric": {"name": "Unsubscribed from Email Marketing"},
                      "timestamp": when, "profile": {"email": email}}
        return {"data": [{"type": "event", "id": f"ev-{email}", "attributes": attributes}]}, False
    if provider == "mailchimp":
        fired = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(when)) if isinstance(
            when, int) and 0 <= when < 253402300799 else str(when)
        return {"type": "unsubscribe", "fired_at": fired, "data[email]": email,
                "data[list_id]": "abc"}, True
    if provider == "sendgrid":
        return [{"email": email, "event": "unsubscribe", "timestamp": when,
                 "sg_event_id": f"ev-{email}"}], False
    return {"event_id": f"ev-{email}", "object_type": "email", "metric": "unsubscribed",
            "timestamp": when, "data": {"email_address": email}}, False


def _consents(path: Path) -> list[tuple]:
    conn = duckdb.connect(str(path), read_only=True)
    try:
        return conn.execute("select email, status from raw.consents order by 1").fetchall()
    finally:
        conn.close()


@pytest.mark.parametrize("provider", EMAIL_PROVIDERS)
def test_only_the_providers_own_signature_is_taken(provider: str, receiver, warehouse) -> None:
    payload, form = _unsubscribe(provider, "forged@example.com")
    body = json.dumps(payload).encode() if not form else None
    unsigned = (httpx.post(f"{receiver.url}/hooks/{provider}?token=hook-token-123",
                           data=payload) if form else
                httpx.post(f"{receiver.url}/hooks/{provider}?token=hook-token-123",
                           content=body, headers={"content-type": "application/json"}))
    assert unsigned.status_code == 401, unsigned.text
    wrong = signed_post(receiver.url, provider, payload, form=form, secret="not-the-secret")
    assert wrong.status_code == 401 and "not verified" in wrong.json()["error"]
    assert _consents(warehouse) == [], "a forged unsubscribe lands nothing"

    taken = signed_post(receiver.url, provider, payload, form=form)
    assert taken.status_code == 200 and taken.json()["consents"] == 1, taken.text
    assert _consents(warehouse) == [("forged@example.com", "unsubscribed")]


@pytest.mark.parametrize("provider", ["klaviyo", "sendgrid", "customerio"])
def test_signed_timestamps_stop_replays_and_tampering(provider: str, receiver) -> None:
    from activations.sandbox.signing import DEFAULT_WEBHOOK_SECRETS, sign

    payload, _ = _unsubscribe(provider, "replay@example.com")
    body = json.dumps(payload).encode()
    url = f"{receiver.url}/hooks/{provider}?token=hook-token-123"
    url, headers = sign(provider, url, body, DEFAULT_WEBHOOK_SECRETS[provider], time.time())
    headers = {"content-type": "application/json", **headers}

    tampered = httpx.post(url, content=body.replace(b"replay@", b"victim@"), headers=headers)
    assert tampered.status_code == 401
    first = httpx.post(url, content=body, headers=headers)
    assert first.status_code == 200 and first.json()["consents"] == 1
    again = httpx.post(url, content=body, headers=headers)
    assert again.status_code == 409 and "replay" in again.json()["error"]

    stale = signed_post(receiver.url, provider, payload, now=time.time() - 3600)
    assert stale.status_code == 401 and "stale" in stale.json()["error"]
    ahead = signed_post(receiver.url, provider, payload, now=time.time() + 3600)
    assert ahead.status_code == 401


def test_a_provider_without_a_secret_is_refused_unless_unsigned_is_allowed(
    warehouse: Path,
) -> None:
    payload, _ = _unsubscribe("sendgrid", "someone@example.com")
    strict = AsgiServer(create_app(warehouse, secrets={"klaviyo": "k-secret"}))
    try:
        refused = httpx.post(f"{strict.url}/hooks/sendgrid", json=payload)
        assert refused.status_code == 401
        assert hook_secret_variable("sendgrid") in refused.json()["error"]
        assert httpx.get(f"{strict.url}/health").json()["verified"] == ["klaviyo"]
    finally:
        strict.stop()
    loose = AsgiServer(create_app(warehouse, allow_unsigned=True))
    try:
        assert httpx.post(f"{loose.url}/hooks/sendgrid", json=payload).status_code == 200
    finally:
        loose.stop()


def test_oversized_bodies_are_refused_without_reading_them(receiver, warehouse) -> None:
    big = b"[" + b'{"email": "x@example.com", "event": "open"},' * 1_200_000 + b"{}]"
    assert len(big) > 50_000_000
    started = time.monotonic()
    answer = signed_post(receiver.url, "sendgrid", big, timeout=60)
    assert answer.status_code == 413
    assert time.monotonic() - started < 20
    # and it held no lock: the warehouse opens for writing at once
    duckdb.connect(str(warehouse)).close()

    def chunks():  # no content-length: the receiver stops reading at the limit
        for _ in range(60):
            yield b" " * 1_000_000

    streamed = httpx.post(f"{receiver.url}/hooks/sendgrid?token=hook-token-123",
                          content=chunks(), timeout=60)
    assert streamed.status_code in (401, 413)  # unsigned: refused before its body is read


@pytest.mark.parametrize(
    ("when", "status"),
    [(0, 422), (86_400, 422), (NOW + 400 * 86_400, 422), (10**30, 400),
     ("99999999999999999999999999", 400)],
)
@pytest.mark.parametrize("provider", ["sendgrid", "customerio", "braze"])
def test_implausible_and_impossible_times_are_refused(
    provider: str, when: object, status: int, receiver, warehouse
) -> None:
    payload, form = _unsubscribe(provider, "time@example.com", when)
    answer = signed_post(receiver.url, provider, payload, form=form)
    assert answer.status_code == status, answer.text
    assert "error" in answer.json()
    assert _consents(warehouse) == []


def test_mailchimp_times_out_of_range_are_refused(receiver, warehouse) -> None:
    for fired in ("1970-01-01 00:00:00", "2099-01-01 00:00:00"):
        payload, _ = _unsubscribe("mailchimp", "time@example.com", fired)
        answer = signed_post(receiver.url, "mailchimp", payload, form=True)
        assert answer.status_code == 422 and fired[:4] in answer.json()["error"]
    assert _consents(warehouse) == []


def test_hostile_bodies_and_tokens_get_4xx_never_500(receiver) -> None:
    weird_token = httpx.post(
        f"{receiver.url}/hooks/sendgrid", params={"token": "tökén-ü-😀"}, json=[]
    )
    assert weird_token.status_code == 401
    header_token = httpx.post(
        f"{receiver.url}/hooks/sendgrid",
        headers={"x-webhook-token": "t\u00f6ken".encode()}, json=[],
    )
    assert header_token.status_code == 401
    mailchimp_secret = httpx.post(
        f"{receiver.url}/hooks/mailchimp",
        params={"token": "hook-token-123", "secret": "ß€cret"},
        data={"type": "unsubscribe"},
    )
    assert mailchimp_secret.status_code == 401
    for body in (b"[" * 200_000 + b"]" * 200_000, b'{"events": ' * 100_000, b"\xff\xfe\x00",
                 b"[1, 2, 3]", b'{"events": [1]}', b"null"):
        for provider in ("sendgrid", "braze", "klaviyo", "customerio"):
            answer = signed_post(receiver.url, provider, body)
            assert 400 <= answer.status_code < 500, (provider, body[:20], answer.text)
    braze_sig = httpx.post(
        f"{receiver.url}/hooks/braze?token=hook-token-123",
        headers={"authorization": "Bearer \u00e9\u00e9".encode()}, json={"events": []},
    )
    assert braze_sig.status_code == 401


# ------------------------------------------------------------------ burst


def test_a_burst_of_concurrent_posts_lands_every_event_exactly_once(
    receiver, warehouse: Path
) -> None:
    """N signed deliveries at once from every provider, then each delivered again
    (the ESPs' retries, signed anew): every unsubscribe lands exactly once."""
    per_provider = 60
    deliveries = []
    for provider in EMAIL_PROVIDERS:
        for i in range(per_provider):
            payload, form = _unsubscribe(provider, f"{provider}-{i}@example.com")
            deliveries.append((provider, payload, form))

    async def post_all() -> list[httpx.Response]:
        from urllib.parse import urlencode

        from activations.sandbox.signing import DEFAULT_WEBHOOK_SECRETS, sign

        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:

            async def post(provider: str, payload: object, form: bool) -> httpx.Response:
                body = urlencode(payload).encode() if form else json.dumps(payload).encode()
                url, headers = sign(provider,
                                    f"{receiver.url}/hooks/{provider}?token=hook-token-123",
                                    body, DEFAULT_WEBHOOK_SECRETS[provider], time.time())
                kind = "application/x-www-form-urlencoded" if form else "application/json"
                # a connection per post, as each ESP delivery is (and no keep-alive race)
                return await client.post(url, content=body, headers={
                    "content-type": kind, "connection": "close", **headers})

            return await asyncio.gather(*(post(*d) for d in deliveries))

    started = time.monotonic()
    answers = asyncio.run(post_all())
    first_seconds = time.monotonic() - started
    assert [a.status_code for a in answers] == [200] * len(deliveries)
    assert sum(a.json()["consents"] for a in answers) == len(deliveries)

    started = time.monotonic()
    again = asyncio.run(post_all())
    second_seconds = time.monotonic() - started
    assert [a.status_code for a in again] == [200] * len(deliveries)
    assert sum(a.json()["consents"] for a in again) == 0

    rows = _consents(warehouse)
    assert len(rows) == len(set(rows)) == len(deliveries)
    print(f"\nburst: {len(deliveries)} concurrent deliveries in {first_seconds:.2f} s, "
          f"redelivered in {second_seconds:.2f} s; {len(rows)} consent rows")


# ------------------------------------------------------------------ the command


def test_serve_refuses_to_run_open_by_default() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in {hook_secret_variable(n) for n in EMAIL_PROVIDERS}}

    def serve(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "activations.cli", "webhooks", "serve", "--port", "0", *args],
            env={**env, **extra}, capture_output=True, text=True, timeout=60,
        )

    nothing = serve()
    assert nothing.returncode == 2
    assert "no provider has a webhook secret" in nothing.stderr
    assert "SENDGRID_WEBHOOK_PUBLIC_KEY" in nothing.stderr
    exposed = serve("--host", "0.0.0.0", "--allow-unsigned")
    assert exposed.returncode == 2 and "refused on --host 0.0.0.0" in exposed.stderr
    bad_key = serve(SENDGRID_WEBHOOK_PUBLIC_KEY="not a key")
    assert bad_key.returncode == 2 and "not a public key" in bad_key.stderr
    assert "Traceback" not in nothing.stderr + exposed.stderr + bad_key.stderr


def test_sandbox_publishes_the_sendgrid_verification_key(sandbox) -> None:
    answer = httpx.get(
        f"{sandbox.url('sendgrid')}/v3/user/webhooks/event/settings/signed",
        headers={"authorization": "Bearer SG.sandbox-sendgrid-key"},
    )
    assert answer.status_code == 200
    assert answer.json()["public_key"] == verification_secrets()["sendgrid"]
