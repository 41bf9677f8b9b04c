"""A receiver for the signed webhook destination: verifies the signature,
appends every record it accepted to a JSON-lines log, and answers per-record
outcomes. Used by the demo, the tests and the benchmarks as "the other side";
faults (rejected keys, 5xx every N requests, latency, a storm of 429s with
``Retry-After``, dropped connections) are configurable, and the waits it
announced are watched (``SinkServer.pacing()``: requests that came too early).

    python -m activations.sandbox.webhook_sink --port 8765 --log sink.jsonl
    (the signing secret is read from WEBHOOK_SECRET)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import Message, Receive, Scope, Send

from activations.sandbox.limits import PacingWatch

#: the signed webhook's documented headers (``activations.providers.webhook.connector``): the
#: receiver checks them on its own, as a customer's endpoint would
SIGNATURE_HEADER = "X-Activations-Signature"
TIMESTAMP_HEADER = "X-Activations-Timestamp"


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """``signature`` is ``sha256=<hex>`` of HMAC-SHA256 over ``"<timestamp>.<body>"``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest("sha256=" + digest.hexdigest(), signature or "")


@dataclass
class Faults:
    reject_keys: set[str] = field(default_factory=set)  # answered rejected, never stored
    fail_every: int = 0  # every Nth request answers 503 (after storing nothing)
    retry_after: float | None = None  # sent with those 503s
    delay: float = 0.0  # seconds before answering
    storm: int = 0  # the next N requests answer 429 with Retry-After: storm_retry_after
    storm_retry_after: float = 0.2
    drop_every: int = 0  # every Nth request has its connection closed with no answer


class Gate:
    """The sink's transport faults, before the app: 429 storms, dropped connections;
    and the pacing watch (a 429 or 503 with ``Retry-After`` announces a wait)."""

    def __init__(self, app: FastAPI, faults: Faults, watch: PacingWatch) -> None:
        self.app, self.faults, self.watch = app, faults, watch
        self.lock = threading.Lock()
        self.requests = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.watch.arrived("webhook", "sink", time.time(), scope["path"])
        with self.lock:
            self.requests += 1
            n = self.requests
            storm = self.faults.storm > 0
            if storm:
                self.faults.storm -= 1
        if self.faults.drop_every and n % self.faults.drop_every == 0:
            cycle = getattr(send, "__self__", None)
            transport = getattr(cycle, "transport", None)
            if transport is not None:
                transport.close()
                cycle.disconnected = True  # type: ignore[union-attr]
                return

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (429, 503):
                headers = {k.decode("latin-1"): v.decode("latin-1")
                           for k, v in message.get("headers", [])}
                self.watch.announced("webhook", "sink", time.time(), headers)
            await send(message)

        if storm:
            wait = str(self.faults.storm_retry_after)
            response = JSONResponse({"error": "slow down"}, status_code=429,
                                    headers={"Retry-After": wait})
            await response(scope, receive, watched)
            return
        await self.app(scope, receive, watched)


def make_app(
    secret: str, log: Path, faults: Faults | None = None, unsigned_prefix: str | None = None
) -> FastAPI:
    """``unsigned_prefix`` (benchmarks only): posts under that path are stored
    without a signature check, for peers that cannot sign (docs/peers.md)."""
    app = FastAPI()
    faults = faults or Faults()
    # the log exists from the start: empty means nothing was delivered (not "never ran")
    log.parent.mkdir(parents=True, exist_ok=True)
    log.touch()
    lock = threading.Lock()
    state = {"requests": 0}

    @app.post("/{path:path}")
    async def receive(path: str, request: Request) -> JSONResponse:
        body = await request.body()
        unsigned = unsigned_prefix is not None and ("/" + path).startswith(unsigned_prefix)
        if not unsigned and not verify(
            secret,
            request.headers.get(TIMESTAMP_HEADER, ""),
            body,
            request.headers.get(SIGNATURE_HEADER, ""),
        ):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        with lock:
            state["requests"] += 1
            n = state["requests"]
        if faults.delay:
            time.sleep(faults.delay)
        if faults.fail_every and n % faults.fail_every == 0:
            headers = {"Retry-After": str(faults.retry_after)} if faults.retry_after else {}
            return JSONResponse({"error": "try again"}, status_code=503, headers=headers)
        payload: dict[str, Any] = json.loads(body)
        results = []
        lines = []
        for record in payload.get("records", []):
            key = str(record.get("key"))
            if key in faults.reject_keys:
                results.append({"key": key, "status": "rejected", "reason": "refused by sink"})
                continue
            lines.append(
                json.dumps(
                    {
                        "path": "/" + path,
                        "operation": payload.get("operation"),
                        "key": key,
                        "hash": record.get("hash"),
                        "fields": record.get("fields"),
                        "idempotency_key": record.get("idempotency_key"),
                    }
                )
            )
            results.append({"key": key, "status": "confirmed", "id": f"wh_{key}"})
        if lines:
            with lock, open(log, "a") as fh:
                fh.write("\n".join(lines) + "\n")
                fh.flush()
        return JSONResponse({"results": results})

    return app


def read_log(log: Path) -> list[dict[str, Any]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


class SinkServer:
    """The sink on a free loopback port, in a background thread."""

    def __init__(self, secret: str, log: Path, faults: Faults | None = None):
        self.log = log
        self.faults = faults or Faults()
        self.watch = PacingWatch()
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            Gate(make_app(secret, log, self.faults), self.faults, self.watch),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
            access_log=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SinkServer:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("webhook sink did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def received(self) -> list[dict[str, Any]]:
        return read_log(self.log)

    def pacing(self) -> dict[str, Any]:
        """``{announced, early, early_requests}``: the waits this sink asked for (429 or
        503 with ``Retry-After``) and the requests that came before them."""
        return self.watch.report().get("webhook", {"announced": 0, "early": 0,
                                                   "early_requests": []})


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--log", type=Path, default=Path("webhook-sink.jsonl"))
    parser.add_argument(
        "--accept-unsigned",
        metavar="PREFIX",
        help="benchmarks only: store posts under this path prefix without a signature check",
    )
    args = parser.parse_args()
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret:
        raise SystemExit("set WEBHOOK_SECRET to the signing secret of the sync")
    app = make_app(secret, args.log, unsigned_prefix=args.accept_unsigned)
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
