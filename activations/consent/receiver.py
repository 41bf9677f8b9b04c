"""The inbound hook receiver: one small FastAPI app that takes each ESP's
reporting webhooks at ``POST /hooks/{provider}``, checks them with that
provider's own signature scheme, reads them with its hook parser (both in
``activations.providers.<name>.hooks``, named in the provider registry) and
lands them in ``raw.consents`` and ``raw.email_events`` (see
``activations.consent.landing``).

What a delivery must pass, in order (the answer when it does not):

- a provider the receiver knows (404);
- the shared ``token`` when one is configured (``?token=`` or ``X-Webhook-Token``; 401);
- the provider's own scheme with the secret configured for it (401); a provider
  with no secret is refused (401) unless the receiver was built with
  ``allow_unsigned`` (local experiments only: the command refuses it on a
  non-loopback interface);
- not a replay: a signed timestamp within ``hook_auth.TOLERANCE_SECONDS`` of the
  clock, and a signature not already taken (409);
- at most ``max_body_bytes`` (413, read no further);
- a body of the provider's shape (400) whose event times are plausible: not before
  2000, not more than an hour ahead of the clock (422; nothing of the delivery lands).

The warehouse file is opened per batch of deliveries and closed right after, so
the receiver never holds DuckDB's single-writer lock while idle. Deliveries that
arrive together are landed by one writer in one transaction (``land_many``), on a
connection kept open while a burst lasts (at most ``HOLD_SECONDS``): a burst costs
a few opens and commits, not one per post. When another process holds the lock (a
dbt build), the answer is ``503`` with ``Retry-After`` and the ESP delivers again
later (every ESP retries failed webhooks). Landing is idempotent, so a retried
delivery adds nothing twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from activations.consent.landing import Landed, land, land_many
from activations.contract.signals import Signal
from activations.errors import UserError
from activations.providers.hook_auth import TOLERANCE_SECONDS, Delivery, Unverified
from activations.providers.registry import (
    EMAIL_PROVIDERS,
    HookParser,
    HookVerifier,
    hook_parser,
    hook_secret_variable,
    hook_verifier,
)
from activations.warehouse.connections import connect

#: the largest body taken (ESPs batch well below it: SendGrid posts up to ~768 KB)
MAX_BODY_BYTES = 2 * 1024 * 1024
#: event times outside [EARLIEST, clock + FUTURE_SKEW] are refused (422)
EARLIEST = dt.datetime(2000, 1, 1)
FUTURE_SKEW = dt.timedelta(hours=1)
#: deliveries landed in one transaction at most
BATCH = 200
#: how long the writer keeps the warehouse open while deliveries keep coming (seconds)
HOLD_SECONDS = 2.0
PARSE_ERRORS = (ValueError, AttributeError, TypeError, KeyError, RecursionError, OverflowError)


def _error(message: str, status: int, **headers: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers or None)


class _Writer:
    """One writer for the warehouse: deliveries queue up, and each turn lands all
    that are waiting (up to ``BATCH``) in one transaction. The connection stays open
    while deliveries keep coming (at most ``HOLD_SECONDS``), then is closed, so the
    lock is free whenever the receiver is idle."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.queue: asyncio.Queue[tuple[list[Signal], asyncio.Future[Landed]]] | None = None
        self.task: asyncio.Task[None] | None = None

    async def land(self, signals: list[Signal]) -> Landed:
        if self.queue is None or self.task is None or self.task.done():
            self.queue = asyncio.Queue()
            self.task = asyncio.get_running_loop().create_task(self._work(self.queue))
        future: asyncio.Future[Landed] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait((signals, future))
        return await future

    async def _work(self, queue: asyncio.Queue[Any]) -> None:
        while True:
            batch = [await queue.get()]
            try:
                conn = await run_in_threadpool(connect, self.target)
            except UserError as exc:
                batch += [queue.get_nowait() for _ in range(queue.qsize())]
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            opened = time.monotonic()
            closed = False
            try:
                while True:
                    while not queue.empty() and len(batch) < BATCH:
                        batch.append(queue.get_nowait())
                    outcomes = await run_in_threadpool(
                        self._land_batch, conn, [s for s, _ in batch]
                    )
                    last = queue.empty() or time.monotonic() - opened > HOLD_SECONDS
                    if last:  # closed before answering: an answered sender finds it free
                        closed = True
                        await run_in_threadpool(conn.close)
                    for (_, future), outcome in zip(batch, outcomes, strict=True):
                        if future.done():
                            continue
                        if isinstance(outcome, BaseException):
                            future.set_exception(outcome)
                        else:
                            future.set_result(outcome)
                    if last:
                        break
                    batch = [queue.get_nowait()]
            finally:
                if not closed:
                    await run_in_threadpool(conn.close)

    @staticmethod
    def _land_batch(conn: Any, batches: list[list[Signal]]) -> list[Landed | BaseException]:
        try:
            return list(land_many(conn, batches))
        except Exception:  # noqa: BLE001 (then one by one: a bad one fails alone)
            outcomes: list[Landed | BaseException] = []
            for signals in batches:
                try:
                    outcomes.append(land(conn, signals))
                except Exception as exc:  # noqa: BLE001 (answered 500 for it only)
                    outcomes.append(exc)
            return outcomes


