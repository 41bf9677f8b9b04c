"""The sandbox app: one FastAPI app, one router per provider under its prefix.

Every provider request first passes the gate (``SandboxApp.__call__``):
faults (latency, dropped connection, 5xx, 429 storm), the provider's auth,
its rate limits and concurrency cap, the rate-limit headers it sends, and the
request log (method, path, status, body size, record count; never headers).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, Literal

from fastapi import FastAPI, HTTPException, Query
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.types import Message, Receive, Scope, Send

from activations.sandbox import (
    braze,
    customerio,
    infobip,
    klaviyo,
    mailchimp,
    page,
    sendgrid,
    twilio,
)
from activations.sandbox.common import Reply
from activations.sandbox.core import ACTIONS, Sandbox
from activations.sandbox.faults import Faults
from activations.sandbox.limits import Decision, key_fingerprint, rate_headers
from activations.sandbox.settings import PROVIDERS, ProviderLimits, SandboxSettings, Window

PROVIDER_MODULES = (braze, klaviyo, mailchimp, sendgrid, customerio, infobip, twilio)


class SandboxApp(FastAPI):
    """FastAPI plus the provider gate, which must see the server's own ``send``
    to drop a connection without an answer."""

    sandbox: Sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        provider = scope["path"].split("/", 2)[1] if scope["path"].count("/") >= 1 else ""
        if provider not in self.sandbox.providers:
            await super().__call__(scope, receive, send)
            return
        await self._gate(provider, scope, receive, send)

    async def _gate(self, provider: str, scope: Scope, receive: Receive, send: Send) -> None:
        sb = self.sandbox
        spec = sb.providers[provider]
        arrived = time.time()  # before the body is read: when the client sent the request
        body = await _read_body(receive)
        replay = _replay(body, receive)
        status = {"code": 0}
        extra_headers: dict[str, str] = {}

        async def send_wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                if message["status"] == 429 and fingerprint:
                    sb.pacing_watch.announced(provider, fingerprint, time.time(), {
                        k.decode("latin-1"): v.decode("latin-1")
                        for k, v in message.get("headers", [])})
                if extra_headers and message["status"] != 429:
                    headers = list(message.get("headers", []))
                    headers += [(k.lower().encode(), v.encode()) for k, v in extra_headers.items()]
                    message = {**message, "headers": headers}
            await send(message)

        verdict = sb.faults.decide(provider)
        limits = sb.limits(provider)
        secret = spec.authenticate(Headers(scope=scope), sb.settings.keys.get(provider, ""))
        if secret is None and scope["path"].startswith(spec.public_prefixes):
            secret = "public"
        fingerprint = key_fingerprint(secret) if secret else ""
        if fingerprint:
            sb.pacing_watch.arrived(provider, fingerprint, arrived, scope["path"])
        entered = False
        try:
            if verdict.action == "drop":
                await asyncio.sleep(verdict.latency_s)
                await _drop(send)
                return
            response = None
            if secret is None:
                await asyncio.sleep(verdict.latency_s)
                response = spec.unauthorized()
            else:
                entered = sb.limiter.enter(provider, fingerprint, limits)
                await asyncio.sleep(verdict.latency_s)
                now = time.time()
                if not entered:
                    response = spec.throttled(
                        Decision(False, limits.concurrency, 0, 1.0, now + 1.0))
                elif verdict.action == "storm":
                    window = limits.windows[0] if limits.windows else Window(limit=1, seconds=1)
                    response = spec.throttled(
                        Decision(False, window.limit, 0, window.seconds, now + window.seconds))
                else:
                    decision = sb.limiter.check(provider, fingerprint, limits, now)
                    extra_headers.update(rate_headers(provider, decision))
                    if not decision.allowed:
                        response = spec.throttled(decision)
                    elif verdict.action == "error":
                        response = spec.server_error(verdict.status)
                    elif spec.max_body_bytes and len(body) > spec.max_body_bytes and spec.too_large:
                        response = spec.too_large(len(body))
            if response is not None:
                await response(scope, replay, send_wrapped)
                return
            if sb.config()["job_advance"] == "clock":
                sb.jobs.catch_up()
            await super().__call__(scope, replay, send_wrapped)
        finally:
            if entered:
                sb.limiter.leave(provider, fingerprint, limits)
            sb.store.log_request(
                provider, scope["method"], scope["path"], status["code"], len(body),
                _records(spec.count_records, scope["method"], scope["path"], body),
                sb.now(), sb.settings.request_log_size)


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = {"done": False}

    async def replay() -> Message:
        if not sent["done"]:
            sent["done"] = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _drop(send: Send) -> None:
    """Close the connection without any answer (uvicorn's transport behind ``send``)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise ConnectionAbortedError("sandbox fault: dropped connection")
    transport.close()
    cycle.disconnected = True  # type: ignore[union-attr]
    await asyncio.sleep(0)


def _records(counter: Any, method: str, path: str, body: bytes) -> int | None:
    if not body:
        return None
    try:
        return counter(method, path, json.loads(body))
    except (ValueError, UnicodeDecodeError, TypeError, AttributeError, KeyError):
        return None


class FaultsIn(Faults):
    provider: str = "all"


class LimitsIn(BaseModel):
    provider: str
    windows: list[Window] = Field(default_factory=list)
    concurrency: int | None = None


class ConfigIn(BaseModel):
    webhook_url: str | None = None
    job_advance: Literal["poll", "clock"] | None = None
    job_step_seconds: float | None = Field(default=None, gt=0)


class AdvanceIn(BaseModel):
    seconds: float = Field(ge=0)


class ActionIn(BaseModel):
    email: str
    list: str | None = None


def _check_provider(provider: str, *, allow_all: bool = False) -> None:
    if provider not in PROVIDERS and not (allow_all and provider == "all"):
        raise HTTPException(404, f"unknown provider {provider!r}; one of {', '.join(PROVIDERS)}")


def create_app(settings: SandboxSettings | None = None) -> SandboxApp:
    settings = settings or SandboxSettings()
    sb = Sandbox.open(settings)
    app = SandboxApp(title="ESP sandbox", docs_url="/_sandbox/docs",
                     openapi_url="/_sandbox/openapi.json", redoc_url=None)
    app.sandbox = sb
    app.state.sandbox = sb

    async def provider_reply(request: Any, exc: Exception) -> Any:
        assert isinstance(exc, Reply)
        return exc.response

    app.add_exception_handler(Reply, provider_reply)

    async def unreadable_body(request: Any, exc: Exception) -> Any:
        """A body of the wrong shape that no spec caught: the provider's 400, never a 500
        (a 500 would make a connector retry a request that can never succeed)."""
        spec = sb.providers.get(request.url.path.split("/", 2)[1])
        if spec is None or spec.bad_request is None:
            raise exc
        return spec.bad_request(f"The request body could not be read: {type(exc).__name__}: "
                                f"{exc}")

    for unreadable in (KeyError, TypeError, AttributeError, ValueError, IndexError):
        app.add_exception_handler(unreadable, unreadable_body)
    for module in PROVIDER_MODULES:
        spec = module.build(sb)
        sb.providers[spec.name] = spec
        app.include_router(spec.router, prefix=f"/{spec.name}")

    @app.post("/_sandbox/reset")
    async def reset() -> dict[str, bool]:
        sb.reset()
        return {"ok": True}

    @app.post("/_sandbox/faults")
    async def faults(body: FaultsIn) -> dict[str, Any]:
        _check_provider(body.provider, allow_all=True)
        sb.set_faults(body.provider, Faults.model_validate(body.model_dump(exclude={"provider"})))
        return {"provider": body.provider, **body.model_dump(exclude={"provider"})}

    @app.post("/_sandbox/limits")
    async def limits(body: LimitsIn) -> dict[str, Any]:
        _check_provider(body.provider)
        value = ProviderLimits(windows=body.windows, concurrency=body.concurrency)
        sb.set_limits(body.provider, value)
        return {"provider": body.provider, **value.model_dump()}

    @app.post("/_sandbox/config")
    async def config(body: ConfigIn) -> dict[str, Any]:
        return sb.set_config(body.model_dump(exclude_none=True))

    @app.post("/_sandbox/clock/advance")
    async def advance(body: AdvanceIn) -> dict[str, Any]:
        sb.clock.advance(body.seconds)
        sb.jobs.catch_up()
        return {"now": sb.now()}

    @app.post("/_sandbox/jobs/settle")
    async def settle() -> dict[str, int]:
        return {"settled": sb.jobs.settle()}

    @app.post("/_sandbox/{provider}/{action}")
    async def person_action(provider: str, action: str, body: ActionIn) -> dict[str, Any]:
        _check_provider(provider)
        if action not in ACTIONS:
            raise HTTPException(404, f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
        return await sb.person_action(provider, action, body.email.strip().lower(), body.list)

    @app.get("/_sandbox/state")
    async def state(provider: str | None = None,
                    members: int = Query(default=200, ge=0)) -> dict[str, Any]:
        if provider is not None:
            _check_provider(provider)
        if sb.config()["job_advance"] == "clock":
            sb.jobs.catch_up()
        names = [provider] if provider else list(PROVIDERS)
        return {"providers": {name: sb.providers[name].summarize(sb, members) for name in names}}

    @app.get("/_sandbox/requests")
    async def requests(provider: str | None = None) -> list[dict[str, Any]]:
        return sb.store.requests(provider)

    @app.get("/_sandbox/writes")
    async def writes(provider: str, since: int = Query(default=0, ge=0)) -> list[dict[str, Any]]:
        """Every write a provider accepted and applied, in order (record, content digest)."""
        _check_provider(provider)
        return sb.store.writes(provider, since)

    @app.get("/_sandbox/writes/counts")
    async def write_counts(provider: str) -> list[dict[str, Any]]:
        """Accepted writes per record and content: a count above 1 is the same content
        written again."""
        _check_provider(provider)
        return sb.store.write_counts(provider)

    @app.get("/_sandbox/pacing")
    async def pacing() -> dict[str, Any]:
        """Per provider: 429s that announced a wait, and requests that came before it."""
        return sb.pacing_watch.report()

    @app.get("/_sandbox/webhooks")
    async def webhooks() -> list[dict[str, Any]]:
        return sb.store.webhooks()

    app.include_router(page.router)
    return app
