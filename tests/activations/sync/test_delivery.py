"""Delivery framework: batching, pacing, retries (against a real local HTTP
server, through the providers' one HTTP error path), job polling and the
bounded-concurrency dispatcher."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from activations.contract.records import (
    Limits,
    Outcome,
    PermanentError,
    ProviderSettings,
    Record,
    TransientError,
)
from activations.providers.http import ApiClient, JobTimeout, poll_until, retry_after_from_headers
from activations.sync.delivery.batching import cut_batches
from activations.sync.delivery.dispatch import BatchResult, dispatch
from activations.sync.delivery.pacing import TokenBucket
from activations.sync.delivery.retries import RetriesExhausted, RetryPolicy, call_with_retries


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def rec(i: int, size: int = 10) -> Record:
    return Record(key=str(i), email=f"p{i}@x.io", fields={"pad": "x" * size})


def test_batches_respect_record_and_byte_limits() -> None:
    records = [rec(i, size=i % 7 * 10) for i in range(200)]
    limits = Limits(max_records=30, max_bytes=500, max_record_bytes=400)

    def size(r: Record) -> int:
        return len(r.fields["pad"]) + 5

    batches = list(cut_batches(records, limits, size, envelope_bytes=20))
    assert [r.key for b in batches for r in b.records] == [r.key for r in records]
    for b in batches:
        assert len(b) <= 30
        assert b.bytes <= 500
        assert sum(size(r) for r in b.records) + 20 == b.bytes


def test_oversize_record_comes_out_alone() -> None:
    records = [rec(1), rec(2, size=1000), rec(3)]
    limits = Limits(max_records=10, max_record_bytes=100)
    batches = list(cut_batches(records, limits, lambda r: len(r.fields["pad"])))
    assert [(b.oversize, [r.key for r in b.records]) for b in batches] == [
        (True, ["2"]),
        (False, ["1", "3"]),
    ]


def test_removal_uses_its_own_cap() -> None:
    limits = Limits(max_records=10, remove_max_records=3)
    batches = list(cut_batches([rec(i) for i in range(7)], limits, lambda r: 1, removal=True))
    assert [len(b) for b in batches] == [3, 3, 1]


def test_token_bucket_paces_and_pauses() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10, burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(12):
        bucket.acquire()
    # two from the burst, then ten at 10/s -> one second
    assert clock.now == pytest.approx(1.0)
    bucket.pause(5)
    start = clock.now
    bucket.acquire()
    assert clock.now - start >= 5


def test_retry_after_headers() -> None:
    assert retry_after_from_headers({"Retry-After": "7"}) == 7
    assert (
        retry_after_from_headers({"retry-after": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480)
        == 10
    )
    assert retry_after_from_headers({"X-RateLimit-Reset": "1700000030"}, now=1700000000) == 30
    assert retry_after_from_headers({"RateLimit-Reset": "4"}) == 4
    assert retry_after_from_headers({"Content-Type": "x"}) is None


class _Flaky(BaseHTTPRequestHandler):
    script: list[tuple[int, dict[str, str]]] = []
    hits = 0

    def do_POST(self) -> None:  # noqa: N802
        cls = type(self)
        status, headers = cls.script[min(cls.hits, len(cls.script) - 1)]
        cls.hits += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        body = b'{"error": "secret-key-123 is not allowed"}' if status == 401 else b"{}"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def flaky_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Flaky.hits = 0
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_retries_honour_retry_after_then_succeed(flaky_server: str) -> None:
    _Flaky.script = [(429, {"Retry-After": "3"}), (503, {}), (200, {})]
    clock = FakeClock()
    bucket = TokenBucket(rate=None, clock=clock, sleep=clock.sleep)
    client = ApiClient("test", ProviderSettings(base_url=flaky_server, api_key="k" * 8))
    with client.client:
        response = call_with_retries(
            lambda: client.request("POST", "/batch", body=[1]),
            policy=RetryPolicy(attempts=5, initial=0.5, jitter=0),
            limiter=bucket,
            sleep=clock.sleep,
        )
    assert response.status_code == 200
    assert _Flaky.hits == 3
    assert clock.slept[0] == 3  # the server's wait, not the backoff


def test_permanent_error_is_not_retried_and_hides_the_key(flaky_server: str) -> None:
    _Flaky.script = [(401, {})]
    client = ApiClient("test", ProviderSettings(base_url=flaky_server, api_key="secret-key-123"))
    with client.client, pytest.raises(PermanentError) as info:
        call_with_retries(
            lambda: client.request("POST", "/batch"),
            sleep=lambda s: None,
        )
    assert _Flaky.hits == 1
    assert "secret-key-123" not in str(info.value)
    assert "401" in str(info.value)


def test_connection_refused_is_transient_and_exhausts() -> None:
    slept: list[float] = []
    settings = ProviderSettings(base_url="http://127.0.0.1:9", api_key="k" * 8, timeout=1)
    client = ApiClient("test", settings)
    with client.client:
        with pytest.raises(RetriesExhausted, match="connection failed"):
            call_with_retries(
                lambda: client.request("POST", "/x"),
                policy=RetryPolicy(attempts=3, initial=0.1, jitter=0.1),
                sleep=slept.append,
            )
    assert len(slept) == 2 and slept[1] >= slept[0] * 0.5


def test_poll_until_backs_off_and_times_out() -> None:
    clock = FakeClock()
    states = iter(["queued", "running", "running", "done"])
    assert (
        poll_until(
            lambda: next(states),
            lambda s: s == "done",
            interval=1,
            backoff=2,
            clock=clock,
            sleep=clock.sleep,
        )
        == "done"
    )
    assert clock.slept == [1, 2, 4]
    with pytest.raises(JobTimeout):
        poll_until(lambda: "running", lambda s: False, timeout=10, clock=clock, sleep=clock.sleep)


def test_dispatch_bounded_concurrency_and_partial_outcomes() -> None:
    in_flight = 0
    peak = 0
    lock = threading.Lock()

    def send(batch):
        nonlocal in_flight, peak
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        time.sleep(0.01)
        with lock:
            in_flight -= 1
        # reject odd keys, answer nothing for keys ending in 4
        return [
            Outcome(r.key, "rejected" if int(r.key) % 2 else "confirmed", reason="bad")
            for r in batch
            if not r.key.endswith("4")
        ]

    results: list[BatchResult] = []
    records = [rec(i) for i in range(100)]
    dispatch(
        cut_batches(records, Limits(max_records=7), lambda r: 1),
        send,
        results.append,
        concurrency=3,
    )
    assert peak <= 3
    answered = {o.key for r in results for o in r.outcomes}
    missing = {m.key for r in results for m in r.missing}
    assert answered | missing == {r.key for r in records}
    assert missing == {str(i) for i in range(100) if str(i).endswith("4")}


def test_dispatch_stops_on_permanent_error_after_inflight_batches() -> None:
    calls = 0
    done: list[BatchResult] = []

    def send(batch):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise PermanentError("401 unauthorized")
        return [Outcome(r.key, "confirmed") for r in batch]

    with pytest.raises(PermanentError):
        dispatch(
            cut_batches([rec(i) for i in range(50)], Limits(max_records=5), lambda r: 1),
            send,
            done.append,
        )
    assert calls == 2 and len(done) == 1


def test_transient_error_carries_retry_after() -> None:
    err = TransientError("slow down", retry_after=2.5, status=429)
    assert err.retry_after == 2.5 and err.status == 429
