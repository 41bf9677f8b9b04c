"""A signed JSON webhook: the generic HTTP destination.

Each batch is one ``POST`` of ``{"sync_destination", "operation", "records"}``
to ``base_url + destination`` (or to ``destination`` when it is a full URL),
signed with HMAC-SHA256 over ``"<timestamp>.<body>"`` using the API key as the
secret: headers ``X-Activations-Timestamp`` and
``X-Activations-Signature: sha256=<hex>``. The receiver answers 2xx with
``{"results": [{"key", "status": "confirmed"|"rejected", "id", "reason"}]}``
for per-record outcomes; a 2xx without ``results`` confirms the whole batch.
429/5xx are retried (``Retry-After`` and rate-limit reset headers honoured);
other statuses (3xx included) stop the run, and so does a 2xx whose body is
neither empty nor JSON (a login page is not a delivery).

Options: ``max_records`` (1000), ``max_bytes`` (5 MB), ``requests_per_second``,
``concurrency`` (2).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from activations.contract.records import (
    DeliveryReport,
    Limits,
    Outcome,
    PermanentError,
    ProviderSettings,
    Record,
)
from activations.providers.http import ApiClient, any_retry_after

SIGNATURE_HEADER = "X-Activations-Signature"
TIMESTAMP_HEADER = "X-Activations-Timestamp"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature or "")


def _default(value: Any) -> Any:
    if type(value) is Decimal:  # the usual case (numeric columns): no isoformat, its text
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


# one encoder for every record (json.dumps with ``default`` builds a new one per call);
# ASCII-only output, so a record's length in characters is its length in bytes
_ENCODER = json.JSONEncoder(default=_default)

try:  # orjson (when installed) encodes a record several times faster: UTF-8 bytes
    import orjson

    def _dumps(value: dict[str, Any]) -> bytes:
        try:
            return orjson.dumps(value, default=_default)
        except TypeError:  # integers past 64 bits: ask json
            return _ENCODER.encode(value).encode()

except ImportError:  # pragma: no cover - orjson is optional

    def _dumps(value: dict[str, Any]) -> bytes:
        return _ENCODER.encode(value).encode()


def encode_record(record: Record) -> dict[str, Any]:
    return {
        "key": record.key,
        "email": record.email,
        "fields": dict(record.fields),
        "hash": record.hash,
        "idempotency_key": record.idempotency_key,
    }


class WebhookProvider:
    name = "webhook"

    def __init__(self, settings: ProviderSettings):
        options = dict(settings.options)
        self.settings = settings
        self.limits = Limits(
            max_records=int(options.get("max_records", 1000)),
            max_bytes=int(options.get("max_bytes", 5_000_000)),
            requests_per_second=options.get("requests_per_second"),
            burst=int(options.get("burst", 1)),
            concurrency=int(options.get("concurrency", 2)),
        )
        self.report = DeliveryReport()
        self._encoded: dict[str, bytes] = {}
        self._lock = threading.Lock()
        self.http = ApiClient(
            "webhook",
            settings,
            retry_after=any_retry_after,
            max_connections=max(self.limits.concurrency, 1),
            report=self.report,
        )

    def close(self) -> None:
        self.http.close()

    def record_size(self, record: Record) -> int:
        # encoded once (bytes, as sent): kept until the batch holding the record is
        # posted (one dict assignment, atomic: the posting threads pop under the lock)
        data = _dumps(encode_record(record))
        self._encoded[record.key] = data
        return len(data) + 1

    def _post(self, destination: str, operation: str, batch: Sequence[Record]) -> list[Outcome]:
        with self._lock:
            parts = [self._encoded.pop(r.key, None) or _dumps(encode_record(r)) for r in batch]
        head = json.dumps({"destination": destination, "operation": operation})[:-1]
        body = head.encode() + b', "records": [' + b",".join(parts) + b"]}"
        timestamp = str(int(time.time()))
        headers = {
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self.settings.api_key, timestamp, body),
        }
        response = self.http.request("POST", destination, content=body, headers=headers)
        try:
            answer = response.json() if response.content.strip() else {}
        except ValueError:
            raise PermanentError(
                f"webhook POST {destination} answered {response.status_code} with a body that "
                "is not JSON (a login page or a proxy?): nothing is confirmed; check the URL"
            ) from None
        results = answer.get("results") if isinstance(answer, dict) else None
        if results is None:
            return [Outcome(key=r.key, status="confirmed") for r in batch]
        if not isinstance(results, list):
            raise PermanentError("webhook answered `results` that is not a list")
        # positional (key, status, destination_id, reason, retryable): one per record
        return [
            Outcome(
                str(item.get("key")),
                "confirmed" if item.get("status") == "confirmed" else "rejected",
                item.get("id"),
                item.get("reason"),
                bool(item.get("retryable", True)),
            )
            for item in results
            if isinstance(item, dict)
        ]

    def upsert(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._post(destination, "upsert", batch)

    def remove(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._post(destination, "remove", batch)

    def send_events(self, destination: str, batch: Sequence[Record]) -> list[Outcome]:
        return self._post(destination, "event", batch)
