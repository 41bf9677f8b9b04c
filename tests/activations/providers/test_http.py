"""The shared connector plumbing: JSON of warehouse values, redaction of keys,
and each ESP's "wait" signal read from real HTTP answers."""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import time
from decimal import Decimal

import httpx
import pytest
from asgi_server import AsgiServer
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from activations.contract.records import (
    PermanentError,
    ProviderSettings,
    Record,
    TransientError,
)
from activations.providers.http import (
    ApiClient,
    encode_json,
    flat_value,
    redact,
    reset_epoch_seconds,
    retry_after_seconds,
    secret_variants,
)
from activations.providers.webhook.connector import WebhookProvider


def test_warehouse_values_encode_as_plain_json() -> None:
    body = {
        "ltv": Decimal("120.50"),
        "orders": Decimal("3"),
        "at": dt.datetime(2026, 5, 1, 12, 0, 0),
        "birthday": dt.date(1990, 2, 3),
        "items": ({"sku": "a", "price": Decimal("1.25")},),
        "nan": float("nan"),
    }
    assert json.loads(encode_json(body)) == {
        "ltv": 120.5,
        "orders": 3,
        "at": "2026-05-01T12:00:00Z",
        "birthday": "1990-02-03",
        "items": [{"sku": "a", "price": 1.25}],
        "nan": None,
    }
    assert flat_value([{"sku": "a"}]) == '[{"sku":"a"}]'
    assert flat_value(Decimal("2")) == 2


def test_every_form_of_the_key_is_redacted() -> None:
    secret = "site-123456:key-abcdef"
    text = "Basic " + secret_variants(secret)[-1] + f" {secret} site-123456 key-abcdef"
    cleaned = redact(text, secret_variants(secret))
    assert "site-123456" not in cleaned and "key-abcdef" not in cleaned
    for user in ("anystring", "activations"):
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        assert token not in redact(token, secret_variants(secret))


def _answer(status: int, headers: dict[str, str]) -> httpx.Response:
    return httpx.Response(status, headers=headers, request=httpx.Request("GET", "http://x/"))


def test_wait_signals() -> None:
    assert retry_after_seconds(_answer(429, {"Retry-After": "7"})) == 7
    assert retry_after_seconds(_answer(429, {})) is None
    reset = reset_epoch_seconds("x-ratelimit-reset")
    soon = str(int(time.time()) + 5)
    assert 3 <= reset(_answer(429, {"X-RateLimit-Reset": soon})) <= 5
    assert reset(_answer(429, {"X-RateLimit-Reset": str(int(time.time()) - 30)})) == 0
    assert reset(_answer(429, {})) is None


def _echo_app() -> FastAPI:
    """Answers with the status it is told to, echoing the Authorization header back
    the way a careless API might."""
    app = FastAPI()

    @app.post("/answer/{status}")
    async def answer(status: int, request: Request) -> JSONResponse:
        return JSONResponse({"error": f"bad key {request.headers.get('authorization')}"}, status)

    return app


@pytest.fixture(scope="module")
def echo():
    server = AsgiServer(_echo_app())
    yield server
    server.stop()


@pytest.mark.parametrize(
    ("status", "error"),
    [(401, PermanentError), (400, PermanentError), (429, TransientError), (503, TransientError)],
)
def test_answers_map_to_the_frameworks_errors_without_the_key(echo, status, error) -> None:
    secret = "sk-live-0123456789abcdef"
    client = ApiClient(
        "demo", ProviderSettings(echo.url, secret), headers={"authorization": f"Bearer {secret}"}
    )
    try:
        with pytest.raises(error) as raised:
            client.request("POST", f"/answer/{status}", body={"a": 1})
    finally:
        client.close()
    assert raised.value.status == status
    assert secret not in str(raised.value) and "***" in str(raised.value)


def test_connection_refused_is_transient() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    client = ApiClient("demo", ProviderSettings(f"http://127.0.0.1:{port}", "k" * 12, timeout=2))
    with pytest.raises(TransientError, match="connection failed"):
        client.request("GET", "/")
    client.close()


