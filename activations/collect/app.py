"""The event collector: Segment's HTTP Tracking API on the webhook receiver's
ASGI stack (FastAPI, uvicorn), landing calls in ``raw.events`` and
``raw.identifies`` through micro-batches (``activations.collect.store``).

Routes: ``POST /v1/track`` (``/v1/t``), ``/v1/identify`` (``/v1/i``),
``/v1/page`` (``/v1/p``), ``/v1/batch`` (``/v1/import``); ``GET /health``.

Answers, as Segment's:

- ``200 {"success": true}`` once every call of the request is committed.
- ``401`` without a configured write key (HTTP Basic username, empty
  password; or ``writeKey`` in the body). Nothing is stored.
- ``400 {"success": false, "message": ...}`` for invalid JSON, a call over
  32 KB or a batch over 500 KB / 2,500 calls (``Exceed payload limit``), or a
  call that cannot land (no userId/anonymousId, a track without event, ...).
  Each refused call is kept in ``raw.collector_rejects`` with the reason. In a
  batch, the valid calls land and the answer (400) lists the refused ones.
- ``503`` with ``Retry-After`` when the warehouse could not take the batch
  (locked, down) or too many calls wait: nothing was acknowledged, the client
  sends again (Segment's libraries retry 5xx) and ``messageId`` keeps it single.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from activations.collect.segment import (
    MAX_BATCH_BYTES,
    MAX_BATCH_CALLS,
    MAX_CALL_BYTES,
    PAYLOAD_LIMIT,
    Invalid,
    Rows,
    dumps,
    loads,
    message_id_of,
    now_utc,
    parse_time,
    to_rows,
)
from activations.collect.store import Batcher, Overloaded, Store, Unavailable

ROUTES = {
    "track": "track",
    "t": "track",
    "identify": "identify",
    "i": "identify",
    "page": "page",
    "p": "page",
    "batch": None,
    "import": None,
}
REFUSED_TYPES = ("screen", "s", "group", "g", "alias", "a")
OK = {"success": True}


def _answer(status: int, message: str, **extra: Any) -> JSONResponse:
    headers = {"Retry-After": "2"} if status == 503 else None
    if status == 401:
        headers = {"WWW-Authenticate": 'Basic realm="write key"'}
    return JSONResponse({"success": False, "message": message, **extra}, status, headers=headers)


class TooLarge(Exception):
    pass


async def _read(request: Request, limit: int) -> bytes:
    """The body, stopping as soon as it passes ``limit`` (gzip is inflated up to it)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"{PAYLOAD_LIMIT}: {int(declared):,} bytes > {limit // 1024} KB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"{PAYLOAD_LIMIT}: more than {limit // 1024} KB")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() in ("gzip", "x-gzip"):
        inflate = zlib.decompressobj(wbits=31)
        try:
            body = inflate.decompress(body, limit + 1)
        except zlib.error:
            raise Invalid("Invalid gzip body") from None
        if len(body) > limit:
            raise TooLarge(f"{PAYLOAD_LIMIT}: more than {limit // 1024} KB once inflated")
    return body


def _basic_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


def create_app(
    warehouse: str | None,
    *,
    write_keys: Sequence[str],
    max_batch_calls: int = 2000,
    max_batch_wait: float = 0.01,
    dedupe_window: timedelta = timedelta(hours=24),
    idle_release: float | None = 1.0,
) -> FastAPI:
    """``warehouse``: a DuckDB file path or a PostgreSQL URL (None: the default
    warehouse, ``ACTIVATIONS_WAREHOUSE`` or ``DUCKDB_PATH``)."""
    keys = [k.encode() for k in write_keys if k]
    if not keys:
        raise ValueError("the collector needs at least one write key")
    store = Store(warehouse, dedupe_window=dedupe_window)
    batcher = Batcher(
        store, max_calls=max_batch_calls, max_wait=max_batch_wait, idle_release=idle_release
    )
    last_received = [datetime.min]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await batcher.start()
        try:
            yield
        finally:
            await batcher.stop()

    app = FastAPI(
        title="activations event collector", docs_url=None, redoc_url=None, lifespan=lifespan
    )
    app.state.batcher = batcher

    def known(key: str | None) -> bool:
        given = (key or "").encode()
        return bool(given) and any(hmac.compare_digest(given, k) for k in keys)

    def received() -> datetime:
        # never backwards: received_at is the load cursor, batches commit in this order
        moment = max(now_utc(), last_received[0])
        last_received[0] = moment
        return moment

    async def land(rows: Rows, endpoint: str, at: datetime) -> JSONResponse | None:
        try:
            await batcher.submit(rows, endpoint, at)
        except Overloaded as exc:
            return _answer(503, f"collector busy: {exc}; retry")
        except Unavailable as exc:
            return _answer(503, f"warehouse unavailable: {exc}; retry")
        return None

    @app.get("/health")
    def health() -> dict[str, object]:
        return {"ok": True, "batches": batcher.landed_batches}

    @app.post("/v1/{route}")
    async def collect(route: str, request: Request) -> JSONResponse:
        endpoint = f"/v1/{route}"
        if route not in ROUTES and route not in REFUSED_TYPES:
            return JSONResponse({"success": False, "message": f"no route {endpoint}"}, 404)
        header_key = _basic_key(request)
        if header_key is not None and not known(header_key):
            return _answer(401, "Invalid write key")
        is_batch = route in ROUTES and ROUTES[route] is None
        limit = MAX_BATCH_BYTES if is_batch else MAX_CALL_BYTES
        at = received()
        rows = Rows()
        try:
            body = await _read(request, limit)
        except TooLarge as exc:
            if header_key is None:  # whose call it is cannot be known: nothing is kept
                return _answer(400, PAYLOAD_LIMIT)
            rows.rejects.append((None, str(exc), ""))
            return await land(rows, endpoint, at) or _answer(400, PAYLOAD_LIMIT)
        except Invalid as exc:
            body, bad = b"", exc
        else:
            bad: Invalid | None = None
        text = body.decode("utf-8", "replace")[:MAX_CALL_BYTES]
        payload: Any = None
        if bad is None:
            try:
                payload = loads(body)
            except Invalid as exc:
                bad = exc
        if header_key is None:  # Segment also takes the key in the body
            body_key = payload.get("writeKey") if isinstance(payload, dict) else None
            if not known(body_key if isinstance(body_key, str) else None):
                return _answer(401, "Invalid write key")
        if bad is None and route in REFUSED_TYPES:
            bad = Invalid(f"type {route!r} is not collected (track, identify and page are)")
        if bad is None and not isinstance(payload, dict):
            bad = Invalid("the body must be a JSON object")
        if bad is not None:
            rows.rejects.append((message_id_of(payload), bad.reason, text))
            return await land(rows, endpoint, at) or _answer(400, bad.reason)
        refused: list[dict[str, Any]] = []
        if not is_batch:
            try:
                to_rows(payload, ROUTES[route], at, rows)
            except Invalid as exc:
                rows.rejects.append((exc.message_id, exc.reason, text))
                return await land(rows, endpoint, at) or _answer(400, exc.reason)
            return await land(rows, endpoint, at) or JSONResponse(OK)
        calls = payload.get("batch")
        if not isinstance(calls, list):
            rows.rejects.append((None, "batch must be an array of calls", text))
            return await land(rows, endpoint, at) or _answer(400, "batch must be an array")
        if len(calls) > MAX_BATCH_CALLS:
            reason = f"{PAYLOAD_LIMIT}: {len(calls):,} calls > {MAX_BATCH_CALLS:,} per batch"
            rows.rejects.append((None, reason, text))
            return await land(rows, endpoint, at) or _answer(400, reason)
        try:
            sent_at = parse_time(payload.get("sentAt"), "sentAt")
            context = payload.get("context")
            if context is not None and not isinstance(context, dict):
                raise Invalid("context must be an object")
        except Invalid as exc:
            rows.rejects.append((None, exc.reason, text))
            return await land(rows, endpoint, at) or _answer(400, exc.reason)
        for index, call in enumerate(calls):
            try:
                if len(dumps(call).encode()) > MAX_CALL_BYTES:
                    raise Invalid(f"{PAYLOAD_LIMIT}: a call over {MAX_CALL_BYTES // 1024} KB")
                to_rows(call, None, at, rows, batch_sent_at=sent_at, batch_context=context)
            except Invalid as exc:
                mid = exc.message_id or message_id_of(call)
                rows.rejects.append((mid, exc.reason, dumps(call)[:MAX_CALL_BYTES]))
                refused.append({"index": index, "messageId": mid, "message": exc.reason})
        problem = await land(rows, endpoint, at)
        if problem is not None:
            return problem
        if refused:
            first = refused[0]["message"]
            return _answer(
                400,
                f"{len(refused)} of {len(calls)} calls refused (first: {first}); the others landed",
                accepted=len(calls) - len(refused),
                refused=refused,
            )
        return JSONResponse(OK)

    return app