class _Replays:
    """Replay keys (signatures) taken, kept while their timestamp could still pass."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], float] = {}

    def take(self, provider: str, key: str, now: float) -> bool:
        """False when ``key`` was already taken (a replay)."""
        if len(self.seen) > 10_000:
            self.seen = {k: until for k, until in self.seen.items() if until > now}
        if self.seen.get((provider, key), 0.0) > now:
            return False
        self.seen[(provider, key)] = now + 2 * TOLERANCE_SECONDS
        return True

    def forget(self, provider: str, key: str) -> None:
        self.seen.pop((provider, key), None)


def create_app(
    warehouse: Path | str,
    *,
    secrets: Mapping[str, str] | None = None,
    token: str | None = None,
    allow_unsigned: bool = False,
    max_body_bytes: int = MAX_BODY_BYTES,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """``warehouse``: a DuckDB file path, or a PostgreSQL URL / conninfo. ``secrets``:
    provider -> verification secret (see ``activations.providers.<name>.hooks``)."""
    app = FastAPI(title="activations webhook receiver", docs_url=None, redoc_url=None)
    secrets = {name: value for name, value in (secrets or {}).items() if value}
    writer = _Writer(str(warehouse))
    replays = _Replays()
    parsers: dict[str, HookParser] = {
        name: parser for name in EMAIL_PROVIDERS if (parser := hook_parser(name)) is not None
    }
    verifiers: dict[str, HookVerifier] = {
        name: verifier for name in parsers if (verifier := hook_verifier(name)) is not None
    }

    def token_ok(request: Request) -> bool:
        if not token:
            return True
        given = request.query_params.get("token") or request.headers.get("x-webhook-token") or ""
        return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))

    @app.get("/health")
    def health() -> dict[str, object]:
        return {
            "ok": True,
            "providers": sorted(parsers),
            "verified": sorted(p for p in parsers if p in secrets),
        }

    @app.get("/hooks/{provider}")
    def check(provider: str) -> JSONResponse:
        # Mailchimp (and others) check that the URL answers before they use it
        if provider not in parsers:
            return _error(f"unknown provider {provider!r}", 404)
        return JSONResponse({"ok": True})

    async def read_body(request: Request) -> bytes | None:
        """The body, or None once it is longer than ``max_body_bytes``."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    @app.post("/hooks/{provider}")
    async def receive(provider: str, request: Request) -> JSONResponse:
        if provider not in parsers:
            known = ", ".join(sorted(parsers))
            return _error(f"unknown provider {provider!r}; use one of {known}", 404)
        if not token_ok(request):
            return _error("missing or wrong webhook token", 401)
        secret = secrets.get(provider)
        if not secret and not allow_unsigned:
            return _error(
                f"{provider} webhooks are refused: no verification secret is configured "
                f"(set {hook_secret_variable(provider)})",
                401,
            )
        body = await read_body(request)
        if body is None:
            return _error(f"body larger than {max_body_bytes} bytes", 413)
        now = clock()
        replay_key: str | None = None
        if secret:
            delivery = Delivery(body, request.headers, request.query_params)
            try:
                replay_key = verifiers[provider](delivery, secret, now)
            except Unverified as exc:
                return _error(f"{provider} webhook not verified: {exc}", 401)
            if replay_key is not None and not replays.take(provider, replay_key, now):
                return _error(f"{provider} webhook already received (a replay)", 409)
        try:
            signals = parsers[provider](body, request.headers.get("content-type", ""))
            implausible = _implausible(signals, now)
        except PARSE_ERRORS as exc:
            if replay_key is not None:
                replays.forget(provider, replay_key)
            return _error(f"{provider} webhook not understood: {exc}"[:500], 400)
        if implausible:
            if replay_key is not None:
                replays.forget(provider, replay_key)
            return _error(f"{provider} webhook refused: {implausible}", 422)
        if not signals:
            return JSONResponse({"received": 0, "consents": 0, "email_events": 0})
        try:
            landed = await writer.land(signals)
        except UserError as exc:
            if replay_key is not None:
                replays.forget(provider, replay_key)  # the ESP's retry must get through
            return _error(str(exc).splitlines()[0], 503, **{"Retry-After": "5"})
        except Exception:
            if replay_key is not None:
                replays.forget(provider, replay_key)
            raise
        return JSONResponse(
            {
                "received": landed.seen,
                "consents": landed.consents,
                "email_events": landed.email_events,
            }
        )

    return app


def _implausible(signals: list[Signal], now: float) -> str:
    """Why the events' times cannot be taken (empty when they can): an unsubscribe
    dated 1970 or next year would be landed and then silently lose to any other change."""
    latest = dt.datetime.fromtimestamp(now, dt.UTC).replace(tzinfo=None) + FUTURE_SKEW
    for index, signal in enumerate(signals):
        when = signal.occurred_at
        if when < EARLIEST or when > latest:
            return (
                f"event {index} ({signal.kind}) is dated {when.isoformat(sep=' ')}, "
                f"outside {EARLIEST:%Y-%m-%d} .. now + {int(FUTURE_SKEW.total_seconds() // 60)}"
                " min; fix the sender's clock or the event time"
            )
    return ""