# ---------------------------------------------------------------- regressions (hostile answers)


def _webhook_app() -> FastAPI:
    """A webhook endpoint gone wrong: a redirect, a login page answered 200."""
    app = FastAPI()

    @app.post("/moved")
    async def moved() -> Response:
        return Response(status_code=302, headers={"location": "/login"})

    @app.post("/login-page")
    async def login_page() -> Response:
        return Response("<html><body>Please sign in</body></html>", 200, media_type="text/html")

    @app.post("/long")
    async def long_error(request: Request) -> Response:
        # echoes the key so that it straddles the point where the error text is cut
        return Response("x" * 290 + request.headers.get("x-key", "") + "y" * 50, 400)

    return app


@pytest.fixture(scope="module")
def bad_webhook():
    server = AsgiServer(_webhook_app())
    yield server
    server.stop()


def _webhook(url: str, key: str = "whsec-0123456789abcdef") -> WebhookProvider:
    return WebhookProvider(ProviderSettings(base_url=url, api_key=key, timeout=5))


def _one() -> list[Record]:
    return [Record(key="p1", email="p1@example.com", fields={"a": 1}, hash="h1")]


def test_a_redirect_from_a_webhook_is_not_a_delivery(bad_webhook) -> None:
    provider = _webhook(bad_webhook.url)
    try:
        with pytest.raises(PermanentError, match=r"answered 302.*a redirect is not a delivery"):
            provider.upsert("/moved", _one())
    finally:
        provider.close()


def test_a_non_json_200_from_a_webhook_confirms_nothing(bad_webhook) -> None:
    provider = _webhook(bad_webhook.url)
    try:
        with pytest.raises(PermanentError, match="not JSON .*nothing is confirmed"):
            provider.upsert("/login-page", _one())
    finally:
        provider.close()


@pytest.mark.parametrize("key", ["key-with\nnewline-123", "key-ünicode-123", "key\twith-tab"])
def test_a_key_a_header_cannot_carry_is_refused_before_any_request(key: str) -> None:
    with pytest.raises(PermanentError, match="character an HTTP header cannot carry") as raised:
        ApiClient("demo", ProviderSettings("http://127.0.0.1:9", key))
    assert key not in str(raised.value)


def test_error_text_is_redacted_before_it_is_cut(bad_webhook) -> None:
    secret = "whsec-straddles-the-cut-0123456789"
    client = ApiClient("demo", ProviderSettings(bad_webhook.url, secret), headers={"x-key": secret})
    try:
        with pytest.raises(PermanentError) as raised:
            client.request("POST", "/long")
    finally:
        client.close()
    text = str(raised.value)
    # no prefix of the key survives the cut (it was replaced whole, then cut)
    assert "whsec-str" not in text and "***" in text


def test_a_wait_announced_on_a_429_holds_every_request_of_the_client() -> None:
    """Found by the fault suite: a Retry-After answered to one thread paced only the
    delivery bucket, so another thread's job poll went out before the wait was over."""
    now = [100.0]
    seen: list[tuple] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(("sent", request.url.path, now[0]))
        if request.url.path == "/busy":
            return httpx.Response(429, headers={"Retry-After": "5"})
        return httpx.Response(200, json={})

    def sleep(seconds: float) -> None:
        seen.append(("slept", seconds))
        now[0] += seconds

    api = ApiClient("klaviyo", ProviderSettings(base_url="http://esp", api_key="k" * 12),
                    retry_after=retry_after_seconds, clock=lambda: now[0], sleep=sleep)
    api.client = httpx.Client(base_url="http://esp", transport=httpx.MockTransport(handler))
    with pytest.raises(TransientError) as throttled:
        api.request("GET", "/busy")
    assert throttled.value.retry_after == 5
    api.request("GET", "/jobs/1")  # any later request of this client (a job poll) waits first
    api.request("GET", "/jobs/1")  # and the wait is spent once
    assert seen == [("sent", "/busy", 100.0), ("slept", 5.0), ("sent", "/jobs/1", 105.0),
                    ("sent", "/jobs/1", 105.0)]

